"""Organisations: plain logic over repositories and the KvK, VIES and queue adapters.

Checks answer in the order of the API contract: the body (422), the resource (404, also for
another tenant's), the caller's role (403), the resource's state (409), credit or plan (402).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from onboarding.accounts import require_admin
from onboarding.domain import errors, registration
from onboarding.domain.errors import KvkUnavailable
from onboarding.domain.identifiers import InvalidIdentifier, ParsedIdentifier, parse
from onboarding.domain.models import CreditEntry, Environment, User
from onboarding.domain.organisations import (
    ActivationReview,
    Address,
    Contact,
    Identifier,
    Organisation,
    OrganisationStatus,
    PeppolTarget,
    ReceivePrompt,
    Verification,
    kvk_number_of,
)
from onboarding.domain.peppol import DEFAULT_DOCUMENT_TYPE_KEYS
from onboarding.domain.ports import (
    Environments,
    JobQueue,
    Kvk,
    KvkProfile,
    KvkSearchResult,
    Organisations,
    RegistrationJobs,
    Vies,
)
from onboarding.domain.registration import JobOrigin, RegistrationJob
from onboarding.domain.rules import now
from onboarding.observability import logger, metrics
from onboarding.registrations import dispatch, new_job
from onboarding.settings import Settings


@dataclass(frozen=True)
class IdentifierInput:
    scheme: str
    value: str


@dataclass(frozen=True)
class VerificationResult:
    verification: Verification
    source: str
    details: dict[str, Any]


@dataclass
class OrganisationService:
    settings: Settings
    organisations: Organisations
    environments: Environments
    jobs: RegistrationJobs
    kvk: Kvk
    vies: Vies
    queue: JobQueue
    clock: Callable[[], datetime] = field(default=now)

    # --- KvK search -------------------------------------------------------------------------
    def search(self, *, kvk_number: str | None, name: str | None) -> list[KvkSearchResult]:
        if bool(kvk_number) == bool(name):
            raise errors.InvalidInput(
                "query",
                "Search by either kvk_number or name.",
                "Zoek op kvk_number of op name, niet op beide.",
            )
        try:
            return self.kvk.search(kvk_number=kvk_number, name=name)
        except KvkUnavailable as exc:
            logger.warning("kvk unavailable", extra={"reason": exc.reason})
            raise

    # --- Organisations ----------------------------------------------------------------------
    def create_from_kvk(self, user: User, kvk_number: str) -> Organisation:
        requested = self._parse("body.kvk_number", IdentifierInput("0106", kvk_number), "NL")
        profile = self.kvk.profile(requested.value)
        if profile is None:
            raise errors.KvkNotFound
        if profile.kvk_number != requested.value:
            # What is claimed is the number asked for, never text from an outside answer.
            raise KvkUnavailable("answer for another KvK number")
        if not profile.active:
            raise errors.InvalidInput(
                "body.kvk_number",
                "This organisation is no longer registered at the KvK.",
                "Deze organisatie staat niet meer ingeschreven bij de KvK.",
            )
        require_admin(user)
        moment = self.clock()
        kvk_identifier = Identifier(
            scheme=requested.scheme.icd,
            value=requested.value,
            participant_id=requested.participant_id,
            primary=True,
            verification=Verification.VERIFIED,
            verification_source="kvk",
            verified_at=moment,
        )
        organisation = Organisation(
            id=str(uuid.uuid4()),
            environment_id=user.environment_id,
            name=profile.name,
            country="NL",
            address=_address(profile),
            kvk_number=requested.value,
            rsin=profile.rsin,
            legal_form=profile.legal_form,
            identifiers=(kvk_identifier,),
            created_at=moment,
            updated_at=moment,
        )
        return self._create(organisation)

    def create_by_hand(
        self,
        user: User,
        *,
        name: str,
        country: str,
        address: dict[str, Any],
        identifiers: list[IdentifierInput],
        contact: dict[str, Any] | None,
    ) -> Organisation:
        parsed = [self._parse(f"body.identifiers.{i}", given, country) for i, given in enumerate(identifiers)]
        keys = [p.participant_id.lower() for p in parsed]
        if len(set(keys)) != len(keys):
            raise errors.InvalidInput(
                "body.identifiers",
                "The same identifier is given twice.",
                "Dezelfde identificatie staat er twee keer in.",
            )
        _check_address_country(address, country)
        require_admin(user)
        moment = self.clock()
        claimed = tuple(
            Identifier(
                scheme=p.scheme.icd, value=p.value, participant_id=p.participant_id, primary=index == 0
            )
            for index, p in enumerate(parsed)
        )
        organisation = Organisation(
            id=str(uuid.uuid4()),
            environment_id=user.environment_id,
            name=name,
            country=country,
            address=Address(**{**address, "country": country}),
            contact=Contact(**(contact or {})),
            kvk_number=kvk_number_of(claimed),
            identifiers=claimed,
            created_at=moment,
            updated_at=moment,
        )
        return self._create(organisation)

    def _create(self, organisation: Organisation) -> Organisation:
        environment = self._environment(organisation.environment_id)
        limit = self.settings.plan.organisation_limit(environment.plan.value)
        self.organisations.create(organisation, plan_limit=limit)
        metrics.add_metric(name="OrganisationsCreated", unit="Count", value=1)
        return organisation

    def get(self, user: User, organisation_id: str) -> Organisation:
        """Only the caller's own environment is looked in: another tenant's is simply not found."""
        found = self.organisations.get(user.environment_id, organisation_id)
        if found is None:
            raise errors.OrganisationNotFound
        return found

    def list_organisations(self, user: User) -> list[Organisation]:
        return self.organisations.in_environment(user.environment_id)

    def update(self, user: User, organisation_id: str, changes: dict[str, Any]) -> Organisation:
        """Change what ``changes`` names; ``"contact": None`` clears the contact, a ``None``
        inside it clears that part (the request model refuses ``None`` for name and address)."""
        organisation = self.get(user, organisation_id)
        require_admin(user)
        if not changes:
            return organisation
        locked = {"name", "address"} & changes.keys()
        if locked and organisation.status is OrganisationStatus.ACTIVE:
            raise errors.OrganisationActive
        if locked and organisation.status is OrganisationStatus.PENDING_REVIEW:
            raise errors.LockedDuringReview
        update: dict[str, Any] = {}
        if "name" in changes:
            update["name"] = changes["name"]
        if "address" in changes:
            _check_address_country(changes["address"], organisation.country)
            update["address"] = Address(**{**changes["address"], "country": organisation.country})
        if "contact" in changes:
            given = changes["contact"]
            update["contact"] = Contact() if given is None else organisation.contact.model_copy(update=given)
        return self._save(organisation, **update)

    def delete(self, user: User, organisation_id: str) -> None:
        organisation = self.get(user, organisation_id)
        require_admin(user)
        if organisation.on_peppol:
            on_peppol = [i.participant_id for i in organisation.identifiers if i.on_peppol]
            raise errors.RegisteredOnPeppol(organisation.id, on_peppol)
        self.organisations.delete(organisation)

    # --- Identifiers ------------------------------------------------------------------------
    def add_identifier(self, user: User, organisation_id: str, given: IdentifierInput) -> Identifier:
        organisation = self.get(user, organisation_id)
        parsed = self._parse("body", given, organisation.country)
        require_admin(user)
        if organisation.status is OrganisationStatus.PENDING_REVIEW:
            raise errors.IdentifiersLockedDuringReview
        if organisation.identifier(parsed.participant_id.lower()):
            raise errors.IdentifierExists
        identifier = Identifier(
            scheme=parsed.scheme.icd,
            value=parsed.value,
            participant_id=parsed.participant_id,
            primary=not organisation.primary_identifiers,
        )
        self._save(
            organisation, claim=identifier.participant_id, identifiers=(*organisation.identifiers, identifier)
        )
        return identifier

    def remove_identifier(self, user: User, organisation_id: str, participant_id: str) -> None:
        organisation = self.get(user, organisation_id)
        identifier = self._identifier_of(organisation, participant_id)
        require_admin(user)
        if organisation.status is OrganisationStatus.PENDING_REVIEW:
            raise errors.IdentifiersLockedDuringReview
        if identifier.on_peppol:
            raise errors.RegisteredOnPeppol(organisation.id, [identifier.participant_id])
        remaining = [i for i in organisation.identifiers if i.participant_id != identifier.participant_id]
        if identifier.primary and remaining:  # the next one takes over, so one stays primary
            remaining[0] = remaining[0].model_copy(update={"primary": True})
        self._save(organisation, release=identifier.participant_id, identifiers=tuple(remaining))

    def verify_identifier(self, user: User, organisation_id: str, participant_id: str) -> VerificationResult:
        organisation = self.get(user, organisation_id)
        identifier = self._identifier_of(organisation, participant_id)
        require_admin(user)
        parsed = parse(identifier.scheme, identifier.value)
        if parsed.scheme.vat_country:
            result = self._verify_vat(parsed)
        elif parsed.scheme.icd == "0106":
            result = self._verify_kvk(parsed, organisation)
        else:
            raise errors.InvalidInput(
                "participant_id",
                f"There is no registry to verify a {parsed.scheme.name} against.",
                f"Er is geen register om een {parsed.scheme.name_nl} tegen te controleren.",
                code="verification_not_supported",
            )
        verified_at = self.clock() if result.verification is Verification.VERIFIED else identifier.verified_at
        changed = identifier.model_copy(
            update={
                "verification": result.verification,
                "verification_source": result.source,
                "verified_at": verified_at,
            }
        )
        self._save(
            organisation,
            identifiers=tuple(
                changed if i.participant_id == identifier.participant_id else i
                for i in organisation.identifiers
            ),
        )
        metrics.add_metric(name=f"Verification{result.verification.value.title()}", unit="Count", value=1)
        return result

    def _verify_vat(self, parsed: ParsedIdentifier) -> VerificationResult:
        country = parsed.scheme.vat_country or ""
        number = parsed.value[len(country) :] if parsed.value.startswith(country) else parsed.value
        checked = self.vies.check(country, number)
        verification = {
            "valid": Verification.VERIFIED,
            "invalid": Verification.REJECTED,
            "inconclusive": Verification.INCONCLUSIVE,
        }[checked.outcome]
        details = {
            "name": checked.name,
            "address": checked.address,
            "request_date": checked.request_date,
            "error": checked.error,
        }
        if verification is Verification.INCONCLUSIVE:
            details["retry"] = "VIES could not answer for now; verify again later."
        return VerificationResult(verification, "vies", details)

    def _verify_kvk(self, parsed: ParsedIdentifier, organisation: Organisation) -> VerificationResult:
        try:
            profile = self.kvk.profile(parsed.value)
        except KvkUnavailable as exc:
            return VerificationResult(
                Verification.INCONCLUSIVE,
                "kvk",
                {"error": exc.reason, "retry": "The KvK could not answer for now; verify again later."},
            )
        if profile is None or not profile.active:
            return VerificationResult(Verification.REJECTED, "kvk", {"name": None, "registered": False})
        return VerificationResult(
            Verification.VERIFIED,
            "kvk",
            {
                "name": profile.name,
                "registered": True,
                "name_matches": _same_name(profile.name, organisation.name),
            },
        )

    # --- Activation -------------------------------------------------------------------------
    def request_activation(self, user: User, organisation_id: str, method: str) -> Organisation:
        organisation = self.get(user, organisation_id)
        require_admin(user)
        if organisation.status is OrganisationStatus.ACTIVE:
            raise errors.OrganisationAlreadyActive
        if organisation.status is OrganisationStatus.PENDING_REVIEW:
            raise errors.ActivationPending
        if len(organisation.primary_identifiers) != 1:
            raise errors.PrimaryIdentifierRequired
        review = ActivationReview(method=method, requested_at=self.clock(), requested_by=user.id)
        return self._save(organisation, status=OrganisationStatus.PENDING_REVIEW, activation=review)

    def activation_requests(self) -> list[Organisation]:
        return self.organisations.pending_review()

    def decide(self, operator: str, organisation_id: str, decision: str, reason: str | None) -> Organisation:
        environment_id = self.organisations.environment_of(organisation_id)
        organisation = self.organisations.get(environment_id, organisation_id) if environment_id else None
        if organisation is None:
            raise errors.OrganisationNotFound
        if organisation.status is not OrganisationStatus.PENDING_REVIEW or organisation.activation is None:
            raise errors.NotPendingReview
        if decision == "approve" and len(organisation.primary_identifiers) != 1:
            # Identifiers may change while a request waits; approval needs the one to register.
            raise errors.PrimaryIdentifierRequired
        moment = self.clock()
        review = organisation.activation.model_copy(
            update={"decided_at": moment, "decided_by": operator, "reason": reason}
        )
        if decision == "reject":
            return self._save(organisation, status=OrganisationStatus.REJECTED, activation=review)
        # Approved: active, and its primary identifier goes on Peppol for sending.
        primary = organisation.primary_identifiers[0]
        target = registration.target_of(primary).model_copy(update={"send": True})
        changed, job = self._job(organisation, primary, target, JobOrigin.APPROVAL, operator)
        saved = self._save(
            organisation,
            status=OrganisationStatus.ACTIVE,
            activation=review,
            identifiers=organisation.replacing(changed),
            jobs=(job,),
        )
        self._dispatch(job)
        return saved

    # --- Receiving --------------------------------------------------------------------------
    def set_receiving(
        self, user: User, organisation_id: str, *, enabled: bool, accept_costs: bool
    ) -> Organisation:
        if enabled and not accept_costs:
            raise errors.InvalidInput(
                "body.accept_costs",
                "Receiving e-invoices is a paid service: accept the costs to enable it.",
                "Het ontvangen van e-facturen is een betaalde dienst: accepteer de kosten om het aan te"
                " zetten.",
                code="costs_not_accepted",
            )
        organisation = self.get(user, organisation_id)
        require_admin(user)
        if organisation.status is not OrganisationStatus.ACTIVE:
            raise errors.OrganisationNotActive
        if enabled == organisation.receiving.enabled:
            return organisation  # already so; the latest job stands
        if enabled:  # the primary identifier receives the default document types
            primary = organisation.primary_identifiers[0]
            asked = registration.target_of(primary)
            target = asked.model_copy(
                update={"receive": True, "document_types": asked.document_types or DEFAULT_DOCUMENT_TYPE_KEYS}
            )
            changes = [self._job(organisation, primary, target, JobOrigin.RECEIVING, user.id)]
        else:  # off: no identifier of the organisation receives any more
            changes = [
                self._job(
                    organisation,
                    identifier,
                    registration.target_of(identifier).model_copy(
                        update={"receive": False, "document_types": ()}
                    ),
                    JobOrigin.RECEIVING,
                    user.id,
                )
                for identifier in organisation.identifiers
                if registration.target_of(identifier).receive
            ]
        jobs = tuple(job for _, job in changes)
        receiving = organisation.receiving.model_copy(
            update={"enabled": enabled, "registration_job_id": jobs[0].id if jobs else None}
        )
        saved = self._save(
            organisation,
            receiving=receiving,
            identifiers=organisation.replacing(*(changed for changed, _ in changes)),
            jobs=jobs,
            require_credit=enabled,
        )
        for job in jobs:
            self._dispatch(job)
        return saved

    def answer_receive_prompt(self, user: User, organisation_id: str, choice: str) -> Organisation:
        if choice == "enable":
            return self.set_receiving(user, organisation_id, enabled=True, accept_costs=True)
        organisation = self.get(user, organisation_id)
        require_admin(user)
        prompt = ReceivePrompt.LATER if choice == "later" else ReceivePrompt.NEVER
        return self._save(
            organisation, receiving=organisation.receiving.model_copy(update={"prompt": prompt})
        )

    # --- Credit (operators) -----------------------------------------------------------------
    def add_credit(
        self, operator: str, environment_id: str, amount_cents: int, reference: str | None = None
    ) -> Environment:
        entry = CreditEntry(
            id=str(uuid.uuid4()), amount_cents=amount_cents, by=operator, at=self.clock(), reference=reference
        )
        environment = self.environments.add_credit(environment_id, entry)
        logger.info("credit added", extra={"environment_id": environment_id, "amount_cents": amount_cents})
        return environment

    def credit_entries(self, environment_id: str) -> tuple[Environment, list[CreditEntry]]:
        return self._environment(environment_id), self.environments.credit_entries(environment_id)

    # --- helpers ----------------------------------------------------------------------------
    def _environment(self, environment_id: str) -> Environment:
        environment = self.environments.get(environment_id)
        if environment is None:
            raise errors.EnvironmentNotFound
        return environment

    @staticmethod
    def _parse(field_name: str, given: IdentifierInput, country: str) -> ParsedIdentifier:
        try:
            parsed = parse(given.scheme, given.value)
        except InvalidIdentifier as exc:
            where = f"{field_name}.scheme" if exc.reason == "unknown_scheme" else f"{field_name}.value"
            if field_name == "body.kvk_number":
                where = field_name
            raise errors.InvalidInput(
                where, exc.message, exc.message_nl, code=f"invalid_identifier_{exc.reason}"
            ) from exc
        if parsed.scheme.country and parsed.scheme.country != country:
            raise errors.InvalidInput(
                f"{field_name}.scheme",
                f"A {parsed.scheme.name} belongs to an organisation in {parsed.scheme.country},"
                f" not {country}.",
                f"Een {parsed.scheme.name_nl} hoort bij een organisatie in {parsed.scheme.country}, niet in"
                f" {country}.",
                code="invalid_identifier_country",
            )
        return parsed

    @staticmethod
    def _identifier_of(organisation: Organisation, participant_id: str) -> Identifier:
        identifier = organisation.find(participant_id)
        if identifier is None:
            raise errors.IdentifierNotFound
        return identifier

    def _save(
        self,
        organisation: Organisation,
        *,
        claim: str | None = None,
        release: str | None = None,
        jobs: tuple[RegistrationJob, ...] = (),
        require_credit: bool = False,
        **changes: Any,
    ) -> Organisation:
        if "identifiers" in changes:  # the KvK number shown is always one the organisation claims
            changes["kvk_number"] = kvk_number_of(changes["identifiers"])
        updated = organisation.model_copy(
            update={**changes, "updated_at": self.clock(), "version": organisation.version + 1}
        )
        return self.organisations.save(
            updated,
            previous_version=organisation.version,
            claim=claim,
            release=release,
            jobs=jobs,
            require_credit=require_credit,
        )

    def _job(
        self,
        organisation: Organisation,
        identifier: Identifier,
        target: PeppolTarget,
        origin: JobOrigin,
        requested_by: str,
    ) -> tuple[Identifier, RegistrationJob]:
        """A registration job for ``identifier`` (the one job model the peppol function's routes
        use as well) and the identifier while it runs."""
        return new_job(
            self.settings.peppol,
            organisation,
            identifier,
            target,
            origin=origin,
            requested_by=requested_by,
            moment=self.clock(),
        )

    def _dispatch(self, job: RegistrationJob) -> None:
        """Put the (already recorded) job on the queue; if SQS fails, the outbox sweeper sends
        it later."""
        dispatch(
            job,
            queue=self.queue,
            jobs=self.jobs,
            moment=self.clock(),
            watchdog_seconds=self.settings.peppol.watchdog_seconds,
        )


def _address(profile: KvkProfile) -> Address:
    return Address(
        street=profile.street or "",
        postal_code=profile.postal_code or "",
        city=profile.city or "",
        country=profile.country,
    )


def _check_address_country(address: dict[str, Any], country: str) -> None:
    if address.get("country") not in (None, country):
        raise errors.InvalidInput(
            "body.address.country",
            "The address's country must be the organisation's.",
            "Het land van het adres moet dat van de organisatie zijn.",
        )


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())
