"""Peppol registration jobs.

Item layout (pk / sk):
  JOB#<job id> / JOB    a registration job: participant, action, capability, status, attempts,
                        history; ``dispatched_at`` once it is on the queue
Jobs are written in the same transaction as the organisation change that starts them
(``organisations``), so a job exists exactly when its change does.
"""

from __future__ import annotations

from datetime import datetime

from onboarding.adapters.dynamo import NOT_EXISTS, Put, Table, Update
from onboarding.domain.organisations import RegistrationJob

JOB_SK = "JOB"


def _pk(job_id: str) -> str:
    return f"JOB#{job_id}"


def job_put(job: RegistrationJob) -> Put:
    values = job.model_dump(mode="json")
    values.update(pk=_pk(job.id), sk=JOB_SK, type="registration_job")
    return Put(values, condition=NOT_EXISTS)


class RegistrationJobRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, job_id: str) -> RegistrationJob | None:
        item = self.table.get(_pk(job_id), JOB_SK)
        return RegistrationJob.model_validate(item) if item else None

    def mark_dispatched(self, job_id: str, moment: datetime) -> None:
        self.table.write(
            Update(_pk(job_id), JOB_SK, "SET dispatched_at = :at", values={":at": moment.isoformat()})
        )
