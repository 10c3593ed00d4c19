"""The organisations function's API contract (the OpenAPI document is generated from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from onboarding.web.schemas import NOT_NULL, Country, Email, RequestBody, Text

KVK_NUMBER_PATTERN = r"^[0-9]{8}$"  # ASCII digits only (a regex \d takes any script's)
KvkNumber = Annotated[str, StringConstraints(pattern=KVK_NUMBER_PATTERN), Field(examples=["68750110"])]
Name = Annotated[Text, Field(min_length=1, max_length=200)]


class AddressIn(RequestBody):
    street: Annotated[Text, Field(min_length=1, max_length=200)]
    postal_code: Annotated[Text, Field(min_length=1, max_length=20)]
    city: Annotated[Text, Field(min_length=1, max_length=100)]
    country: Country | None = Field(default=None, description="Repeats the organisation's country")


class ContactIn(RequestBody):
    """In a PATCH, ``null`` clears a field (and ``"contact": null`` the whole contact)."""

    name: Annotated[Text, Field(max_length=200)] | None = None
    email: Email | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()\-]{6,20}$")] | None = None


class IdentifierIn(RequestBody):
    scheme: Annotated[
        Text,
        Field(
            min_length=1,
            max_length=20,
            description="ICD code (0106, 9944, ...) or Peppol scheme id (NL:KVK)",
            examples=["0106"],
        ),
    ]
    value: Annotated[
        Text,
        Field(
            min_length=1,
            max_length=100,
            description="ASCII letters and digits; spaces, '.', '-' and '/' are left out",
            examples=["68750110"],
        ),
    ]


class OrganisationCreate(RequestBody):
    """Either ``{"kvk_number"}`` (the rest comes from the KvK) or by hand: ``name``, ``country``,
    ``address`` and optionally ``identifiers`` (the first becomes primary) and ``contact``."""

    kvk_number: KvkNumber | None = None
    name: Name | None = None
    country: Country | None = None
    address: AddressIn | None = None
    identifiers: Annotated[list[IdentifierIn], Field(max_length=10)] = Field(default_factory=list)
    contact: ContactIn | None = None

    @model_validator(mode="after")
    def _one_way(self) -> OrganisationCreate:
        if self.kvk_number is not None:
            if self.name or self.country or self.address or self.identifiers:
                raise PydanticCustomError(
                    "kvk_or_by_hand", "Give either kvk_number alone, or name, country and address (by hand)."
                )
        else:
            missing = [f for f in ("name", "country", "address") if getattr(self, f) is None]
            if missing:
                raise PydanticCustomError(
                    "by_hand_incomplete",
                    "By hand, {missing} must be given (or give only kvk_number).",
                    {"missing": ", ".join(missing)},
                )
        return self


class OrganisationUpdate(RequestBody):
    """Only the fields given change. ``contact`` (or a part of it) may be ``null``, which
    clears it; an organisation always has a name and an address, so ``null`` is 422 for them."""

    name: Annotated[Name | None, NOT_NULL] = None
    address: Annotated[AddressIn | None, NOT_NULL] = None
    contact: ContactIn | None = None


class AddressOut(BaseModel):
    street: str
    postal_code: str
    city: str
    country: str


class ContactOut(BaseModel):
    name: str | None
    email: str | None
    phone: str | None


class PeppolOut(BaseModel):
    send: str
    receive: str


class IdentifierOut(BaseModel):
    scheme: str
    value: str
    participant_id: str
    primary: bool
    verification: Literal["unverified", "verified", "rejected", "inconclusive"]
    peppol: PeppolOut


class ReceivingOut(BaseModel):
    enabled: bool
    prompt: Literal["ask", "later", "never"]


class ActivationOut(BaseModel):
    method: str
    requested_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None


class OrganisationOut(BaseModel):
    id: str
    name: str
    country: str
    address: AddressOut
    contact: ContactOut
    kvk_number: str | None
    rsin: str | None
    legal_form: str | None
    status: Literal["draft", "pending_review", "active", "rejected"]
    identifiers: list[IdentifierOut]
    receiving: ReceivingOut
    activation: ActivationOut | None
    created_at: datetime
    updated_at: datetime


class SearchResultOut(BaseModel):
    kvk_number: str
    name: str
    city: str | None
    type: str
    active: bool


class VerificationOut(BaseModel):
    verification: Literal["verified", "rejected", "inconclusive"]
    source: Literal["vies", "kvk"]
    details: dict[str, Any]


class ActivationRequest(RequestBody):
    method: Literal["manual_review"] = Field(description="How the request is checked: an operator reviews it")


class ActivationStatusOut(BaseModel):
    status: Literal["pending_review"]


class DecisionRequest(RequestBody):
    reason: Annotated[Text, Field(max_length=500)] | None = None


class ReceivingRequest(RequestBody):
    enabled: bool
    accept_costs: bool = Field(description="Must be true to enable: receiving is a paid service")


class ReceivingStatusOut(BaseModel):
    enabled: bool
    registration_job_id: str | None


class ReceivePromptRequest(RequestBody):
    choice: Literal["enable", "later", "never"]


class ReviewedIdentifierOut(BaseModel):
    """An identifier as the operator approves it: how far it was verified, and against what."""

    scheme: str
    value: str
    participant_id: str
    primary: bool
    verification: Literal["unverified", "verified", "rejected", "inconclusive"]
    verification_source: Literal["vies", "kvk"] | None
    verified_at: datetime | None


class ActivationRequestOut(BaseModel):
    organisation_id: str
    environment_id: str
    name: str
    method: str
    requested_at: datetime
    country: str
    kvk_number: str | None
    identifiers: list[ReviewedIdentifierOut] = Field(
        description="What is approved: identifiers cannot change while the request waits"
    )


class CreditRequest(RequestBody):
    amount_cents: Annotated[int, Field(gt=0, le=100_000_000, description="A positive amount in cents")]
    reference: (
        Annotated[
            Text, Field(min_length=1, max_length=200, description="Why: an invoice or payment reference")
        ]
        | None
    ) = None


class CreditOut(BaseModel):
    balance_cents: int
    currency: Literal["EUR"]


class CreditEntryOut(BaseModel):
    amount_cents: int
    by: str = Field(description="The operator's user id")
    at: datetime
    reference: str | None


class CreditLedgerOut(CreditOut):
    entries: list[CreditEntryOut] = Field(description="Newest first")
