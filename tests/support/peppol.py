"""The Peppol worker against the emulator's queue and an SMP sandbox, driven with real SQS
event batches through the local event source (``infra.local.event_sources``), as ``make dev``
and Lambda drive it."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from infra.local.event_sources import BatchOutcome, QueueEventSource, ScheduleSource
from infra.local.smp_sandbox import SmpSandbox
from infra.platform import function
from tests.support.events import body_of
from tests.support.orgs import Account

ACCESS_POINT = {
    "ACCESS_POINT_URL": "https://ap.test.example/as4",
    "ACCESS_POINT_CERTIFICATE": "dGVzdCBjZXJ0aWZpY2F0ZQ==",
}


def reset_peppol_wiring() -> None:
    """Forget every cached setting and adapter of the functions (after the environment changed)."""
    from onboarding.adapters import aws
    from onboarding.settings import get_settings
    from organisations_api import handler as organisations
    from peppol_api import handler, sweeper, wiring, worker

    get_settings.cache_clear()
    aws.reset_clients()
    for cached in (
        wiring.table,
        wiring.queue,
        wiring.smp,
        wiring.sml,
        wiring.endpoint,
        handler.service,
        worker.registrar,
        sweeper.outbox,
        organisations.service,
    ):
        cached.cache_clear()


@contextmanager
def peppol_environment(sandbox: SmpSandbox, **extra: str) -> Iterator[None]:
    """The functions' settings pointing at ``sandbox`` (and its SML's DNS) for a while."""
    wanted = {**sandbox.environment(), **ACCESS_POINT, "SMP_TIMEOUT_SECONDS": "0.5", **extra}
    before = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    reset_peppol_wiring()
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_peppol_wiring()


@dataclass
class PeppolRig:
    resources: Any
    sandbox: SmpSandbox
    seen: list[BatchOutcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        import boto3

        self.sqs = boto3.client(
            "sqs", endpoint_url=self.resources.endpoint_url, region_name=self.resources.region
        )
        self.queue_url = self.resources.queue_urls["peppol-registrations"]
        self.source = QueueEventSource(
            function("peppol-worker"),
            self.sqs,
            self.queue_url,
            self.resources.queue_arns["peppol-registrations"],
        )

    # --- the queue ---
    def drain(self) -> None:
        """Forget what other tests left on the queue and in its dead-letter queue (SQS allows a
        purge once a minute, so message by message)."""
        for url in (self.queue_url, self.resources.dead_letter_queue_urls["peppol-registrations"]):
            while messages := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
                self.sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
                    ],
                )

    def poll(self) -> BatchOutcome | None:
        outcome = self.source.poll()
        if outcome is not None:
            self.seen.append(outcome)
        return outcome

    def run(self, rounds: int = 10) -> list[BatchOutcome]:
        """Poll until the queue has nothing to hand out; failures come back at once (as if
        their visibility timeout had passed)."""
        outcomes: list[BatchOutcome] = []
        for _ in range(rounds):
            outcome = self.poll()
            if outcome is None:
                return outcomes
            outcomes.append(outcome)
            self.expire(outcome)
        return outcomes

    def expire(self, outcome: BatchOutcome) -> None:
        """The visibility timeout of the failed records passes now."""
        for message in outcome.received:
            if message["MessageId"] in outcome.failed:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )

    def dead_letters(self) -> list[dict[str, Any]]:
        url = self.resources.dead_letter_queue_urls["peppol-registrations"]
        messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]

    def sweep(self) -> dict[str, list[str]]:
        rule = "arn:aws:events:eu-west-1:123456789012:rule/peppol-sweeper-schedule"
        return ScheduleSource(function("peppol-sweeper"), rule).fire()  # type: ignore[no-any-return]

    # --- the SMP ---
    def requests(self, method: str, participant_id: str) -> list[dict[str, str]]:
        """The calls the SMP got for the participant's service group itself."""
        from onboarding.domain.peppol import service_group_path

        path = "/" + service_group_path(participant_id)
        return [r for r in self.sandbox.state()["requests"] if r["method"] == method and r["path"] == path]

    def service_group(self, participant_id: str) -> bool:
        return f"iso6523-actorid-upis::{participant_id}" in self.sandbox.state()["service_groups"]

    def document_types(self, participant_id: str) -> list[str]:
        return list(
            self.sandbox.state()["service_metadata"].get(f"iso6523-actorid-upis::{participant_id}", [])
        )


def new_oin() -> str:
    return f"{uuid.uuid4().int % 10**20:020d}"


def active_organisation(admin: Account, operator: Account, *oins: str) -> dict[str, Any]:
    """An organisation with these OINs (the first primary), approved by ``operator``."""
    body = {
        "name": "Peppol Test BV",
        "country": "NL",
        "address": {"street": "Hoofdstraat 1", "postal_code": "1234AB", "city": "Utrecht"},
        "identifiers": [{"scheme": "0190", "value": oin} for oin in oins or (new_oin(),)],
    }
    organisation = admin.ok("POST", "/organisations", 201, body=body)
    admin.ok("POST", f"/organisations/{organisation['id']}/activation", 202, body={"method": "manual_review"})
    return operator.ok("POST", f"/admin/organisations/{organisation['id']}/activation/approve", body={})  # type: ignore[no-any-return]


def participants(admin: Account, organisation_id: str) -> dict[str, dict[str, Any]]:
    found = admin.ok("GET", f"/organisations/{organisation_id}/peppol")["participants"]
    return {p["participant_id"]: p for p in found}


def job(account: Account, job_id: str) -> dict[str, Any]:
    return account.ok("GET", f"/peppol/jobs/{job_id}")  # type: ignore[no-any-return]


__all__ = [
    "PeppolRig",
    "active_organisation",
    "body_of",
    "job",
    "new_oin",
    "participants",
    "peppol_environment",
]
