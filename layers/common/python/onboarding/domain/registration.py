"""Peppol registration jobs and their one state machine. No I/O here.

A job asks for one participant to be brought to a *target* (``PeppolTarget``: registered for
sending, for receiving some document types, in the Directory, or none of these). Whoever
starts it (an operator's approval, receiving on or off, the peppol API, a migration key) it
is the same kind of job and it moves through the same states::

    queued --start--> running --succeed--> succeeded
      ^                 |   \\--fail-----> failed --requeue (an operator)--> queued
      +--retry_later----+
    queued / running --supersede, time out--> failed

Every transition returns a new job whose ``version`` is one higher, with an entry in its
history; the repository writes it only if the stored job still has the version it was read
at. So two deliveries of one message cannot both move a job, and a delivery of a finished
job changes nothing.

A job carries the *whole* target, not a step ("add receive"), and only the participant's
latest job (``Identifier.job_id``) is carried out: an older one that comes along later is
superseded. However messages are ordered or repeated, the participant ends in the state
last asked for.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from onboarding.domain.organisations import (
    Identifier,
    Organisation,
    PeppolError,
    PeppolState,
    PeppolTarget,
)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


FINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED})


class JobOrigin(StrEnum):
    """Who asked: the same job and state machine serve every one of them."""

    APPROVAL = "approval"  # an operator approved the organisation: register its primary identifier
    RECEIVING = "receiving"  # receiving e-invoices turned on or off
    REQUEST = "request"  # PUT /organisations/{id}/peppol/{participant_id}
    MIGRATION = "migration"  # moving the participant here with a migration key


class JobEvent(BaseModel):
    model_config = ConfigDict(frozen=True)
    status: JobStatus
    at: datetime
    attempt: int = 0
    note: str | None = None


# A job's history stays well within DynamoDB's item size however often it is retried: the
# first entry (when and why it was asked) and the latest ones are kept.
HISTORY_LIMIT = 50


class RegistrationMessage(BaseModel):
    """What goes on the Peppol queue: a pointer to the job, which holds the truth."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    job_id: str
    participant_id: str
    # Where the job's organisation is, so the worker reads job and organisation in one go.
    organisation_id: str
    environment_id: str
    version: int = Field(description="The job's version when it was sent")

    @property
    def deduplication_id(self) -> str:
        """One per sending of a job: the same job sent twice (the API and the outbox sweeper)
        is one message, a retried job is a new one."""
        return f"{self.job_id}.{self.version}"

    @property
    def group_id(self) -> str:
        """The FIFO message group: one per participant, so a participant's jobs never run at
        the same time. SQS allows 128 characters; longer ids are hashed."""
        key = self.participant_id.strip().lower()
        return key if len(key) <= 128 else hashlib.sha256(key.encode()).hexdigest()


class RegistrationJob(BaseModel):
    """A request to bring one participant to ``target`` at the SMP; the Peppol worker
    carries it out."""

    model_config = ConfigDict(frozen=True)
    id: str
    organisation_id: str
    environment_id: str
    participant_id: str
    target: PeppolTarget
    origin: JobOrigin
    requested_by: str | None = None
    # A key another provider handed out to move the participant here; kept until it is used.
    migration_key: str | None = Field(default=None, repr=False)
    status: JobStatus = JobStatus.QUEUED
    attempts: int = 0
    error: PeppolError | None = None
    history: tuple[JobEvent, ...] = ()
    version: int = 1
    created_at: datetime
    updated_at: datetime
    dispatched_at: datetime | None = None  # when it was (last) put on the queue

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def message(self) -> RegistrationMessage:
        return RegistrationMessage(
            job_id=self.id,
            participant_id=self.participant_id,
            organisation_id=self.organisation_id,
            environment_id=self.environment_id,
            version=self.version,
        )


class TransitionRefused(Exception):
    """The job is not in a state this transition starts from."""

    def __init__(self, job: RegistrationJob, transition: str) -> None:
        super().__init__(f"job {job.id} is {job.status.value}: cannot {transition}")
        self.job = job


