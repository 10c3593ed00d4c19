"""Peppol registration as the API offers it: each participant's state, asking for a
registration (a job the worker carries out), a job's progress, migration keys both ways, and
an operator's retry of a failed job. Plain logic over ports.

Checks answer in the order of the API contract: the body (422), the resource (404, also for
another tenant's), the caller's role (403), the resource's state (409), credit (402).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from onboarding.accounts import require_admin
from onboarding.domain import errors, registration
from onboarding.domain.errors import JobChanged, SmpRejected, SmpUnavailable
from onboarding.domain.models import User
from onboarding.domain.organisations import Identifier, Organisation, OrganisationStatus, PeppolTarget
from onboarding.domain.peppol import (
    DEFAULT_DOCUMENT_TYPE_KEYS,
    DOCUMENT_TYPES,
    MIGRATION_KEY_SPECIALS,
    UnknownDocumentType,
    document_type,
    migration_key_problem,
)
from onboarding.domain.ports import JobQueue, Organisations, RegistrationJobs, Smp
from onboarding.domain.registration import JobOrigin, JobStatus, RegistrationJob
from onboarding.domain.rules import now
from onboarding.observability import logger, metrics
from onboarding.registrations import dispatch, new_job
from onboarding.settings import Settings


@dataclass(frozen=True)
class MigrationKey:
    migration_key: str
    expires_at: datetime


@dataclass
class PeppolService:
    settings: Settings
    organisations: Organisations
    jobs: RegistrationJobs
    queue: JobQueue
    smp: Callable[[], Smp]  # built when first needed: only the migration-key route talks to the SMP
    clock: Callable[[], datetime] = field(default=now)

    # --- Reading ----------------------------------------------------------------------------
    def participants(self, user: User, organisation_id: str) -> Organisation:
        return self._organisation(user, organisation_id)

    def job(self, user: User, job_id: str) -> RegistrationJob:
        """Another tenant's job is simply not found."""
        found = self.jobs.get(job_id)
        if found is None or found.environment_id != user.environment_id:
            raise errors.JobNotFound
        return found

    # --- Asking for a registration --------------------------------------------------------------
    def request(
        self,
        user: User,
        organisation_id: str,
        participant_id: str,
        *,
        send: bool,
        receive: bool,
        document_types: list[str] | None,
    ) -> RegistrationJob:
        """The job that makes the participant's registration what is asked; the latest job
        again if it already asks exactly that (and has not failed)."""
        chosen = _document_types(document_types, receive=receive)
        organisation = self._organisation(user, organisation_id)
        identifier = _identifier_of(organisation, participant_id)
        require_admin(user)
        if organisation.status is not OrganisationStatus.ACTIVE:
            raise errors.OrganisationNotActive
        if receive and not organisation.receiving.enabled:
            raise errors.ReceivingNotEnabled
        asked = registration.target_of(identifier)
        if receive:
            chosen = chosen or asked.document_types or DEFAULT_DOCUMENT_TYPE_KEYS
        target = PeppolTarget(
            send=send,
            receive=receive,
            document_types=chosen if receive else (),
            directory=self.settings.peppol.directory and (send or receive),
        )
        latest = self.jobs.get(identifier.job_id) if identifier.job_id else None
        if latest is not None and latest.target == target and latest.status is not JobStatus.FAILED:
            return latest  # asked already: that job stands
        return self._start(organisation, identifier, target, JobOrigin.REQUEST, user, require_credit=receive)

    # --- Migration -------------------------------------------------------------------------------
    def migration_key(self, user: User, organisation_id: str, participant_id: str) -> MigrationKey:
        """A key to move the participant to another provider. phoss-smp prepares the move in
        the SML and reports no expiry; ours is a policy (``peppol.migration_key_days``)."""
        organisation = self._organisation(user, organisation_id)
        identifier = _identifier_of(organisation, participant_id)
        require_admin(user)
        if not identifier.registered_here:
            raise errors.NotRegisteredHere
        try:
            started = self.smp().start_outbound_migration(identifier.participant_id)
        except SmpRejected as exc:
            if exc.status == 404:  # the SMP has no service group for it (any more)
                raise errors.NotRegisteredHere from exc
            logger.error("migration key refused by the SMP", extra={"reason": exc.reason})
            raise errors.SmpServiceUnavailable from exc
        except SmpUnavailable as exc:
            logger.warning("SMP unavailable", extra={"reason": exc.reason})
            raise errors.SmpServiceUnavailable from exc
        metrics.add_metric(name="MigrationKeysIssued", unit="Count", value=1)
        expires_at = started.expires_at or self.clock() + timedelta(
            days=self.settings.peppol.migration_key_days
        )
        return MigrationKey(migration_key=started.migration_key, expires_at=expires_at)

    def migrate(
        self, user: User, organisation_id: str, participant_id: str, migration_key: str
    ) -> RegistrationJob:
        """Move the participant here with the key its current provider handed out."""
        problem = migration_key_problem(migration_key)
        if problem is not None:
            raise errors.InvalidInput(
                "body.migration_key",
                problem,
                "Een migratiesleutel heeft 8 tot 24 tekens zonder spaties, met minstens twee "
                f"hoofdletters, kleine letters, cijfers en speciale tekens ({MIGRATION_KEY_SPECIALS}).",
                code="invalid_migration_key",
            )
        organisation = self._organisation(user, organisation_id)
        identifier = _identifier_of(organisation, participant_id)
        require_admin(user)
        if organisation.status is not OrganisationStatus.ACTIVE:
            raise errors.OrganisationNotActive
        if identifier.registered_here:
            raise errors.AlreadyRegisteredHere
        target = registration.target_of(identifier).model_copy(update={"send": True})
        return self._start(
            organisation, identifier, target, JobOrigin.MIGRATION, user, migration_key=migration_key
        )

    # --- Operators ----------------------------------------------------------------------------
    def retry(self, operator: str, job_id: str) -> RegistrationJob:
        """Queue a failed job again (its participant heads for the job's target again)."""
        job = self.jobs.get(job_id)
        if job is None:
            raise errors.JobNotFound
        if job.status is not JobStatus.FAILED:
            raise errors.JobNotFailed
        organisation = self.organisations.get(job.environment_id, job.organisation_id)
        identifier = organisation.find(job.participant_id) if organisation else None
        if organisation is None or identifier is None or identifier.job_id != job.id:
            raise errors.JobSuperseded
        moment = self.clock()
        requeued = registration.requeue(job, moment, operator)
        reopened = registration.reopen(identifier, requeued, moment)
        updated = organisation.model_copy(
            update={
                "identifiers": organisation.replacing(reopened),
                "updated_at": moment,
                "version": organisation.version + 1,
            }
        )
        try:
            self.jobs.save(requeued, previous_version=job.version, organisation=updated, redispatch=True)
        except JobChanged as exc:
            raise errors.JobChangedMeanwhile from exc
        logger.info("registration job requeued", extra={"job_id": job.id, "operator": operator})
        self._dispatch(requeued)
        return requeued

    # --- helpers ----------------------------------------------------------------------------
    def _organisation(self, user: User, organisation_id: str) -> Organisation:
        """Only the caller's own environment is looked in: another tenant's is simply not found."""
        found = self.organisations.get(user.environment_id, organisation_id)
        if found is None:
            raise errors.OrganisationNotFound
        return found

    def _start(
        self,
        organisation: Organisation,
        identifier: Identifier,
        target: PeppolTarget,
        origin: JobOrigin,
        user: User,
        *,
        require_credit: bool = False,
        migration_key: str | None = None,
    ) -> RegistrationJob:
        moment = self.clock()
        changed, job = new_job(
            self.settings.peppol,
            organisation,
            identifier,
            target,
            origin=origin,
            requested_by=user.id,
            moment=moment,
            migration_key=migration_key,
        )
        updated = organisation.model_copy(
            update={
                "identifiers": organisation.replacing(changed),
                "updated_at": moment,
                "version": organisation.version + 1,
            }
        )
        self.organisations.save(
            updated, previous_version=organisation.version, jobs=(job,), require_credit=require_credit
        )
        metrics.add_metric(name="RegistrationJobsAsked", unit="Count", value=1)
        self._dispatch(job)
        return job

    def _dispatch(self, job: RegistrationJob) -> None:
        dispatch(
            job,
            queue=self.queue,
            jobs=self.jobs,
            moment=self.clock(),
            watchdog_seconds=self.settings.peppol.watchdog_seconds,
        )


def _identifier_of(organisation: Organisation, participant_id: str) -> Identifier:
    identifier = organisation.find(participant_id)
    if identifier is None:
        raise errors.IdentifierNotFound
    return identifier


def _document_types(given: list[str] | None, *, receive: bool) -> tuple[str, ...]:
    """The catalogue keys of the document types asked for (none: not said)."""
    if given is None:
        return ()
    if not receive:
        raise errors.InvalidInput(
            "body.document_types",
            "Document types are what a participant receives: give them with receive: true.",
            "Documenttypes zijn wat een deelnemer ontvangt: geef ze met receive: true.",
        )
    keys: list[str] = []
    for index, name in enumerate(given):
        try:
            key = document_type(name).key
        except UnknownDocumentType as exc:
            known = ", ".join(d.key for d in DOCUMENT_TYPES)
            raise errors.InvalidInput(
                f"body.document_types.{index}",
                str(exc),
                f"Onbekend documenttype. Bekende documenttypes: {known}.",
                code="unknown_document_type",
            ) from exc
        if key not in keys:
            keys.append(key)
    return tuple(keys)


__all__ = ["MigrationKey", "PeppolService"]
