"""Issue 9's story over HTTP against `make dev`: an approved organisation is registered on
Peppol for sending, then for receiving (the default document types), then receiving is
turned off; the worker carries every job out on the local queue against an SMP, with nobody
acting but the user. Once against `make dev`'s own SMP sandbox, once against an external SMP
given by SMP_BASE_URL; and a queue outage at approval that the outbox sweeper makes up for."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from infra.local.smp_sandbox import SmpSandbox
from tests.e2e.conftest import RunningPlatform, start_platform, stop_platform

SmpState = Callable[[], dict[str, Any]]


@pytest.fixture(scope="module")
def external_smp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningPlatform, SmpState]]:
    """A second `make dev`, told to use another SMP (with its own SML and DNS server)."""
    sandbox = SmpSandbox().start()
    running, process = start_platform(tmp_path_factory.mktemp("external-smp"), **sandbox.environment())
    yield running, sandbox.state
    stop_platform(running, process)
    sandbox.stop()


def _own_smp(platform: RunningPlatform) -> SmpState:
    url = platform.state()["smp_url"]
    return lambda: httpx.get(f"{url}/_sandbox/state", timeout=5, trust_env=False).json()  # type: ignore[no-any-return]


def _wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {check}")
        time.sleep(0.2)


class Story:
    """An admin with an organisation that an operator approved, on one running platform."""

    def __init__(self, platform: RunningPlatform) -> None:
        self.platform = platform
        self.http = platform.http
        _, tokens = platform.new_account("peppol")
        self.owner = {"Authorization": f"Bearer {tokens['id_token']}"}
        staff_name, _ = platform.new_account("peppolstaff")
        made = platform.make_operator(staff_name)
        assert made.returncode == 0, made.stderr
        self.staff = {"Authorization": f"Bearer {platform.login(staff_name)['id_token']}"}
        self.environment_id = self.http.get("/environment", headers=self.owner).json()["id"]
        oin = f"{uuid.uuid4().int % 10**20:020d}"
        created = self.http.post(
            "/organisations",
            json={
                "name": "Peppol Story BV",
                "country": "NL",
                "address": {"street": "Hoofdstraat 1", "postal_code": "1234AB", "city": "Utrecht"},
                "identifiers": [{"scheme": "0190", "value": oin}],
            },
            headers=self.owner,
        )
        assert created.status_code == 201, created.text
        self.organisation_id = created.json()["id"]
        self.participant = f"0190:{oin}"
        self.path = f"/organisations/{self.organisation_id}"
        asked = self.http.post(
            f"{self.path}/activation", json={"method": "manual_review"}, headers=self.owner
        )
        assert asked.status_code == 202

    def approve(self) -> None:
        approved = self.http.post(
            f"/admin/organisations/{self.organisation_id}/activation/approve", json={}, headers=self.staff
        )
        assert approved.status_code == 200 and approved.json()["status"] == "active", approved.text

    def participant_state(self) -> dict[str, Any]:
        found = self.http.get(f"{self.path}/peppol", headers=self.owner)
        assert found.status_code == 200, found.text
        return {p["participant_id"]: p for p in found.json()["participants"]}[self.participant]

    def job(self, job_id: str) -> dict[str, Any]:
        found = self.http.get(f"/peppol/jobs/{job_id}", headers=self.owner)
        assert found.status_code == 200, found.text
        return found.json()  # type: ignore[no-any-return]

    def finished(self, job_id: str) -> dict[str, Any]:
        job = _wait_for(lambda: (found := self.job(job_id))["status"] in ("succeeded", "failed") and found)
        assert job["status"] == "succeeded", job
        return job  # type: ignore[no-any-return]


def _story(platform: RunningPlatform, smp_state: SmpState) -> None:
    story = Story(platform)
    story.approve()
    http, owner = story.http, story.owner
    asked = http.put(
        f"{story.path}/peppol/{story.participant}", json={"send": True, "receive": False}, headers=owner
    )
    assert asked.status_code == 202, asked.text
    story.finished(asked.json()["job_id"])
    state = story.participant_state()
    assert (state["send"], state["receive"], state["directory"]) == (
        "registered",
        "not_registered",
        "registered",
    )
    group = f"iso6523-actorid-upis::{story.participant}"
    assert group in smp_state()["service_groups"] and group in smp_state()["business_cards"]

    topped = http.post(
        f"/admin/environments/{story.environment_id}/credit", json={"amount_cents": 1000}, headers=story.staff
    )
    assert topped.status_code == 200
    enabled = http.put(f"{story.path}/receiving", json={"enabled": True, "accept_costs": True}, headers=owner)
    assert enabled.status_code == 200, enabled.text
    story.finished(enabled.json()["registration_job_id"])
    state = story.participant_state()
    assert state["receive"] == "registered"
    assert state["document_types"] == ["bis-billing-invoice", "bis-billing-credit-note"]
    assert len(smp_state()["service_metadata"][group]) == 2

    disabled = http.put(
        f"{story.path}/receiving", json={"enabled": False, "accept_costs": False}, headers=owner
    )
    assert disabled.status_code == 200
    story.finished(disabled.json()["registration_job_id"])
    assert story.participant_state()["receive"] == "not_registered"
    assert smp_state()["service_metadata"][group] == []
    log = platform.log.read_text()
    assert f"[peppol] job {asked.json()['job_id'][:8]} {story.participant}: succeeded" in log


def test_register_send_and_receive_then_stop_receiving(platform: RunningPlatform) -> None:
    _story(platform, _own_smp(platform))


def test_the_same_story_against_an_external_smp(external_smp: tuple[RunningPlatform, SmpState]) -> None:
    running, smp_state = external_smp
    assert running.state()["smp_sandbox"] is False  # it started none of its own
    _story(running, smp_state)


def test_sqs_down_at_approval_then_up_the_job_is_sent_and_succeeds_with_nobody_acting(
    platform: RunningPlatform,
) -> None:
    story = Story(platform)
    down = platform.http.post("/_local/outages", json={"sqs": True})
    assert down.status_code == 200 and down.json() == {"down": ["sqs"]}
    try:
        story.approve()  # the registration job is recorded; SQS does not take it
        state = story.participant_state()
        assert state["send"] == "pending"
        assert story.job(state["job_id"])["status"] == "queued"
    finally:
        assert platform.http.post("/_local/outages", json={"sqs": False}).json() == {"down": []}
    story.finished(state["job_id"])  # the sweeper sent it, the worker carried it out
    assert story.participant_state()["send"] == "registered"
