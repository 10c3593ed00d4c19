"""The peppol function's API contract (the OpenAPI document is generated from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from onboarding.domain.peppol import DOCUMENT_TYPES
from onboarding.web.schemas import RequestBody

State = Literal["not_registered", "pending", "registered", "failed", "deregistering"]
# The catalogue's keys and identifiers, as the schema's enum (checked by the service, which
# answers 422 unknown_document_type with the list of keys).
DOCUMENT_TYPE_NAMES = [name for d in DOCUMENT_TYPES for name in (d.key, d.id, d.url_id)]
DocumentTypeKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=300),
    Field(
        description="A document type's key ("
        + ", ".join(d.key for d in DOCUMENT_TYPES)
        + ") or its identifier (with or without busdox-docid-qns::)",
        examples=["bis-billing-invoice"],
        json_schema_extra={"enum": DOCUMENT_TYPE_NAMES},
    ),
]


class PeppolRequest(RequestBody):
    """The participant's registration as it should be: a job makes it so."""

    send: bool = Field(description="Registered for sending (in the SMP and SML, findable)")
    receive: bool = Field(description="Registered for receiving (needs receiving enabled and credit)")
    document_types: (
        Annotated[
            list[DocumentTypeKey],
            Field(
                min_length=1,
                max_length=len(DOCUMENT_TYPES),
                description="What to receive; default: what it receives now, or BIS Billing 3.0 "
                "invoice and credit note. Only with receive: true.",
            ),
        ]
        | None
    ) = None


class MigrationRequest(RequestBody):
    migration_key: Annotated[
        str,
        StringConstraints(min_length=1, max_length=64),
        Field(
            description="The key your current provider handed out: 8-24 characters without spaces, "
            "with at least two each of upper-case letters, lower-case letters, digits and "
            "special characters (@#$%()[]{}*^_-!~|+=), as the SML requires"
        ),
    ]


class PeppolErrorOut(BaseModel):
    code: str = Field(examples=["registered_elsewhere"])
    message: str


class ParticipantOut(BaseModel):
    participant_id: str = Field(examples=["0106:68750110"])
    send: State
    receive: State
    document_types: list[str] = Field(description="Registered for receiving (keys)")
    directory: State = Field(description="The business card in the Peppol Directory")
    last_error: PeppolErrorOut | None
    updated_at: datetime | None
    job_id: str | None = Field(description="The participant's latest registration job")


class ParticipantsOut(BaseModel):
    participants: list[ParticipantOut]


class JobAccepted(BaseModel):
    job_id: str


class TargetOut(BaseModel):
    send: bool
    receive: bool
    document_types: list[str]
    directory: bool


class JobEventOut(BaseModel):
    status: Literal["queued", "running", "succeeded", "failed"]
    at: datetime
    attempt: int
    note: str | None


class JobOut(BaseModel):
    job_id: str
    status: Literal["queued", "running", "succeeded", "failed"]
    attempts: int
    error: PeppolErrorOut | None
    history: list[JobEventOut]
    organisation_id: str
    participant_id: str
    origin: Literal["approval", "receiving", "request", "migration"]
    target: TargetOut
    created_at: datetime
    updated_at: datetime


class MigrationKeyOut(BaseModel):
    migration_key: str = Field(description="Hand this to the new provider; it moves the participant there")
    expires_at: datetime = Field(description="Our policy: ask for a new key after this (see the README)")
