"""Peppol registration jobs, and the outbox that makes sure each one reaches the queue.

Item layout (pk / sk):
  JOB#<job id> / JOB    a registration job: participant, target, origin, status, attempts,
                        error, history, version; ``dispatched_at`` once it is on the queue.
                        While it is not final it is in the outbox: ``outbox`` = "due" and
                        ``outbox_due`` (UTC, sortable) say when the sweeper looks at it: at
                        once while it is not on the queue, and again after the watchdog time
                        once it is (a job still not final then never will be).
The sparse ``by_outbox`` index lists exactly the jobs of the outbox by ``outbox_due``.

A new job is written in the same transaction as the organisation change that starts it
(``organisations``), so a job exists exactly when its change does; its transitions are
written conditionally on its version, with the participant's new state where it changes
(that identifier only, ``organisations.participant_update``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from onboarding.adapters.dynamo import (
    NOT_EXISTS,
    OUTBOX_INDEX,
    OUTBOX_INDEX_KEY,
    OUTBOX_INDEX_SORT_KEY,
    ConditionFailed,
    Put,
    Table,
    TransactionCancelled,
    Update,
    Write,
)
from onboarding.domain import errors
from onboarding.domain.organisations import Organisation
from onboarding.domain.registration import RegistrationJob

JOB_SK = "JOB"
DUE = "due"


def _pk(job_id: str) -> str:
    return f"JOB#{job_id}"


def stamp(moment: datetime) -> str:
    """A moment as the outbox sorts it: fixed width, UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def job_put(job: RegistrationJob) -> Put:
    """A new job, due in the outbox at once (the caller sends it right after; if that fails,
    the sweeper does)."""
    values = job.model_dump(mode="json")
    values.update(pk=_pk(job.id), sk=JOB_SK, type="registration_job")
    if not job.final:
        values.update({OUTBOX_INDEX_KEY: DUE, OUTBOX_INDEX_SORT_KEY: stamp(job.created_at)})
    return Put(values, condition=NOT_EXISTS)


def job_transition(job: RegistrationJob, *, previous_version: int, redispatch: bool = False) -> Update:
    """``job`` as a transition writes it: only what transitions change (``dispatched_at`` is
    the dispatcher's), if the stored job still has ``previous_version``."""
    dumped = job.model_dump(mode="json")
    names = {f"#{name}": name for name in ("status", "attempts", "history", "version", "updated_at")}
    values: dict[str, Any] = {
        f":{name}": dumped[name] for name in ("status", "attempts", "history", "version")
    }
    values[":updated_at"] = dumped["updated_at"]
    values[":previous"] = previous_version
    sets = [f"#{name} = :{name}" for name in ("status", "attempts", "history", "version", "updated_at")]
    removes: list[str] = []
    for optional in ("error", "migration_key"):
        names[f"#{optional}"] = optional
        if dumped[optional] is None:
            removes.append(f"#{optional}")
        else:
            sets.append(f"#{optional} = :{optional}")
            values[f":{optional}"] = dumped[optional]
    if job.final or redispatch:
        names.update({"#outbox": OUTBOX_INDEX_KEY, "#due": OUTBOX_INDEX_SORT_KEY})
    if job.final:
        removes += ["#outbox", "#due"]
    elif redispatch:  # requeued: not on the queue any more, due at once
        names["#dispatched"] = "dispatched_at"
        removes.append("#dispatched")
        sets += ["#outbox = :outbox", "#due = :due"]
        values.update({":outbox": DUE, ":due": stamp(job.updated_at)})
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return Update(
        _pk(job.id),
        JOB_SK,
        expression,
        names,
        values,
        condition="#version = :previous",
        returns="NONE",  # the caller has the job already: no need to send it back
    )


def _job(item: dict[str, Any]) -> RegistrationJob:
    return RegistrationJob.model_validate(item)


class RegistrationJobRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, job_id: str) -> RegistrationJob | None:
        item = self.table.get(_pk(job_id), JOB_SK)
        return _job(item) if item else None

    def get_with_organisations(
        self, refs: list[tuple[str, str, str]]
    ) -> list[tuple[RegistrationJob | None, Organisation | None]]:
        # Imported here: the organisations repository composes new jobs into its
        # transactions, so it imports this module.
        from onboarding.adapters.repositories import organisations

        keys: list[tuple[str, str]] = []
        for job_id, environment_id, organisation_id in refs:
            keys += [(_pk(job_id), JOB_SK), organisations.organisation_key(environment_id, organisation_id)]
        items = self.table.get_batch(keys)
        return [
            (
                _job(job_item) if job_item else None,
                Organisation.model_validate(organisation_item) if organisation_item else None,
            )
            for job_item, organisation_item in zip(items[::2], items[1::2], strict=True)
        ]

    def save(
        self,
        job: RegistrationJob,
        *,
        previous_version: int,
        organisation: Organisation | None = None,
        redispatch: bool = False,
    ) -> None:
        from onboarding.adapters.repositories import organisations

        transition = job_transition(job, previous_version=previous_version, redispatch=redispatch)
        if organisation is None:  # one item: a plain conditional update (half a transaction's cost)
            try:
                self.table.write(transition)
            except ConditionFailed as failed:
                raise errors.JobChanged(f"job {job.id} changed meanwhile") from failed
            return
        writes: dict[str, Write] = {
            "job": transition,
            "organisation": organisations.participant_update(organisation, job.participant_id, job.id),
        }
        try:
            self.table.transact(writes)
        except TransactionCancelled as cancelled:
            if cancelled.failed_on("job"):
                raise errors.JobChanged(f"job {job.id} changed meanwhile") from cancelled
            raise errors.OrganisationChanged from cancelled

    def mark_dispatched(self, job_id: str, moment: datetime, *, due_again: datetime) -> None:
        try:
            self.table.write(
                Update(
                    _pk(job_id),
                    JOB_SK,
                    "SET dispatched_at = :at, #due = :due",
                    {"#due": OUTBOX_INDEX_SORT_KEY, "#outbox": OUTBOX_INDEX_KEY},
                    {":at": moment.isoformat(), ":due": stamp(due_again)},
                    condition="attribute_exists(#outbox)",
                    returns="NONE",
                )
            )
        except ConditionFailed:
            return  # final already (the worker was quicker than this bookkeeping): nothing to watch

    def due(self, moment: datetime, *, limit: int) -> list[RegistrationJob]:
        items = self.table.query_index(
            OUTBOX_INDEX,
            OUTBOX_INDEX_KEY,
            DUE,
            sort_key=OUTBOX_INDEX_SORT_KEY,
            up_to=stamp(moment),
            limit=limit,
        )
        return [_job(item) for item in items]
