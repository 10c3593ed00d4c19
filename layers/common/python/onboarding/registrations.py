"""Starting Peppol registration jobs and putting them on the queue: the one way the
organisations function (approval, receiving), the peppol function (its routes) and the
outbox sweeper do it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from onboarding.domain import registration
from onboarding.domain.errors import QueueUnavailable
from onboarding.domain.organisations import Identifier, Organisation, PeppolTarget
from onboarding.domain.ports import JobQueue, RegistrationJobs
from onboarding.domain.registration import JobOrigin, RegistrationJob
from onboarding.observability import logger, metrics
from onboarding.settings import PeppolSettings


def new_job(
    settings: PeppolSettings,
    organisation: Organisation,
    identifier: Identifier,
    target: PeppolTarget,
    *,
    origin: JobOrigin,
    requested_by: str,
    moment: datetime,
    migration_key: str | None = None,
) -> tuple[Identifier, RegistrationJob]:
    """A job that brings ``identifier`` to ``target`` (with a business card in the Directory
    while it is registered, if the platform publishes them), and the identifier while it
    runs. The caller saves both with the organisation, then ``dispatch``es the job."""
    directory = settings.directory and target.registered
    return registration.ask(
        organisation,
        identifier,
        target.model_copy(update={"directory": directory}),
        job_id=str(uuid.uuid4()),
        origin=origin,
        moment=moment,
        requested_by=requested_by,
        migration_key=migration_key,
    )


def dispatch(
    job: RegistrationJob,
    *,
    queue: JobQueue,
    jobs: RegistrationJobs,
    moment: datetime,
    watchdog_seconds: int,
) -> bool:
    """Send ``job`` (already recorded, so in the outbox) and note when. False when SQS did
    not take it: the job stays due in the outbox and the sweeper sends it, nobody has to act."""
    try:
        queue.send(job.message())
    except QueueUnavailable as exc:
        logger.warning("registration job not dispatched", extra={"job_id": job.id, "reason": str(exc)})
        metrics.add_metric(name="JobsNotDispatched", unit="Count", value=1)
        return False
    try:
        jobs.mark_dispatched(job.id, moment, due_again=moment + timedelta(seconds=watchdog_seconds))
    except Exception as exc:
        # Left undone, the job stays due: the sweeper notes it (or sends it again, which the
        # queue's deduplication and the job's version make harmless).
        logger.warning("dispatch not noted", extra={"job_id": job.id, "error": type(exc).__name__})
    return True
