"""Repositories of organisations (with their platform-wide identifier claims) and of Peppol
registration jobs.

Item layout (pk / sk):
  ENV#<environment id>  / ORG#<organisation id>   the organisation, in its environment's
                                                   partition: a tenant reads only its own
  ORGREF#<organisation id> / ORGREF               which environment an organisation is in
                                                   (for operators, who work across tenants)
  PARTICIPANT#<participant id, lower case> / PARTICIPANT   the platform-wide claim
  JOB#<job id> / JOB                              a Peppol registration job
The environment item (ENV#<id> / ENV) counts its organisations, for the plan limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onboarding.adapters.dynamo import (
    REVIEW_INDEX,
    REVIEW_INDEX_KEY,
    ConditionFailed,
    Table,
    TransactionCancelled,
    TransactItem,
)
from onboarding.adapters.repositories import EnvironmentRepository
from onboarding.domain import errors
from onboarding.domain.identifiers import participant_key
from onboarding.domain.models import Environment
from onboarding.domain.organisations import (
    Organisation,
    OrganisationStatus,
    RegistrationJob,
)

NOT_EXISTS = "attribute_not_exists(pk)"
PENDING_REVIEW = "pending"


class OrganisationExists(errors.Conflict):
    code = "organisation_exists"
    message = "An identifier of this organisation is already claimed on the platform."


class PlanLimitReached(errors.DomainError):
    status = 402
    code = "plan_limit_reached"
    message = "Your plan allows no more organisations. Upgrade your plan to add more."


class OrganisationChanged(errors.Conflict):
    code = "organisation_changed"
    message = "The organisation changed meanwhile. Load it again and retry."


class InsufficientCredit(errors.DomainError):
    status = 402
    code = "insufficient_credit"
    message = "Receiving e-invoices needs credit. Top up your environment's credit first."


def _claim_pk(participant_id: str) -> str:
    return f"PARTICIPANT#{participant_key(participant_id)}"


class OrganisationRepository:
    def __init__(self, table: Table) -> None:
        self.table = table
        self.jobs = RegistrationJobRepository(table)

    # --- reading ---------------------------------------------------------------------------
    def get(self, environment_id: str, organisation_id: str) -> Organisation | None:
        item = self.table.get(f"ENV#{environment_id}", f"ORG#{organisation_id}")
        return self._organisation(item) if item else None

    def in_environment(self, environment_id: str) -> list[Organisation]:
        """An environment's organisations: one Query of its own partition."""
        items = self.table.query_partition(f"ENV#{environment_id}", "ORG#")
        return sorted((self._organisation(i) for i in items), key=lambda o: o.created_at)

    def environment_with_organisations(
        self, environment_id: str
    ) -> tuple[Environment | None, list[Organisation]]:
        """The environment and its organisations in one Query: they share its partition."""
        items = self.table.query_partition(f"ENV#{environment_id}")
        environment = next((EnvironmentRepository.environment(i) for i in items if i["sk"] == "ENV"), None)
        organisations = [self._organisation(i) for i in items if str(i["sk"]).startswith("ORG#")]
        return environment, sorted(organisations, key=lambda o: o.created_at)

    def environment_of(self, organisation_id: str) -> str | None:
        item = self.table.get(f"ORGREF#{organisation_id}", "ORGREF")
        return str(item["environment_id"]) if item else None

    def pending_review(self) -> list[Organisation]:
        """Organisations waiting for an operator, oldest request first (a sparse GSI)."""
        items = self.table.query_index(REVIEW_INDEX, REVIEW_INDEX_KEY, PENDING_REVIEW)
        return sorted(
            (self._organisation(i) for i in items),
            key=lambda o: o.activation.requested_at if o.activation else o.created_at,
        )

    # --- writing ---------------------------------------------------------------------------
    def create(self, organisation: Organisation, *, plan_limit: int) -> None:
        """The organisation, its reference, a claim per identifier and the environment's
        count, all or nothing. ``OrganisationExists`` (409) before ``PlanLimitReached`` (402)."""
        count = self.table.update_item(
            f"ENV#{organisation.environment_id}",
            "ENV",
            update="ADD #n :one",
            names={"#n": "organisation_count", "#pk": "pk"},
            values={":one": 1, ":limit": plan_limit},
            condition="attribute_exists(#pk) AND (attribute_not_exists(#n) OR #n < :limit)",
        )
        items = [
            count,
            self._put(organisation, condition=NOT_EXISTS),
            self.table.put(
                {
                    "pk": f"ORGREF#{organisation.id}",
                    "sk": "ORGREF",
                    "type": "organisation_ref",
                    "environment_id": organisation.environment_id,
                },
                condition=NOT_EXISTS,
            ),
            *(self._claim(organisation, i.participant_id) for i in organisation.identifiers),
        ]
        try:
            self.table.transact(items)
        except TransactionCancelled as cancelled:
            failed = cancelled.failed_indexes
            if any(index >= 3 for index in failed) or cancelled.conflicted:
                raise OrganisationExists from cancelled
            if 0 in failed:
                raise PlanLimitReached from cancelled
            raise OrganisationChanged from cancelled

    def save(
        self,
        organisation: Organisation,
        *,
        previous_version: int,
        claim: str | None = None,
        release: str | None = None,
        jobs: tuple[RegistrationJob, ...] = (),
        require_credit: bool = False,
    ) -> Organisation:
        """Write ``organisation`` if nobody changed it since ``previous_version``, in one
        transaction with: a new identifier ``claim`` (409 if taken), a ``release``d one, the
        registration ``jobs`` it starts, and (``require_credit``) a check that its environment
        has a positive balance (402 if not)."""
        items = [
            self._put(
                organisation,
                condition="#v = :v",
                names={"#v": "version"},
                condition_values={":v": previous_version},
            )
        ]
        claim_at = credit_at = None
        if claim:
            claim_at = len(items)
            items.append(self._claim(organisation, claim))
        if release:
            items.append(
                self.table.delete(
                    _claim_pk(release),
                    "PARTICIPANT",
                    condition="organisation_id = :id",
                    condition_values={":id": organisation.id},
                )
            )
        if require_credit:
            credit_at = len(items)
            items.append(
                self.table.check(
                    f"ENV#{organisation.environment_id}",
                    "ENV",
                    condition="credit_balance_cents > :zero",
                    condition_values={":zero": 0},
                )
            )
        items.extend(self.jobs.put_item(job) for job in jobs)
        try:
            self.table.transact(items)
        except TransactionCancelled as cancelled:
            failed = cancelled.failed_indexes
            if claim_at in failed:
                raise OrganisationExists from cancelled
            if 0 in failed or cancelled.conflicted:
                raise OrganisationChanged from cancelled
            if credit_at in failed:
                raise InsufficientCredit from cancelled
            raise OrganisationChanged from cancelled  # e.g. a released claim that changed meanwhile
        return organisation

    def delete(self, organisation: Organisation) -> None:
        items = [
            self.table.delete(
                f"ENV#{organisation.environment_id}",
                f"ORG#{organisation.id}",
                condition="#v = :v",
                names={"#v": "version"},
                condition_values={":v": organisation.version},
            ),
            self.table.delete(f"ORGREF#{organisation.id}", "ORGREF"),
            self.table.update_item(
                f"ENV#{organisation.environment_id}",
                "ENV",
                update="ADD #n :minus",
                names={"#n": "organisation_count"},
                values={":minus": -1},
            ),
            *(
                self.table.delete(_claim_pk(i.participant_id), "PARTICIPANT")
                for i in organisation.identifiers
            ),
        ]
        try:
            self.table.transact(items)
        except TransactionCancelled as cancelled:
            raise OrganisationChanged from cancelled

    def _claim(self, organisation: Organisation, participant_id: str) -> TransactItem:
        return self.table.put(
            {
                "pk": _claim_pk(participant_id),
                "sk": "PARTICIPANT",
                "type": "participant_claim",
                "participant_id": participant_id,
                "organisation_id": organisation.id,
                "environment_id": organisation.environment_id,
            },
            condition=NOT_EXISTS,
        )

    def _put(self, organisation: Organisation, **condition: Any) -> TransactItem:
        values = organisation.model_dump(mode="json")
        values.update(
            pk=f"ENV#{organisation.environment_id}", sk=f"ORG#{organisation.id}", type="organisation"
        )
        if organisation.status is OrganisationStatus.PENDING_REVIEW and organisation.activation:
            # In the review queue only while it waits for a decision.
            values.update(
                review_queue=PENDING_REVIEW, requested_at=organisation.activation.requested_at.isoformat()
            )
        return self.table.put(values, **condition)

    @staticmethod
    def _organisation(item: dict[str, Any]) -> Organisation:
        return Organisation.model_validate(item)


class RegistrationJobRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def put_item(self, job: RegistrationJob) -> TransactItem:
        values = job.model_dump(mode="json")
        values.update(pk=f"JOB#{job.id}", sk="JOB", type="registration_job")
        return self.table.put(values, condition=NOT_EXISTS)

    def get(self, job_id: str) -> RegistrationJob | None:
        item = self.table.get(f"JOB#{job_id}", "JOB")
        return RegistrationJob.model_validate(item) if item else None

    def mark_dispatched(self, job_id: str, moment: datetime) -> None:
        self.table.update(
            f"JOB#{job_id}",
            "JOB",
            update="SET dispatched_at = :at",
            names={},
            values={":at": moment.isoformat()},
        )


class CreditRepository:
    """An environment's prepaid credit (integer cents), shared by its organisations."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def add(self, environment_id: str, amount_cents: int, moment: datetime) -> Environment:
        try:
            item = self.table.update(
                f"ENV#{environment_id}",
                "ENV",
                update="ADD credit_balance_cents :amount SET updated_at = :at",
                names={"#pk": "pk"},
                values={":amount": amount_cents, ":at": moment.isoformat()},
                condition="attribute_exists(#pk)",
            )
        except ConditionFailed as exc:
            raise errors.NotFound("There is no such environment.") from exc
        return EnvironmentRepository.environment(item)
