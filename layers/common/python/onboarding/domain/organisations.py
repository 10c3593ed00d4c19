"""Organisations, their identifiers and their Peppol registration jobs. No I/O here."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class OrganisationStatus(StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    ACTIVE = "active"
    REJECTED = "rejected"


class Verification(StrEnum):
    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    REJECTED = "rejected"
    INCONCLUSIVE = "inconclusive"


class PeppolState(StrEnum):
    NOT_REGISTERED = "not_registered"
    PENDING = "pending"
    REGISTERED = "registered"
    FAILED = "failed"
    DEREGISTERING = "deregistering"


# A participant in one of these states is (being) registered at the SMP: it may not be
# removed until it is deregistered.
ON_PEPPOL = frozenset({PeppolState.PENDING, PeppolState.REGISTERED, PeppolState.DEREGISTERING})


class ReceivePrompt(StrEnum):
    """Whether to ask, after login, if the organisation should also receive e-invoices."""

    ASK = "ask"
    LATER = "later"
    NEVER = "never"


class Address(BaseModel):
    model_config = ConfigDict(frozen=True)
    street: str
    postal_code: str
    city: str
    country: str


class Contact(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class Identifier(BaseModel):
    model_config = ConfigDict(frozen=True)
    scheme: str  # ICD code
    value: str  # canonical
    participant_id: str
    primary: bool = False
    verification: Verification = Verification.UNVERIFIED
    verification_source: Literal["vies", "kvk"] | None = None
    verified_at: datetime | None = None
    send: PeppolState = PeppolState.NOT_REGISTERED
    receive: PeppolState = PeppolState.NOT_REGISTERED
    job_id: str | None = None  # the latest registration job for this participant

    @property
    def on_peppol(self) -> bool:
        return self.send in ON_PEPPOL or self.receive in ON_PEPPOL


def kvk_number_of(identifiers: tuple[Identifier, ...]) -> str | None:
    """An organisation's KvK number is the value of its (first) 0106 identifier: never a
    number it no longer claims, and none once that identifier is gone."""
    return next((i.value for i in identifiers if i.scheme == "0106"), None)


class Receiving(BaseModel):
    model_config = ConfigDict(frozen=True)
    enabled: bool = False
    prompt: ReceivePrompt = ReceivePrompt.ASK
    registration_job_id: str | None = None  # the latest receive (de)registration


class ActivationReview(BaseModel):
    """Who asked for activation and who decided, and when."""

    model_config = ConfigDict(frozen=True)
    method: str
    requested_at: datetime
    requested_by: str
    decided_at: datetime | None = None
    decided_by: str | None = None
    reason: str | None = None


class Organisation(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    environment_id: str
    name: str
    country: str
    address: Address
    contact: Contact = Field(default_factory=Contact)
    kvk_number: str | None = None
    rsin: str | None = None
    legal_form: str | None = None
    status: OrganisationStatus = OrganisationStatus.DRAFT
    identifiers: tuple[Identifier, ...] = ()
    receiving: Receiving = Field(default_factory=Receiving)
    activation: ActivationReview | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def identifier(self, participant_key: str) -> Identifier | None:
        return next((i for i in self.identifiers if i.participant_id.lower() == participant_key), None)

    @property
    def primary_identifiers(self) -> list[Identifier]:
        return [i for i in self.identifiers if i.primary]

    @property
    def on_peppol(self) -> bool:
        return any(i.on_peppol for i in self.identifiers)

    @property
    def asks_to_receive(self) -> bool:
        """Whether to ask after login if it should also receive e-invoices: active, not
        receiving yet, and nobody said "never"."""
        return (
            self.status is OrganisationStatus.ACTIVE
            and not self.receiving.enabled
            and self.receiving.prompt is not ReceivePrompt.NEVER
        )


class RegistrationAction(StrEnum):
    REGISTER = "register"
    DEREGISTER = "deregister"


class Capability(StrEnum):
    SEND = "send"
    RECEIVE = "receive"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobEvent(BaseModel):
    model_config = ConfigDict(frozen=True)
    status: JobStatus
    at: datetime
    note: str | None = None


class RegistrationJob(BaseModel):
    """A request to the SMP for one participant; the Peppol worker carries it out."""

    model_config = ConfigDict(frozen=True)
    id: str
    organisation_id: str
    environment_id: str
    participant_id: str
    action: RegistrationAction
    capability: Capability
    status: JobStatus = JobStatus.QUEUED
    attempts: int = 0
    history: tuple[JobEvent, ...] = ()
    created_at: datetime
    dispatched_at: datetime | None = None  # when it was put on the queue


class RegistrationMessage(BaseModel):
    """What goes on the Peppol queue: a pointer to the job, which holds the truth."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    job_id: str
    organisation_id: str
    environment_id: str
    participant_id: str
    action: RegistrationAction
    capability: Capability
