"""The Peppol worker's logic: carry out one delivery of a registration job's message against
the SMP, moving the job through its state machine (``onboarding.domain.registration``) with
conditional writes. Plain logic over ports; ``worker.py`` feeds it SQS records.

One delivery ends in one of three ways:
- done with: the job succeeded, failed for good (a refusal, registered elsewhere, the last
  attempt), was superseded by a newer job, or was final already (a repeated message), or
  there is no such job. The message may be deleted.
- ``RetryLater``: something passing went wrong (timeout, 5xx, throttling, DNS); the job is
  queued again and SQS delivers the message again after its visibility timeout. On the last
  delivery the job is failed with the reason *and* ``RetryLater`` is raised all the same, so
  the message lands in the dead-letter queue, whose alarm tells operators.
- any other exception (DynamoDB unavailable, a bug): the message comes back too; the job
  stays as it was and the next delivery picks it up (a ``running`` job whose attempt
  stopped is started again).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import datetime

from onboarding.domain import registration
from onboarding.domain.errors import (
    JobChanged,
    OrganisationChanged,
    RegisteredElsewhere,
    SmlLookupFailed,
    SmlWriteFailed,
    SmpRejected,
    SmpUnavailable,
)
from onboarding.domain.identifiers import scheme_of
from onboarding.domain.organisations import Organisation, PeppolError
from onboarding.domain.peppol import (
    AccessPointEndpoint,
    BusinessEntity,
    BusinessIdentifier,
    UnknownDocumentType,
    document_type,
    smp_elsewhere,
)
from onboarding.domain.ports import Organisations, RegistrationJobs, SmlLookup, Smp
from onboarding.domain.registration import RegistrationJob, RegistrationMessage
from onboarding.domain.rules import now
from onboarding.observability import logger, metrics
from onboarding.settings import Settings


class RetryLater(Exception):
    """The attempt failed on something passing: let SQS deliver the message again."""

    def __init__(self, job_id: str, reason: str) -> None:
        super().__init__(f"job {job_id}: {reason}")
        self.reason = reason


class NotConfigured(Exception):
    """The platform lacks a setting the job needs (the access point's endpoint)."""


class MigrationRefused(Exception):
    """The SML did not accept the migration key."""


@dataclass
class Registrar:
    settings: Settings
    jobs: RegistrationJobs
    organisations: Organisations
    smp: Smp
    sml: SmlLookup | None  # None: the SML is not asked (settings.sml.lookup off)
    endpoint: Callable[[], AccessPointEndpoint]  # NotConfigured if the access point is not set up
    clock: Callable[[], datetime] = field(default=now)
    # Where the SMP's service group is read while the job's start is written (both wait on
    # the network); None: one after the other.
    lookups: Executor | None = None

    def carry_out(
        self,
        message: RegistrationMessage,
        receive_count: int,
        loaded: tuple[RegistrationJob | None, Organisation | None] | None = None,
    ) -> RegistrationJob | None:
        """One delivery of ``message`` (the ``receive_count``-th); the job as it was left, or
        None when there is no job. ``RetryLater`` as the module doc says. ``loaded``: the job
        and organisation, if they were read with the rest of the batch (``load``)."""
        job, organisation = loaded or self.load([message])[0]
        if job is None or job.organisation_id != message.organisation_id:
            logger.warning("message without a job", extra={"job_id": message.job_id})
            metrics.add_metric(name="MessagesWithoutJob", unit="Count", value=1)
            return None
        for _ in range(3):  # another writer may move the job between our read and our write
            if job.final:
                logger.info("job already final", extra={"job_id": job.id, "status": job.status.value})
                return job
            identifier = organisation.find(job.participant_id) if organisation else None
            moment = self.clock()
            if identifier is None:
                gone = PeppolError(code="participant_gone", message="The organisation or identifier is gone.")
                return self._finish(job, registration.fail(job, moment, gone), organisation)
            if identifier.job_id != job.id:
                return self._finish(job, registration.supersede(job, identifier.job_id, moment), organisation)
            running = registration.start(job, moment)
            registered = self._read_service_group(job)
            try:
                self.jobs.save(running, previous_version=job.version)
            except JobChanged:
                job = self.jobs.get(job.id) or job
                continue
            logger.info(
                "job started",
                extra={"job_id": job.id, "participant_id": job.participant_id, "attempt": running.attempts},
            )
            assert organisation is not None
            return self._attempt(running, organisation, receive_count, registered)
        raise RetryLater(job.id, "the job kept changing while it was started")

    def _read_service_group(self, job: RegistrationJob) -> Future[list[str] | None] | None:
        """The first SMP call of a job that registers (what the SMP holds for the participant),
        started while the job's start is written: it only reads, so a start that then fails
        (another delivery got there first) has changed nothing, and no other job of the
        participant runs meanwhile (one message group at a time). A failure of the read
        comes out of ``result()`` in the attempt, as if it had been made there."""
        if self.lookups is None or not job.target.registered:
            return None
        return self.lookups.submit(self.smp.service_group, job.participant_id)

    def load(
        self, messages: list[RegistrationMessage]
    ) -> list[tuple[RegistrationJob | None, Organisation | None]]:
        """The jobs and organisations of a batch of messages, in one round trip."""
        return self.jobs.get_with_organisations(
            [(m.job_id, m.environment_id, m.organisation_id) for m in messages]
        )

    # --- one attempt ------------------------------------------------------------------------------
    def _attempt(
        self,
        job: RegistrationJob,
        organisation: Organisation,
        receive_count: int,
        registered: Future[list[str] | None] | None = None,
    ) -> RegistrationJob | None:
        clock = self.clock
        try:
            self._apply(job, organisation, registered)
        except RegisteredElsewhere as exc:
            error = registration.registered_elsewhere(job.participant_id, job.organisation_id, exc.smp_url)
            return self._finish(job, registration.fail(job, clock(), error), organisation)
        except MigrationRefused as exc:
            error = PeppolError(code="migration_refused", message=str(exc))
            return self._finish(job, registration.fail(job, clock(), error), organisation)
        except SmpRejected as exc:
            error = PeppolError(code="smp_rejected", message=f"The SMP refused: {exc.reason}")
            return self._finish(job, registration.fail(job, clock(), error), organisation)
        except NotConfigured as exc:
            error = PeppolError(code="not_configured", message=str(exc))
            return self._finish(job, registration.fail(job, clock(), error), organisation)
        except (SmpUnavailable, SmlLookupFailed) as exc:
            reason = exc.reason
            if receive_count >= self.settings.peppol.max_receive_count:
                error = PeppolError(
                    code="smp_unavailable",
                    message=f"Gave up after {job.attempts} attempts; the last one failed: {reason}",
                )
                self._finish(job, registration.fail(job, clock(), error), organisation)
                raise RetryLater(job.id, reason) from exc  # to the dead-letter queue, for the alarm
            self._finish(job, registration.retry_later(job, clock(), reason), None)
            metrics.add_metric(name="JobAttemptsFailed", unit="Count", value=1)
            raise RetryLater(job.id, reason) from exc
        return self._finish(job, registration.succeed(job, clock()), organisation)

    def _finish(
        self, before: RegistrationJob, after: RegistrationJob, organisation: Organisation | None
    ) -> RegistrationJob | None:
        """Write ``after``; when it is final and still the participant's latest job, with the
        participant's new state in the same transaction."""
        for _ in range(3):
            updated = registration.settled(organisation, after, self.clock()) if after.final else None
            try:
                self.jobs.save(after, previous_version=before.version, organisation=updated)
            except OrganisationChanged:  # somebody changed the organisation meanwhile: read it again
                organisation = self.organisations.get(after.environment_id, after.organisation_id)
                continue
            except JobChanged:  # e.g. the watchdog failed it meanwhile: that stands
                logger.warning("job changed while it ran", extra={"job_id": after.id})
                return None
            self._record(after)
            return after
        raise OrganisationChanged

    @staticmethod
    def _record(job: RegistrationJob) -> None:
        details = {"job_id": job.id, "participant_id": job.participant_id, "status": job.status.value}
        if job.error:
            details["error"] = job.error.code
        logger.info("job moved", extra=details)
        if job.final:
            name = "JobsSucceeded" if job.status.value == "succeeded" else "JobsFailed"
            metrics.add_metric(name=name, unit="Count", value=1)

    # --- what a job does at the SMP ---------------------------------------------------------------
    def _apply(
        self,
        job: RegistrationJob,
        organisation: Organisation,
        read: Future[list[str] | None] | None = None,
    ) -> None:
        """Make the SMP hold what the job's target says, whatever it held before: every step
        is a PUT that replaces or a DELETE that tolerates absence, so repeating is safe.
        ``read``: the service group's read, if it was started already."""
        participant, target = job.participant_id, job.target
        if not target.registered:
            self._remove(participant)
            return
        registered = read.result() if read is not None else self.smp.service_group(participant)
        if registered is None:
            if job.migration_key:
                self._move_here(participant, job.migration_key)
            else:
                self._register(participant)
            registered = []
        wanted = [document_type(key) for key in target.document_types] if target.receive else []
        if wanted:
            endpoint = self.endpoint()
            for document in wanted:
                self.smp.put_service_metadata(participant, document, endpoint)
        wanted_ids = {document.url_id for document in wanted}
        for url_id in registered:
            if url_id in wanted_ids:
                continue
            try:
                self.smp.delete_service_metadata(participant, document_type(url_id))
            except UnknownDocumentType:
                logger.info("document type not ours, left alone", extra={"document_type": url_id})
        if self.settings.peppol.directory:
            if target.directory:
                self.smp.put_business_card(participant, _business_entity(organisation))
            else:
                self.smp.delete_business_card(participant)

    def _elsewhere(self, participant: str) -> str | None:
        if self.sml is None:
            return None
        return smp_elsewhere(self.sml, participant, self.settings.smp.own_urls() or [self.smp.base_url])

    def _register(self, participant: str) -> None:
        """A new service group, which registers the participant in the SML: first make sure
        no other SMP holds it (phoss-smp would only say "Failed to create ... in SML")."""
        elsewhere = self._elsewhere(participant)
        if elsewhere:
            raise RegisteredElsewhere(participant, elsewhere)
        try:
            self.smp.put_service_group(participant)
        except SmlWriteFailed:
            elsewhere = self._elsewhere(participant)  # registered elsewhere just now?
            if elsewhere:
                raise RegisteredElsewhere(participant, elsewhere) from None
            raise

    def _move_here(self, participant: str, migration_key: str) -> None:
        try:
            moved = self.smp.migrate_inbound(participant, migration_key)
        except SmlWriteFailed as exc:
            raise MigrationRefused(
                "The SML did not accept the migration key. Check it with the current provider (a key "
                "works once, and only for this participant), or ask them for a new one."
            ) from exc
        if not moved.already_here and not moved.service_group_created:
            self.smp.put_service_group(participant, create_in_sml=False)  # the SML points here already

    def _remove(self, participant: str) -> None:
        if self.settings.peppol.directory:
            self.smp.delete_business_card(participant)
        try:
            self.smp.delete_service_group(participant)
        except SmlWriteFailed:
            # Moved away with a key we handed out: the SML entry is the new provider's now, so
            # only our copy goes.
            if not self._elsewhere(participant):
                raise
            if not self.smp.finalize_outbound_migration(participant):
                self.smp.delete_service_group(participant, delete_in_sml=False)


def _business_entity(organisation: Organisation) -> BusinessEntity:
    """What the Peppol Directory shows: the statutory name, country, place and identifiers."""
    address = organisation.address
    place = " ".join(part for part in (address.postal_code, address.city) if part)
    return BusinessEntity(
        name=organisation.name,
        country_code=organisation.country,
        geographical_information=place or None,
        identifiers=tuple(
            BusinessIdentifier(scheme=scheme_of(i.scheme).code, value=i.value)
            for i in organisation.identifiers
        ),
    )
