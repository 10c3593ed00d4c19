"""The outbox sweeper's logic: no registration job is lost. Plain logic over ports.

Every job that is not final is in the outbox (a sparse index, ``repositories/jobs.py``),
due at once when it is recorded and due again after the watchdog time once it is on the
queue. A sweep (every minute in AWS) looks at what is due:
- recorded but never sent (SQS was down when it was asked for): send it now;
- running but not noted as sent (only the note got lost): note it;
- sent, and still not final after the watchdog time: every attempt stopped without an
  outcome (the worker timed out or crashed each time) and the message went to the
  dead-letter queue. The job is failed with that reason; an operator can retry it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from onboarding.domain import registration
from onboarding.domain.errors import JobChanged, OrganisationChanged
from onboarding.domain.organisations import PeppolError
from onboarding.domain.ports import JobQueue, Organisations, RegistrationJobs
from onboarding.domain.registration import JobStatus
from onboarding.domain.rules import now
from onboarding.observability import logger, metrics
from onboarding.registrations import dispatch
from onboarding.settings import Settings

TIMED_OUT = PeppolError(
    code="job_timed_out",
    message="The job did not finish: every attempt stopped without an outcome. An operator can retry it.",
)


@dataclass
class SweepReport:
    sent: list[str] = field(default_factory=list)
    not_sent: list[str] = field(default_factory=list)
    noted: list[str] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "sent": self.sent,
            "not_sent": self.not_sent,
            "noted": self.noted,
            "timed_out": self.timed_out,
        }


@dataclass
class Outbox:
    settings: Settings
    jobs: RegistrationJobs
    organisations: Organisations
    queue: JobQueue
    clock: Callable[[], datetime] = field(default=now)
    batch: int = 100  # per sweep; the rest waits a minute

    def sweep(self) -> SweepReport:
        moment = self.clock()
        report = SweepReport()
        watchdog = self.settings.peppol.watchdog_seconds
        for listed in self.jobs.due(moment, limit=self.batch):
            job = self.jobs.get(listed.id)  # the index lags behind: act on the job as it is now
            if job is None or job.final:
                continue
            if job.dispatched_at is None and job.status is JobStatus.QUEUED:
                sent = dispatch(
                    job, queue=self.queue, jobs=self.jobs, moment=moment, watchdog_seconds=watchdog
                )
                (report.sent if sent else report.not_sent).append(job.id)
                if not sent:
                    break  # SQS is down: the next sweep tries again
            elif job.dispatched_at is None:
                self.jobs.mark_dispatched(job.id, moment, due_again=moment + timedelta(seconds=watchdog))
                report.noted.append(job.id)
            else:
                self._time_out(job, moment, report)
        if report.sent or report.timed_out:
            logger.info("outbox swept", extra=report.as_dict())
            metrics.add_metric(name="JobsSentByOutbox", unit="Count", value=len(report.sent))
            metrics.add_metric(name="JobsTimedOut", unit="Count", value=len(report.timed_out))
        return report

    def _time_out(self, job: registration.RegistrationJob, moment: datetime, report: SweepReport) -> None:
        failed = registration.fail(job, moment, TIMED_OUT)
        organisation = self.organisations.get(job.environment_id, job.organisation_id)
        try:
            self.jobs.save(
                failed,
                previous_version=job.version,
                organisation=registration.settled(organisation, failed, moment),
            )
        except (JobChanged, OrganisationChanged):
            return  # it moved meanwhile: the next sweep sees it as it is then
        logger.warning("registration job timed out", extra={"job_id": job.id})
        report.timed_out.append(job.id)
