"""Organisations, with their platform-wide identifier claims.

Item layout (pk / sk):
  ENV#<environment id>      / ORG#<organisation id>   the organisation, in its environment's
                                                      partition: a tenant reads only its own
  ORGREF#<organisation id>  / ORGREF                  which environment an organisation is in
                                                      (for operators, who work across tenants)
  PARTICIPANT#<participant id, lower case> / PARTICIPANT   the platform-wide claim of an
                                                      identifier (organisation, environment)
While an organisation waits for an operator's review its item carries ``review_queue`` and
``requested_at``: the sparse ``by_review_queue`` index lists exactly those, oldest first.
The environment item (``environments``) counts its organisations, for the plan limit.
"""

from __future__ import annotations

from typing import Any

from onboarding.adapters.dynamo import (
    NOT_EXISTS,
    REVIEW_INDEX,
    REVIEW_INDEX_KEY,
    Check,
    Delete,
    Put,
    Table,
    TransactionCancelled,
    Update,
    Write,
)
from onboarding.adapters.repositories import environments
from onboarding.adapters.repositories.jobs import job_put
from onboarding.domain import errors
from onboarding.domain.identifiers import participant_key
from onboarding.domain.models import Environment
from onboarding.domain.organisations import PEPPOL_FIELDS, Organisation, OrganisationStatus
from onboarding.domain.registration import RegistrationJob

IN_REVIEW = "pending"
ORG_PREFIX = "ORG#"


def _claim_pk(participant_id: str) -> str:
    return f"PARTICIPANT#{participant_key(participant_id)}"


def _ref_pk(organisation_id: str) -> str:
    return f"ORGREF#{organisation_id}"