# --- Starting a job ------------------------------------------------------------------------------
def target_of(identifier: Identifier) -> PeppolTarget:
    """What was last asked for the participant (nothing, if nothing was)."""
    return identifier.target or PeppolTarget()


def _towards(state: PeppolState, wanted: bool, *, again: bool = False) -> PeppolState:
    """A capability's state while a job brings it to ``wanted`` (``again``: it is registered,
    but changes, e.g. other document types)."""
    if wanted:
        return (
            PeppolState.REGISTERED if state is PeppolState.REGISTERED and not again else PeppolState.PENDING
        )
    return PeppolState.NOT_REGISTERED if state is PeppolState.NOT_REGISTERED else PeppolState.DEREGISTERING


def _heading_for(
    identifier: Identifier, target: PeppolTarget, moment: datetime, *, moving: bool
) -> Identifier:
    return identifier.model_copy(
        update={
            "send": _towards(identifier.send, target.send, again=moving),
            "receive": _towards(
                identifier.receive,
                target.receive,
                again=moving or set(target.document_types) != set(identifier.document_types),
            ),
            "directory": _towards(identifier.directory, target.directory, again=moving),
            "target": target,
            "peppol_updated_at": moment,
        }
    )


def ask(
    organisation: Organisation,
    identifier: Identifier,
    target: PeppolTarget,
    *,
    job_id: str,
    origin: JobOrigin,
    moment: datetime,
    requested_by: str | None = None,
    migration_key: str | None = None,
) -> tuple[Identifier, RegistrationJob]:
    """The job that brings ``identifier`` to ``target``, and the identifier as it is while the
    job runs (pending, deregistering; it becomes the participant's latest job). The caller
    saves both in one transaction with the organisation."""
    job = RegistrationJob(
        id=job_id,
        organisation_id=organisation.id,
        environment_id=organisation.environment_id,
        participant_id=identifier.participant_id,
        target=target,
        origin=origin,
        requested_by=requested_by,
        migration_key=migration_key,
        created_at=moment,
        updated_at=moment,
        history=(JobEvent(status=JobStatus.QUEUED, at=moment, note=f"asked ({origin.value})"),),
    )
    heading = _heading_for(identifier, target, moment, moving=migration_key is not None)
    return heading.model_copy(update={"job_id": job_id}), job


# --- The transitions ----------------------------------------------------------------------------
def _moved(
    job: RegistrationJob, status: JobStatus, moment: datetime, *, note: str | None = None, **changes: object
) -> RegistrationJob:
    attempts = changes.get("attempts", job.attempts)
    event = JobEvent(status=status, at=moment, attempt=int(attempts), note=note)  # type: ignore[call-overload]
    history = (*job.history, event)
    if len(history) > HISTORY_LIMIT:
        history = (history[0], *history[-(HISTORY_LIMIT - 1) :])
    return job.model_copy(
        update={
            "status": status,
            "history": history,
            "version": job.version + 1,
            "updated_at": moment,
            **changes,
        }
    )


def start(job: RegistrationJob, moment: datetime) -> RegistrationJob:
    """An attempt begins. A job found ``running`` was being carried out by an attempt that
    stopped (the function timed out or crashed): its message came back, so start again."""
    if job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
        raise TransitionRefused(job, "start")
    note = None if job.status is JobStatus.QUEUED else f"attempt {job.attempts} did not finish"
    return _moved(job, JobStatus.RUNNING, moment, note=note, attempts=job.attempts + 1)


def retry_later(job: RegistrationJob, moment: datetime, reason: str) -> RegistrationJob:
    """The attempt failed on something passing (timeout, 5xx, throttling, DNS): SQS delivers
    the message again after its visibility timeout."""
    if job.status is not JobStatus.RUNNING:
        raise TransitionRefused(job, "retry later")
    return _moved(job, JobStatus.QUEUED, moment, note=f"attempt {job.attempts} failed: {reason}; will retry")


def succeed(job: RegistrationJob, moment: datetime) -> RegistrationJob:
    if job.status is not JobStatus.RUNNING:
        raise TransitionRefused(job, "succeed")
    return _moved(job, JobStatus.SUCCEEDED, moment, migration_key=None)  # a used key is worth nothing


