"""The registration job's one state machine and what a job does to its participant's state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboarding.domain import registration
from onboarding.domain.organisations import (
    Address,
    Identifier,
    Organisation,
    OrganisationStatus,
    PeppolError,
    PeppolState,
    PeppolTarget,
)
from onboarding.domain.registration import (
    HISTORY_LIMIT,
    JobOrigin,
    JobStatus,
    RegistrationJob,
    TransitionRefused,
)

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SEND = PeppolTarget(send=True, directory=True)
RECEIVE = PeppolTarget(send=True, receive=True, document_types=("bis-billing-invoice",), directory=True)
NOTHING = PeppolTarget()
TIMEOUT = PeppolError(code="smp_unavailable", message="timeout")


def _organisation(identifier: Identifier | None = None) -> Organisation:
    return Organisation(
        id="org-1",
        environment_id="env-1",
        name="Test BV",
        country="NL",
        address=Address(street="Hoofdstraat 1", postal_code="1234AB", city="Utrecht", country="NL"),
        status=OrganisationStatus.ACTIVE,
        identifiers=(
            identifier or Identifier(scheme="0106", value="68750110", participant_id="0106:68750110"),
        ),
        created_at=T0,
        updated_at=T0,
    )


def _asked(
    target: PeppolTarget, identifier: Identifier | None = None, **extra: object
) -> tuple[Identifier, RegistrationJob]:
    organisation = _organisation(identifier)
    return registration.ask(
        organisation,
        organisation.identifiers[0],
        target,
        job_id="job-1",
        origin=JobOrigin.REQUEST,
        moment=T0,
        requested_by="user-1",
        **extra,  # type: ignore[arg-type]
    )


def test_a_new_job_is_queued_with_its_whole_target_and_the_participant_is_pending() -> None:
    identifier, job = _asked(RECEIVE)
    assert (job.status, job.version, job.attempts, job.participant_id) == (
        JobStatus.QUEUED,
        1,
        0,
        "0106:68750110",
    )
    assert job.target == RECEIVE and job.history[0].note == "asked (request)"
    assert (identifier.send, identifier.receive, identifier.directory) == (PeppolState.PENDING,) * 3
    assert identifier.job_id == "job-1" and identifier.target == RECEIVE


def test_what_is_registered_stays_registered_and_what_goes_is_deregistering() -> None:
    registered = Identifier(
        scheme="0106",
        value="68750110",
        participant_id="0106:68750110",
        send=PeppolState.REGISTERED,
        receive=PeppolState.REGISTERED,
        directory=PeppolState.REGISTERED,
        document_types=("bis-billing-invoice",),
        target=RECEIVE,
    )
    same, _ = _asked(RECEIVE, registered)
    assert (same.send, same.receive) == (PeppolState.REGISTERED, PeppolState.REGISTERED)
    other_documents, _ = _asked(RECEIVE.model_copy(update={"document_types": ("mlr",)}), registered)
    assert other_documents.receive is PeppolState.PENDING  # registered, but changing
    off, _ = _asked(NOTHING, registered)
    assert (off.send, off.receive, off.directory) == (PeppolState.DEREGISTERING,) * 3
    failed = registered.model_copy(update={"send": PeppolState.FAILED, "receive": PeppolState.NOT_REGISTERED})
    again, _ = _asked(NOTHING, failed)
    assert (again.send, again.receive) == (PeppolState.DEREGISTERING, PeppolState.NOT_REGISTERED)
    moving, job = _asked(SEND, registered, migration_key="ab12CD!#ef")
    assert moving.send is PeppolState.PENDING and job.migration_key == "ab12CD!#ef"
    assert "ab12CD" not in repr(job)  # never in logs


def test_the_happy_path_and_every_transition_raises_the_version() -> None:
    _, job = _asked(SEND)
    running = registration.start(job, T0 + timedelta(seconds=1))
    assert (running.status, running.attempts, running.version) == (JobStatus.RUNNING, 1, 2)
    done = registration.succeed(running, T0 + timedelta(seconds=2))
    assert (done.status, done.version, done.final) == (JobStatus.SUCCEEDED, 3, True)
    assert [e.status for e in done.history] == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED]
    assert [e.attempt for e in done.history] == [0, 1, 1]


def test_a_passing_failure_queues_it_again_and_a_stopped_attempt_is_started_again() -> None:
    _, job = _asked(SEND)
    first = registration.start(job, T0)
    again = registration.retry_later(first, T0, "timeout (ReadTimeout)")
    assert again.status is JobStatus.QUEUED and "attempt 1 failed: timeout" in (again.history[-1].note or "")
    second = registration.start(again, T0)
    restarted = registration.start(second, T0)  # its message came back: attempt 2 had stopped
    assert (restarted.attempts, restarted.history[-1].note) == (3, "attempt 2 did not finish")


@pytest.mark.parametrize(
    ("status", "transition"),
    [
        (JobStatus.SUCCEEDED, "start"),
        (JobStatus.FAILED, "start"),
        (JobStatus.QUEUED, "succeed"),
        (JobStatus.QUEUED, "retry_later"),
        (JobStatus.SUCCEEDED, "fail"),
        (JobStatus.FAILED, "fail"),
        (JobStatus.RUNNING, "requeue"),
        (JobStatus.SUCCEEDED, "requeue"),
    ],
)
def test_transitions_start_only_from_their_states(status: JobStatus, transition: str) -> None:
    _, job = _asked(SEND)
    job = job.model_copy(update={"status": status})
    attempt = {
        "start": lambda: registration.start(job, T0),
        "succeed": lambda: registration.succeed(job, T0),
        "retry_later": lambda: registration.retry_later(job, T0, "x"),
        "fail": lambda: registration.fail(job, T0, TIMEOUT),
        "requeue": lambda: registration.requeue(job, T0, "operator-1"),
    }[transition]
    with pytest.raises(TransitionRefused):
        attempt()


def test_superseded_and_requeued_jobs() -> None:
    _, job = _asked(SEND)
    superseded = registration.supersede(job, "job-2", T0)
    assert superseded.status is JobStatus.FAILED and superseded.error is not None
    assert superseded.error.code == "superseded" and "job-2" in superseded.error.message
    requeued = registration.requeue(superseded, T0, "operator-1")
    assert (requeued.status, requeued.error, requeued.dispatched_at) == (JobStatus.QUEUED, None, None)
    assert requeued.history[-1].note == "retried by operator operator-1"


def test_a_used_migration_key_is_dropped_and_a_failed_one_kept_for_a_retry() -> None:
    _, job = _asked(SEND, migration_key="ab12CD!#ef")
    running = registration.start(job, T0)
    assert registration.succeed(running, T0).migration_key is None
    assert registration.fail(running, T0, TIMEOUT).migration_key == "ab12CD!#ef"


def test_the_history_keeps_the_first_entry_and_the_latest_ones() -> None:
    _, job = _asked(SEND)
    for _ in range(HISTORY_LIMIT):
        job = registration.retry_later(registration.start(job, T0), T0, "timeout")
    assert len(job.history) == HISTORY_LIMIT and job.history[0].note == "asked (request)"
    assert job.history[-1].attempt == HISTORY_LIMIT


def test_settling_the_participant_after_success_and_failure() -> None:
    identifier, job = _asked(RECEIVE)
    done = registration.succeed(registration.start(job, T0), T0)
    settled = registration.settle(identifier, done, T0)
    assert (settled.send, settled.receive, settled.directory) == (PeppolState.REGISTERED,) * 3
    assert settled.document_types == ("bis-billing-invoice",) and settled.last_error is None
    failed = registration.fail(registration.start(job, T0), T0, TIMEOUT)
    broken = registration.settle(identifier, failed, T0)
    assert (broken.send, broken.receive) == (PeppolState.FAILED, PeppolState.FAILED)
    assert broken.last_error == TIMEOUT
    with pytest.raises(TransitionRefused):
        registration.settle(identifier, job, T0)  # a queued job has no outcome yet


def test_only_the_latest_job_settles_its_participant() -> None:
    identifier, job = _asked(SEND)
    organisation = _organisation(identifier)
    done = registration.succeed(registration.start(job, T0), T0)
    settled = registration.settled(organisation, done, T0)
    assert settled is not None and settled.version == organisation.version + 1
    assert settled.identifiers[0].send is PeppolState.REGISTERED
    newer = _organisation(identifier.model_copy(update={"job_id": "job-2"}))
    assert registration.settled(newer, done, T0) is None
    assert registration.settled(None, done, T0) is None


def test_a_message_is_one_per_sending_of_a_job_in_the_participants_group() -> None:
    _, job = _asked(SEND)
    message = job.message()
    assert (message.deduplication_id, message.group_id) == ("job-1.1", "0106:68750110")
    assert registration.start(job, T0).message().deduplication_id == "job-1.2"
    long = job.model_copy(update={"participant_id": "0199:" + "X" * 130}).message()
    assert len(long.group_id) == 64


def test_registered_elsewhere_explains_the_migration_key_route() -> None:
    error = registration.registered_elsewhere("0106:69599076", "org-1", "https://smp.other.example")
    assert error.code == "registered_elsewhere"
    assert (
        "migration key" in error.message
        and "/organisations/org-1/peppol/0106:69599076/migration" in error.message
    )
    assert "https://smp.other.example" in error.message
