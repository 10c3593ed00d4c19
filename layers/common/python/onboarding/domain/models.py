"""Domain models: what a user, an environment and a sign-up are. No I/O here."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from onboarding.domain.tenancy import LoginRestriction

Language = Literal["nl", "en"]
DEFAULT_LANGUAGE: Language = "nl"


class Role(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


class SignupStatus(StrEnum):
    PENDING = "pending"
    USED = "used"


class Signup(BaseModel):
    """The one open sign-up of a canonical email; a newer sign-up replaces it (and so its token)."""

    model_config = ConfigDict(frozen=True)
    email: str
    email_canonical: str
    language: Language
    token_hash: str
    status: SignupStatus
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def is_expired(self, moment: datetime) -> bool:
        return moment >= self.expires_at


class TermsAcceptance(BaseModel):
    model_config = ConfigDict(frozen=True)
    version: str
    accepted_at: datetime


class Notifications(BaseModel):
    """Which notification mails a user wants."""

    model_config = ConfigDict(extra="forbid", strict=True)
    product_updates: bool = False
    registration_status: bool = True


class User(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    username: str
    email: str
    email_canonical: str
    name: str = ""
    language: Language = DEFAULT_LANGUAGE
    environment_id: str
    role: Role
    terms: TermsAcceptance | None = None
    notifications: Notifications = Field(default_factory=Notifications)
    identities: list[str] = Field(default_factory=lambda: ["email"])
    # Set when the user's environment or address belongs to a tenant restricted to its own
    # IdP: then only that tenant's app client gets tokens for this account (``tenancy``).
    login_restriction: LoginRestriction | None = None
    created_at: datetime
    updated_at: datetime

    def has_accepted(self, version: str) -> bool:
        return self.terms is not None and self.terms.version == version


class Plan(StrEnum):
    FREE = "free"


class Environment(BaseModel):
    """A tenant: the organisations, users and credit of one customer."""

    model_config = ConfigDict(frozen=True)
    id: str
    name: str
    plan: Plan = Plan.FREE
    credit_balance_cents: int = 0
    currency: Literal["EUR"] = "EUR"
    restricted_to_idp: str | None = None
    created_at: datetime
    updated_at: datetime


class CreditEntry(BaseModel):
    """One top-up of an environment's prepaid credit: kept for good, as the ledger."""

    model_config = ConfigDict(frozen=True)
    id: str
    amount_cents: int
    by: str  # the operator's user id
    at: datetime
    reference: str | None = None


class NewAccount(BaseModel):
    """Everything activation creates in one go."""

    model_config = ConfigDict(frozen=True)
    user: User
    environment: Environment
    signup: Signup


class LoginAttempt(BaseModel):
    """A started federated login, kept until its callback (single use, short-lived). Only
    hashes of the state, the nonce and the browser binding are kept; the PKCE verifier is
    kept as it is (the token endpoint needs it) and is useless without the code."""

    model_config = ConfigDict(frozen=True)
    state_hash: str
    provider: str
    nonce_hash: str
    code_verifier: str
    browser_hash: str
    login_hint: str | None = None
    # The app client the login runs through: a tenant's own (``GET /t/{tenant}/login``), or
    # None for the hosted login's client of Google, Microsoft and Apple.
    client_id: str | None = None
    retried: bool = False  # a restart after Cognito's "first login after linking" error
    created_at: datetime
    expires_at: datetime


class FederatedIdentity(BaseModel):
    """The account a provider's identity signs in to, and how it got there."""

    model_config = ConfigDict(frozen=True)
    provider: str
    subject: str
    user_id: str
    environment_id: str
    how: Literal["created", "linked"]
    at: datetime