def _claim(organisation: Organisation, participant_id: str) -> Put:
    return Put(
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


def organisation_key(environment_id: str, organisation_id: str) -> tuple[str, str]:
    return environments.environment_pk(environment_id), f"{ORG_PREFIX}{organisation_id}"


def organisation_put(organisation: Organisation, *, previous_version: int | None) -> Put:
    """The organisation item: new (``previous_version`` None) or replacing that version."""
    values = organisation.model_dump(mode="json")
    values.update(
        pk=environments.environment_pk(organisation.environment_id),
        sk=f"{ORG_PREFIX}{organisation.id}",
        type="organisation",
    )
    if organisation.status is OrganisationStatus.PENDING_REVIEW and organisation.activation:
        # In the review queue only while it waits for a decision.
        values.update(review_queue=IN_REVIEW, requested_at=organisation.activation.requested_at.isoformat())
    if previous_version is None:
        return Put(values, condition=NOT_EXISTS)
    return Put(values, condition="#v = :v", names={"#v": "version"}, values={":v": previous_version})


def participant_update(organisation: Organisation, participant_id: str, job_id: str) -> Update:
    """Only one identifier's Peppol state (as ``organisation`` has it), provided the stored
    organisation still has that identifier at the same place with ``job_id`` as its latest
    job. A registration job writes this, not the whole organisation, so jobs of one
    organisation's identifiers never conflict with each other; the version still moves on, so
    a writer that read the organisation before sees the change (and retries)."""
    key = participant_id.lower()
    index, identifier = next(
        (i, found) for i, found in enumerate(organisation.identifiers) if found.participant_id.lower() == key
    )
    dumped = identifier.model_dump(mode="json")
    names = {
        "#ids": "identifiers",
        "#pid": "participant_id",
        "#job": "job_id",
        "#updated": "updated_at",
        "#v": "version",
    }
    values: dict[str, Any] = {
        ":updated": organisation.updated_at.isoformat(),
        ":one": 1,
        ":pid": identifier.participant_id,
        ":job": job_id,
    }
    sets, removes = ["#updated = :updated", "#v = #v + :one"], []
    for number, name in enumerate(PEPPOL_FIELDS):
        names[f"#f{number}"] = name
        if dumped[name] is None:
            removes.append(f"#ids[{index}].#f{number}")
        else:
            sets.append(f"#ids[{index}].#f{number} = :f{number}")
            values[f":f{number}"] = dumped[name]
    pk, sk = organisation_key(organisation.environment_id, organisation.id)
    return Update(
        pk,
        sk,
        "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else ""),
        names,
        values,
        condition=f"#ids[{index}].#pid = :pid AND #ids[{index}].#job = :job",
    )


def _organisation(item: dict[str, Any]) -> Organisation:
    return Organisation.model_validate(item)


def _oldest_first(organisations: list[Organisation]) -> list[Organisation]:
    return sorted(organisations, key=lambda o: o.created_at)


class OrganisationRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    # --- reading -------------------------------------------------------------------------------
    def get(self, environment_id: str, organisation_id: str) -> Organisation | None:
        item = self.table.get(environments.environment_pk(environment_id), f"{ORG_PREFIX}{organisation_id}")
        return _organisation(item) if item else None

    def in_environment(self, environment_id: str) -> list[Organisation]:
        """An environment's organisations: one Query of its own partition."""
        items = self.table.query(environments.environment_pk(environment_id), ORG_PREFIX)
        return _oldest_first([_organisation(i) for i in items])

    def environment_with_organisations(
        self, environment_id: str
    ) -> tuple[Environment | None, list[Organisation]]:
        """The environment and its organisations in one Query: they share its partition."""
        items = self.table.query(environments.environment_pk(environment_id))
        environment = next(
            (environments.environment_from_item(i) for i in items if environments.is_environment_item(i)),
            None,
        )
        organisations = [_organisation(i) for i in items if str(i["sk"]).startswith(ORG_PREFIX)]
        return environment, _oldest_first(organisations)

    def claimed_by(self, participant_id: str) -> str | None:
        """The organisation that claims a participant identifier on the platform, if any."""
        item = self.table.get(_claim_pk(participant_id), "PARTICIPANT")
        return str(item["organisation_id"]) if item else None

    def environment_of(self, organisation_id: str) -> str | None:
        item = self.table.get(_ref_pk(organisation_id), "ORGREF")
        return str(item["environment_id"]) if item else None

    def pending_review(self) -> list[Organisation]:
        """Organisations waiting for an operator, oldest request first (a sparse GSI)."""
        items = self.table.query_index(REVIEW_INDEX, REVIEW_INDEX_KEY, IN_REVIEW)
        return sorted(
            (_organisation(i) for i in items),
            key=lambda o: o.activation.requested_at if o.activation else o.created_at,
        )

    # --- writing -------------------------------------------------------------------------------
    def create(self, organisation: Organisation, *, plan_limit: int) -> None:
        """The organisation, its reference, a claim per identifier and the environment's
        count, all or nothing. ``OrganisationExists`` (409) before ``PlanLimitReached`` (402)."""
        writes: dict[str, Write] = {
            "count": Update(
                environments.environment_pk(organisation.environment_id),
                environments.ENVIRONMENT_SK,
                "ADD #n :one",
                {"#n": "organisation_count", "#pk": "pk"},
                {":one": 1, ":limit": plan_limit},
                condition="attribute_exists(#pk) AND (attribute_not_exists(#n) OR #n < :limit)",
            ),
            "organisation": organisation_put(organisation, previous_version=None),
            "reference": Put(
                {
                    "pk": _ref_pk(organisation.id),
                    "sk": "ORGREF",
                    "type": "organisation_ref",
                    "environment_id": organisation.environment_id,
                },
                condition=NOT_EXISTS,
            ),
            **{
                f"claim:{i.participant_id}": _claim(organisation, i.participant_id)
                for i in organisation.identifiers
            },
        }
        try:
            self.table.transact(writes)
        except TransactionCancelled as cancelled:
            if cancelled.failed_on_kind("claim") or cancelled.conflicted:
                raise errors.OrganisationExists from cancelled
            if cancelled.failed_on("count"):
                raise errors.PlanLimitReached from cancelled
            raise errors.OrganisationChanged from cancelled

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
        writes: dict[str, Write] = {
            "organisation": organisation_put(organisation, previous_version=previous_version)
        }
        if claim:
            writes["claim"] = _claim(organisation, claim)
        if release:
            writes["release"] = Delete(
                _claim_pk(release),
                "PARTICIPANT",
                condition="organisation_id = :id",
                values={":id": organisation.id},
            )
        if require_credit:
            writes["credit"] = Check(
                environments.environment_pk(organisation.environment_id),
                environments.ENVIRONMENT_SK,
                condition="credit_balance_cents > :zero",
                values={":zero": 0},
            )
        writes.update({f"job:{job.id}": job_put(job) for job in jobs})
        try:
            self.table.transact(writes)
        except TransactionCancelled as cancelled:
            if cancelled.failed_on("claim"):
                raise errors.OrganisationExists from cancelled
            if cancelled.failed_on("organisation") or cancelled.conflicted:
                raise errors.OrganisationChanged from cancelled
            if cancelled.failed_on("credit"):
                raise errors.InsufficientCredit from cancelled
            raise errors.OrganisationChanged from cancelled  # e.g. a released claim that changed meanwhile
        return organisation

    def delete(self, organisation: Organisation) -> None:
        writes: dict[str, Write] = {
            "organisation": Delete(
                environments.environment_pk(organisation.environment_id),
                f"{ORG_PREFIX}{organisation.id}",
                condition="#v = :v",
                names={"#v": "version"},
                values={":v": organisation.version},
            ),
            "reference": Delete(_ref_pk(organisation.id), "ORGREF"),
            "count": Update(
                environments.environment_pk(organisation.environment_id),
                environments.ENVIRONMENT_SK,
                "ADD #n :minus",
                {"#n": "organisation_count"},
                {":minus": -1},
            ),
            **{
                f"claim:{i.participant_id}": Delete(_claim_pk(i.participant_id), "PARTICIPANT")
                for i in organisation.identifiers
            },
        }
        try:
            self.table.transact(writes)
        except TransactionCancelled as cancelled:
            raise errors.OrganisationChanged from cancelled
