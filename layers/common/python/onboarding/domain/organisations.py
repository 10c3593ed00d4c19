"""Organisations and their identifiers, with each participant's Peppol state. No I/O here.

The registration jobs that change that state are ``onboarding.domain.registration``'s."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from onboarding.domain.identifiers import PEPPOL_VALUE, InvalidIdentifier, parse_participant_id

# A participant id as stored: an ICD code and a value in Peppol's (ASCII) characters.
_STORED_PARTICIPANT_ID = re.compile(rf"[0-9]{{4}}:{PEPPOL_VALUE.pattern}")


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


# Only a participant that is not registered at all (and not on its way there or back) may be
# removed: ``failed`` may have left part of a registration at the SMP, which a deregistration
# cleans up.
OFF_PEPPOL = PeppolState.NOT_REGISTERED


class PeppolError(BaseModel):
    """Why a registration job failed (or the last attempt did): a stable code and a message
    for people."""

    model_config = ConfigDict(frozen=True)
    code: str
    message: str


class PeppolTarget(BaseModel):
    """What was last asked for a participant on Peppol: registered for sending, for receiving
    these document types (keys of ``onboarding.domain.peppol.DOCUMENT_TYPES``), and with a
    business card in the Peppol Directory. A registration job carries its target; the worker
    makes the SMP match it, whatever was there before."""

    model_config = ConfigDict(frozen=True)
    send: bool = False
    receive: bool = False
    document_types: tuple[str, ...] = ()
    directory: bool = False

    @property
    def registered(self) -> bool:
        """Whether the participant has a service group (and so an SML entry) at all."""
        return self.send or self.receive


# What a registration job changes of its participant's identifier, and nothing else of it: a
# verification or a new primary written while the job ran stays.
PEPPOL_FIELDS = (
    "send",
    "receive",
    "directory",
    "document_types",
    "target",
    "last_error",
    "peppol_updated_at",
)


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
    # Peppol, beyond send and receive: what was last asked, what is registered, the last error.
    target: PeppolTarget | None = None
    document_types: tuple[str, ...] = ()  # registered for receiving (keys)
    directory: PeppolState = PeppolState.NOT_REGISTERED
    last_error: PeppolError | None = None
    peppol_updated_at: datetime | None = None

    @property
    def on_peppol(self) -> bool:
        return any(state is not OFF_PEPPOL for state in (self.send, self.receive, self.directory))

    @property
    def registered_here(self) -> bool:
        """Whether this SMP holds the participant (so a migration key can move it away)."""
        return PeppolState.REGISTERED in (self.send, self.receive)


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

    def find(self, participant_id: str) -> Identifier | None:
        """The identifier a participant id from a path names, in any accepted spelling
        (``9944:nl000099998b57``, the URL form), or None.

        A spelling the rules refuse names only a stored id it equals up to ASCII case (one
        stored before a rule changed); anything else, such as a non-ASCII look-alike, names
        nothing: ``str.lower()`` turns the Kelvin sign (U+212A) into an ASCII "k"."""
        try:
            key = parse_participant_id(participant_id).participant_id.lower()
        except InvalidIdentifier:
            text = participant_id.strip()
            if not _STORED_PARTICIPANT_ID.fullmatch(text):
                return None
            key = text.lower()
        return self.identifier(key)

    def replacing(self, *changed: Identifier) -> tuple[Identifier, ...]:
        """The identifiers, with each of ``changed`` in place of the one with its participant id."""
        by_key = {i.participant_id.lower(): i for i in changed}
        return tuple(by_key.get(i.participant_id.lower(), i) for i in self.identifiers)

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
