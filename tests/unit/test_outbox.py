"""The outbox sweeper over fakes: a job recorded while SQS was down is sent later without
anyone acting, and a job that never finishes is failed after the watchdog time."""

from __future__ import annotations

from typing import Any

from onboarding.domain.organisations import PeppolState
from onboarding.domain.registration import JobStatus
from tests.support.services import SETTINGS, World

KVK = "0106:68750110"


def test_a_job_recorded_while_sqs_was_down_is_sent_by_the_next_sweep_and_then_succeeds(
    world: World, admin: Any
) -> None:
    world.queue.unavailable = True
    organisation = world.active_organisation(admin)
    job_id = world.organisation(organisation.id).find(KVK).job_id
    assert world.queue.messages == [] and world.jobs.get(job_id).dispatched_at is None  # type: ignore[union-attr]
    outbox = world.outbox()
    assert outbox.sweep().not_sent == [job_id]  # still down: it stays due
    world.queue.unavailable = False
    report = outbox.sweep()
    assert report.sent == [job_id] and world.jobs.get(job_id).dispatched_at is not None  # type: ignore[union-attr]
    assert outbox.sweep().sent == []  # sent once: now only the watchdog looks at it, later
    [done] = world.work()
    assert done.status is JobStatus.SUCCEEDED and job_id not in world.memory.outbox


def test_a_job_sent_twice_is_one_message(world: World, admin: Any) -> None:
    organisation = world.active_organisation(admin)
    job = world.jobs.get(world.organisation(organisation.id).find(KVK).job_id)
    assert job is not None
    world.memory.jobs[job.id] = job.model_copy(update={"dispatched_at": None})  # its note got lost
    world.memory.outbox[job.id] = job.created_at
    assert world.outbox().sweep().sent == [job.id]
    assert world.queue.sends == 2 and len(world.queue.messages) == 1  # deduplicated by the queue


def test_a_running_job_that_was_never_noted_as_sent_is_only_noted(world: World, admin: Any) -> None:
    world.queue.unavailable = True
    organisation = world.active_organisation(admin)
    job = world.jobs.get(world.organisation(organisation.id).find(KVK).job_id)
    assert job is not None
    world.queue.unavailable = False
    world.queue.send(job.message())
    [message] = world.queue.take()
    from onboarding.domain import registration

    running = registration.start(job, world.clock())
    world.jobs.save(running, previous_version=job.version)
    report = world.outbox().sweep()
    assert (report.sent, report.noted) == ([], [job.id]) and world.queue.messages == []
    assert world.registrar().carry_out(message, 2).status is JobStatus.SUCCEEDED


def test_a_job_that_never_finishes_is_failed_after_the_watchdog_time(world: World, admin: Any) -> None:
    organisation = world.active_organisation(admin)
    job_id = world.organisation(organisation.id).find(KVK).job_id
    world.queue.take()  # every delivery of it died without an outcome, then it went to the DLQ
    outbox = world.outbox()
    world.clock.advance(seconds=SETTINGS.peppol.watchdog_seconds - 5)
    assert outbox.sweep().timed_out == []
    world.clock.advance(seconds=10)
    assert outbox.sweep().timed_out == [job_id]
    job = world.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.FAILED and job.error.code == "job_timed_out"  # type: ignore[union-attr]
    participant = world.organisation(organisation.id).find(KVK)
    assert participant.send is PeppolState.FAILED and participant.last_error.code == "job_timed_out"
    assert world.memory.outbox == {} and outbox.sweep().timed_out == []


def test_finished_jobs_leave_the_outbox(world: World, admin: Any) -> None:
    world.active_organisation(admin)
    world.work()
    assert world.memory.outbox == {}
    world.clock.advance(days=1)
    assert world.outbox().sweep().as_dict() == {"sent": [], "not_sent": [], "noted": [], "timed_out": []}