def fail(job: RegistrationJob, moment: datetime, error: PeppolError) -> RegistrationJob:
    """For good (until an operator requeues it): a permanent refusal, the last of the
    attempts, a newer job, or a job that never finished."""
    if job.final:
        raise TransitionRefused(job, "fail")
    return _moved(job, JobStatus.FAILED, moment, note=f"{error.code}: {error.message}", error=error)


def supersede(job: RegistrationJob, newer_job_id: str | None, moment: datetime) -> RegistrationJob:
    """A newer job for the participant carries the whole of what was asked since: this one
    has nothing left to do."""
    newer = f" (job {newer_job_id})" if newer_job_id else ""
    return fail(
        job,
        moment,
        PeppolError(
            code="superseded",
            message=f"A newer request for this participant{newer} replaced this job before it ran.",
        ),
    )


def requeue(job: RegistrationJob, moment: datetime, by: str) -> RegistrationJob:
    """An operator retries a failed job: queued again, to be sent again."""
    if job.status is not JobStatus.FAILED:
        raise TransitionRefused(job, "requeue")
    return _moved(
        job, JobStatus.QUEUED, moment, note=f"retried by operator {by}", error=None, dispatched_at=None
    )


# --- The participant after its job --------------------------------------------------------------
def settle(identifier: Identifier, job: RegistrationJob, moment: datetime) -> Identifier:
    """The participant's Peppol state once its latest job ended: the target reached, or what
    was changing marked ``failed`` with the job's error."""
    target = job.target
    if job.status is JobStatus.SUCCEEDED:

        def reached(wanted: bool) -> PeppolState:
            return PeppolState.REGISTERED if wanted else PeppolState.NOT_REGISTERED

        return identifier.model_copy(
            update={
                "send": reached(target.send),
                "receive": reached(target.receive),
                "directory": reached(target.directory),
                "document_types": target.document_types if target.receive else (),
                "last_error": None,
                "peppol_updated_at": moment,
            }
        )
    if job.status is not JobStatus.FAILED:
        raise TransitionRefused(job, "settle the participant")

    def after(state: PeppolState) -> PeppolState:
        changing = state in (PeppolState.PENDING, PeppolState.DEREGISTERING)
        return PeppolState.FAILED if changing else state

    return identifier.model_copy(
        update={
            "send": after(identifier.send),
            "receive": after(identifier.receive),
            "directory": after(identifier.directory),
            "last_error": job.error,
            "peppol_updated_at": moment,
        }
    )


def settled(organisation: Organisation | None, job: RegistrationJob, moment: datetime) -> Organisation | None:
    """The organisation with the participant's state after its job ended (a new version), or
    None when the job is not the participant's latest any more: a newer job owns that state."""
    identifier = organisation.find(job.participant_id) if organisation else None
    if organisation is None or identifier is None or identifier.job_id != job.id:
        return None
    return organisation.model_copy(
        update={
            "identifiers": organisation.replacing(settle(identifier, job, moment)),
            "updated_at": moment,
            "version": organisation.version + 1,
        }
    )


def reopen(identifier: Identifier, job: RegistrationJob, moment: datetime) -> Identifier:
    """The participant while a requeued job runs again: heading for the job's target."""
    return _heading_for(identifier, job.target, moment, moving=job.migration_key is not None).model_copy(
        update={"last_error": None}
    )


# --- Errors worth explaining --------------------------------------------------------------------
def registered_elsewhere(participant_id: str, organisation_id: str, smp_url: str | None) -> PeppolError:
    where = f" (its SMP is {smp_url})" if smp_url else ""
    return PeppolError(
        code="registered_elsewhere",
        message=(
            f"{participant_id} is already registered on Peppol by another provider{where}. A participant "
            "can be registered with one provider only. To move it here, ask your current provider for a "
            "migration key and send it with POST /organisations/"
            f"{organisation_id}/peppol/{participant_id}/migration "
            '{"migration_key": "..."}; the registration then moves here without a gap.'
        ),
    )
