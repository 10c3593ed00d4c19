"""Peppol registration end to end inside one process: the peppol routes through API Gateway
events, the worker through real SQS event batches from the emulator's FIFO queue (partial
failures, redelivery, the dead-letter queue), the sweeper through scheduled events, and a
phoss-compatible SMP sandbox with its SML's DNS server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.smp_sandbox import SmpSandbox
from tests.support.orgs import Account, make_account
from tests.support.peppol import (
    PeppolRig,
    active_organisation,
    body_of,
    job,
    new_oin,
    participants,
    peppol_environment,
)


@pytest.fixture(scope="module")
def sandbox(local_aws: Any) -> Iterator[SmpSandbox]:
    running = SmpSandbox().start()
    with peppol_environment(running):
        yield running
    running.stop()


@pytest.fixture
def rig(local_aws: Any, sandbox: SmpSandbox) -> PeppolRig:
    sandbox.reset()
    rigged = PeppolRig(local_aws, sandbox)
    rigged.drain()
    return rigged


def _credit(operator: Account, environment_id: str) -> None:
    operator.ok("POST", f"/admin/environments/{environment_id}/credit", body={"amount_cents": 1000})


def test_register_for_sending_then_receiving_then_take_it_all_off(
    rig: PeppolRig, admin: Account, operator: Account
) -> None:
    organisation = active_organisation(admin, operator)
    path = f"/organisations/{organisation['id']}"
    participant = organisation["identifiers"][0]["participant_id"]
    asked = admin.ok("PUT", f"{path}/peppol/{participant}", 202, body={"send": True, "receive": False})
    assert job(admin, asked["job_id"])["status"] in ("queued", "running", "succeeded")
    [batch] = rig.run()
    assert batch.failed == []
    done = job(admin, asked["job_id"])
    assert done["status"] == "succeeded" and done["error"] is None and done["attempts"] == 1
    assert [e["status"] for e in done["history"]] == ["queued", "running", "succeeded"]
    state = participants(admin, organisation["id"])[participant]
    assert (state["send"], state["receive"], state["directory"]) == (
        "registered",
        "not_registered",
        "registered",
    )
    assert (
        rig.service_group(participant)
        and f"iso6523-actorid-upis::{participant}" in rig.sandbox.state()["business_cards"]
    )
    assert rig.sandbox.sml.owner(participant) == rig.sandbox.url

    _credit(operator, admin.environment_id)
    admin.ok("PUT", f"{path}/receiving", body={"enabled": True, "accept_costs": True})
    assert participants(admin, organisation["id"])[participant]["receive"] == "pending"
    rig.run()
    state = participants(admin, organisation["id"])[participant]
    assert state["receive"] == "registered"
    assert state["document_types"] == ["bis-billing-invoice", "bis-billing-credit-note"]
    assert len(rig.document_types(participant)) == 2

    admin.ok("PUT", f"{path}/receiving", body={"enabled": False, "accept_costs": False})
    rig.run()
    assert participants(admin, organisation["id"])[participant]["receive"] == "not_registered"
    assert rig.document_types(participant) == [] and rig.service_group(participant)

    refused = admin.call("DELETE", path)
    assert refused["statusCode"] == 409 and f"/peppol/{participant}" in body_of(refused)["error"]["message"]
    admin.ok("PUT", f"{path}/peppol/{participant}", 202, body={"send": False, "receive": False})
    rig.run()
    assert participants(admin, organisation["id"])[participant]["send"] == "not_registered"
    assert not rig.service_group(participant) and rig.sandbox.sml.owner(participant) is None
    admin.ok("DELETE", path, 204)


def test_a_batch_of_ten_with_three_failing_reports_exactly_those_three(
    rig: PeppolRig, admin: Account, operator: Account
) -> None:
    oins = [new_oin() for _ in range(10)]
    organisation = active_organisation(admin, operator, *oins)
    path = f"/organisations/{organisation['id']}/peppol"
    rig.drain()  # the approval's job for the first: these ten are the batch
    jobs = {
        oin: admin.ok("PUT", f"{path}/0190:{oin}", 202, body={"send": True, "receive": False})["job_id"]
        for oin in oins[1:]
    }
    jobs[oins[0]] = admin.ok("PUT", f"{path}/0190:{oins[0]}", 202, body={"send": False, "receive": False})[
        "job_id"
    ]
    failing = oins[2:5]
    rig.sandbox.sml.servfail.update(f"0190:{oin}" for oin in failing)  # DNS cannot say: retry later
    batch = rig.poll()
    assert batch is not None and len(batch.received) == 10
    by_message = {m["MessageId"]: json.loads(m["Body"])["job_id"] for m in batch.received}
    assert sorted(by_message[m] for m in batch.failed) == sorted(jobs[oin] for oin in failing)
    assert batch.response == {"batchItemFailures": [{"itemIdentifier": m} for m in batch.failed]}
    for oin, job_id in jobs.items():
        expected = "queued" if oin in failing else "succeeded"
        assert job(admin, job_id)["status"] == expected, oin
    rig.sandbox.sml.servfail.clear()
    rig.expire(batch)
    again = rig.poll()
    assert again is not None and len(again.received) == 3 and again.failed == []
    assert {job(admin, jobs[oin])["status"] for oin in failing} == {"succeeded"}


def test_a_message_delivered_twice_registers_once(rig: PeppolRig, admin: Account, operator: Account) -> None:
    organisation = active_organisation(admin, operator)
    participant = organisation["identifiers"][0]["participant_id"]
    received = rig.sqs.receive_message(
        QueueUrl=rig.queue_url,
        MaxNumberOfMessages=10,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )["Messages"]
    assert rig.source.deliver(received).failed == []
    assert rig.source.deliver(received).failed == []  # the same records again, as SQS may
    assert len(rig.requests("PUT", participant)) == 1
    assert participants(admin, organisation["id"])[participant]["send"] == "registered"


def test_a_message_without_a_job_changes_nothing(rig: PeppolRig) -> None:
    for body in (
        {
            "job_id": str(uuid.uuid4()),
            "participant_id": "0190:1",
            "organisation_id": "o",
            "environment_id": "e",
            "version": 1,
        },
        {"something": "else"},
    ):
        rig.sqs.send_message(
            QueueUrl=rig.queue_url,
            MessageBody=json.dumps(body),
            MessageGroupId="stray",
            MessageDeduplicationId=str(uuid.uuid4()),
        )
    outcomes = rig.run()
    assert [len(o.received) for o in outcomes] == [2] and outcomes[0].failed == []
    assert rig.sandbox.state()["requests"] == [] and rig.dead_letters() == []


def test_an_smp_that_times_out_twice_then_answers(rig: PeppolRig, admin: Account, operator: Account) -> None:
    organisation = active_organisation(admin, operator)
    participant = organisation["identifiers"][0]["participant_id"]
    rig.sandbox.faults(timeout_next=2, hang=1.0)
    outcomes = rig.run()
    assert [len(o.failed) for o in outcomes] == [1, 1, 0]
    done = job(admin, participants(admin, organisation["id"])[participant]["job_id"])
    assert done["status"] == "succeeded" and done["attempts"] == 3
    notes = [e["note"] for e in done["history"] if e["note"] and "failed" in e["note"]]
    assert len(notes) == 2 and all("timeout" in n for n in notes)


def test_an_smp_that_always_fails_ends_failed_via_the_dead_letter_queue(
    rig: PeppolRig, admin: Account, operator: Account
) -> None:
    organisation = active_organisation(admin, operator)
    participant = organisation["identifiers"][0]["participant_id"]
    rig.sandbox.faults(fail_next=100, status=503)
    outcomes = rig.run()
    assert [len(o.failed) for o in outcomes] == [1] * 5  # then SQS moved it to the dead-letter queue
    job_id = participants(admin, organisation["id"])[participant]["job_id"]
    failed = job(admin, job_id)
    assert failed["status"] == "failed" and failed["attempts"] == 5
    assert failed["error"]["code"] == "smp_unavailable" and "HTTP 503" in failed["error"]["message"]
    state = participants(admin, organisation["id"])[participant]
    assert state["send"] == "failed" and state["last_error"] == failed["error"]
    assert [m["job_id"] for m in rig.dead_letters()] == [job_id]

    # An operator retries it once the SMP is back.
    rig.sandbox.faults(fail_next=0)
    assert admin.call("POST", f"/admin/peppol/jobs/{job_id}/retry")["statusCode"] == 403
    assert operator.ok("POST", f"/admin/peppol/jobs/{job_id}/retry", 202) == {"job_id": job_id}
    assert participants(admin, organisation["id"])[participant]["send"] == "pending"
    rig.run()
    assert job(admin, job_id)["status"] == "succeeded"
    assert operator.call("POST", f"/admin/peppol/jobs/{job_id}/retry")["statusCode"] == 409
    assert operator.call("POST", f"/admin/peppol/jobs/{uuid.uuid4()}/retry")["statusCode"] == 404


def test_registered_elsewhere_fails_with_the_migration_key_route_and_a_key_moves_it_here(
    rig: PeppolRig, admin: Account, operator: Account
) -> None:
    oin = new_oin()
    participant = f"0190:{oin}"
    key = rig.sandbox.sml.prepare_elsewhere(participant)  # another provider holds it, and hands out a key
    organisation = active_organisation(admin, operator, oin)
    [batch] = rig.run()
    assert batch.failed == []  # a permanent failure: nothing to retry
    state = participants(admin, organisation["id"])[participant]
    assert state["send"] == "failed" and state["last_error"]["code"] == "registered_elsewhere"
    assert "migration key" in state["last_error"]["message"]
    assert rig.requests("PUT", participant) == []  # the SML was asked first

    path = f"/organisations/{organisation['id']}/peppol/{participant}"
    malformed = admin.call("POST", f"{path}/migration", body={"migration_key": "password"})
    assert malformed["statusCode"] == 422 and body_of(malformed)["error"]["code"] == "invalid_migration_key"
    moving = admin.ok("POST", f"{path}/migration", 202, body={"migration_key": key})
    rig.run()
    moved = job(admin, moving["job_id"])
    assert moved["status"] == "succeeded" and moved["origin"] == "migration"
    assert participants(admin, organisation["id"])[participant]["send"] == "registered"
    assert rig.sandbox.sml.owner(participant) == rig.sandbox.url
    refused = admin.call("POST", f"{path}/migration", body={"migration_key": key})
    assert refused["statusCode"] == 409 and body_of(refused)["error"]["code"] == "already_registered_here"


def test_a_migration_key_to_move_away(rig: PeppolRig, admin: Account, operator: Account) -> None:
    organisation = active_organisation(admin, operator, new_oin(), new_oin())
    first, second = (i["participant_id"] for i in organisation["identifiers"])
    rig.run()
    path = f"/organisations/{organisation['id']}/peppol"
    issued = admin.ok("POST", f"{path}/{first}/migration-key", 201)
    assert len(issued["migration_key"]) >= 8 and issued["expires_at"] > organisation["updated_at"]
    assert [m["state"] for m in rig.sandbox.state()["migrations"]] == ["in_progress"]
    refused = admin.call("POST", f"{path}/{second}/migration-key")
    assert refused["statusCode"] == 409 and body_of(refused)["error"]["code"] == "not_registered_here"


def test_bad_requests_and_other_tenants(
    rig: PeppolRig, local_aws: Any, admin: Account, operator: Account
) -> None:
    organisation = active_organisation(admin, operator)
    participant = organisation["identifiers"][0]["participant_id"]
    path = f"/organisations/{organisation['id']}/peppol"
    job_id = participants(admin, organisation["id"])[participant]["job_id"]
    stranger = make_account(local_aws)
    assert stranger.call("GET", f"/peppol/jobs/{job_id}")["statusCode"] == 404
    assert stranger.call("GET", path)["statusCode"] == 404
    assert (
        stranger.call("PUT", f"{path}/{participant}", body={"send": True, "receive": False})["statusCode"]
        == 404
    )
    unknown = admin.call("PUT", f"{path}/0190:{new_oin()}", body={"send": True, "receive": False})
    assert unknown["statusCode"] == 404
    no_receiving = admin.call("PUT", f"{path}/{participant}", body={"send": True, "receive": True})
    assert (
        no_receiving["statusCode"] == 409
        and body_of(no_receiving)["error"]["code"] == "receiving_not_enabled"
    )
    strict = admin.call("PUT", f"{path}/{participant}", body={"send": 1, "receive": False})
    assert strict["statusCode"] == 422
    unknown_type = admin.call(
        "PUT", f"{path}/{participant}", body={"send": True, "receive": True, "document_types": ["fax"]}
    )
    assert (
        unknown_type["statusCode"] == 422
        and body_of(unknown_type)["error"]["code"] == "unknown_document_type"
    )
    assert admin.call("GET", f"/peppol/jobs/{uuid.uuid4()}")["statusCode"] == 404


def test_sqs_down_at_approval_then_the_sweeper_sends_the_job(
    rig: PeppolRig, admin: Account, operator: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onboarding.adapters.queue import RegistrationQueue
    from organisations_api.handler import service

    monkeypatch.setattr(service(), "queue", RegistrationQueue("http://127.0.0.1:9/no-such-queue"))
    organisation = active_organisation(admin, operator)
    participant = organisation["identifiers"][0]["participant_id"]
    job_id = participants(admin, organisation["id"])[participant]["job_id"]
    assert rig.run() == []  # nothing reached the queue
    monkeypatch.undo()
    swept = rig.sweep()
    assert job_id in swept["sent"]
    rig.run()
    assert job(admin, job_id)["status"] == "succeeded"
    assert participants(admin, organisation["id"])[participant]["send"] == "registered"
    assert job_id not in rig.sweep()["sent"]


def test_two_jobs_of_one_participant_in_one_batch_run_one_after_the_other_and_the_last_asked_wins(
    rig: PeppolRig, admin: Account, operator: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from peppol_api import worker

    mine, other = new_oin(), new_oin()
    organisation = active_organisation(admin, operator, mine, other)
    rig.run()  # the approval's job: the primary is registered for sending
    path = f"/organisations/{organisation['id']}/peppol"
    off = admin.ok("PUT", f"{path}/0190:{mine}", 202, body={"send": False, "receive": False})["job_id"]
    on = admin.ok("PUT", f"{path}/0190:{mine}", 202, body={"send": True, "receive": False})["job_id"]
    alongside = admin.ok("PUT", f"{path}/0190:{other}", 202, body={"send": True, "receive": False})["job_id"]

    spans: dict[str, tuple[float, float]] = {}
    carry_out = worker.carry_out

    def timed(record: Any) -> None:
        started = time.monotonic()
        time.sleep(0.3)  # long enough for a run alongside to show
        try:
            carry_out(record)
        finally:
            spans[json.loads(record.body)["job_id"]] = (started, time.monotonic())

    monkeypatch.setattr(worker, "carry_out", timed)
    batch = rig.poll()
    assert batch is not None and batch.failed == []
    # One SQS event, as the FIFO queue hands it out: both jobs of the participant in it, in order.
    assert [json.loads(m["Body"])["job_id"] for m in batch.received] == [off, on, alongside]
    groups = [m["Attributes"]["MessageGroupId"] for m in batch.received]
    assert groups[0] == groups[1] == f"0190:{mine}" and groups[2] == f"0190:{other}"
    assert spans[off][1] <= spans[on][0]  # one after the other, in the order asked
    assert spans[alongside][0] < spans[off][1]  # while another participant's job ran at the same time
    assert job(admin, off)["status"] == "failed" and job(admin, off)["error"]["code"] == "superseded"
    assert job(admin, on)["status"] == "succeeded"
    state = participants(admin, organisation["id"])
    assert state[f"0190:{mine}"]["send"] == "registered" and state[f"0190:{mine}"]["job_id"] == on
    assert state[f"0190:{other}"]["send"] == "registered"
    assert rig.service_group(f"0190:{mine}") and rig.sandbox.sml.owner(f"0190:{mine}") == rig.sandbox.url


@pytest.mark.parametrize(("asked", "receiving"), [((True, False, True), True), ((False, True, False), False)])
def test_receiving_turned_off_and_on_quickly_ends_in_the_state_last_asked_for(
    rig: PeppolRig, admin: Account, operator: Account, asked: tuple[bool, ...], receiving: bool
) -> None:
    organisation = active_organisation(admin, operator)
    participant = organisation["identifiers"][0]["participant_id"]
    rig.run()
    _credit(operator, admin.environment_id)
    path = f"/organisations/{organisation['id']}/receiving"
    if not asked[0]:  # receiving is on and registered first
        admin.ok("PUT", path, body={"enabled": True, "accept_costs": True})
        rig.run()
        assert len(rig.document_types(participant)) == 2
    for enabled in asked:  # quicker than the worker: every job is on the queue at once
        admin.ok("PUT", path, body={"enabled": enabled, "accept_costs": enabled})
    outcomes = rig.run()
    assert sum(len(o.received) for o in outcomes) == len(asked) and all(o.failed == [] for o in outcomes)
    state = participants(admin, organisation["id"])[participant]
    assert state["receive"] == ("registered" if receiving else "not_registered")
    assert job(admin, state["job_id"])["status"] == "succeeded"
    assert len(rig.document_types(participant)) == (2 if receiving else 0)
    assert state["send"] == "registered" and rig.service_group(participant)
