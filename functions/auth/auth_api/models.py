"""The auth function's API contract: request and response bodies (the OpenAPI document comes
from these)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from onboarding.domain.models import Language, Notifications
from onboarding.domain.rules import PASSWORD_MAX_LENGTH, TOKEN_PATTERN, USERNAME_PATTERN
from onboarding.web.schemas import Email, RequestBody

Token = Annotated[str, StringConstraints(pattern=TOKEN_PATTERN), Field(description="The token from the link")]


class SignupRequest(RequestBody):
    email: Email
    language: Language | None = None


class ResendRequest(RequestBody):
    email: Email


class Accepted(BaseModel):
    message: str


class ActivationCheckRequest(RequestBody):
    token: Token


class ActivationInfo(BaseModel):
    email: str
    expires_at: str


class ActivationCompleteRequest(RequestBody):
    token: Token
    username: Annotated[
        str,
        StringConstraints(pattern=USERNAME_PATTERN),
        Field(description="3-64 letters, digits, '.', '_' or '-'"),
    ]
    password: Annotated[
        str,
        StringConstraints(min_length=1, max_length=PASSWORD_MAX_LENGTH),
        Field(description="At least 12 characters, not a common password"),
    ]
    accept_terms: Literal[True] = Field(description="Must be true: the terms are accepted")
    terms_version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    environment_name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None
    ) = None


class UserRef(BaseModel):
    id: str
    username: str
    email: str


class EnvironmentRef(BaseModel):
    id: str
    name: str


class Activated(BaseModel):
    user: UserRef
    environment: EnvironmentRef


class TermsInfo(BaseModel):
    version: str
    url: str


class LoginRequest(RequestBody):
    username: Annotated[
        str, StringConstraints(min_length=1, max_length=254), Field(description="Username or email address")
    ]
    password: Annotated[str, StringConstraints(min_length=1, max_length=PASSWORD_MAX_LENGTH)]


class RefreshRequest(RequestBody):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class RefreshedTokens(BaseModel):
    id_token: str
    access_token: str
    expires_in: int
    token_type: Literal["Bearer"] = "Bearer"


class TokenResponse(RefreshedTokens):
    refresh_token: str


class MeEnvironment(BaseModel):
    id: str
    name: str
    role: str


class MeTerms(BaseModel):
    accepted_version: str | None
    accepted_at: str | None


class Identity(BaseModel):
    provider: str


class ReceivePrompt(BaseModel):
    organisation_id: str
    name: str


class Me(BaseModel):
    id: str
    username: str
    email: str
    name: str
    language: Language
    notifications: Notifications
    environment: MeEnvironment
    terms: MeTerms
    identities: list[Identity]
    receive_prompt: list[ReceivePrompt]


class MeUpdate(RequestBody):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    language: Language | None = None
    notifications: Notifications | None = None


class TermsAcceptRequest(RequestBody):
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Credit(BaseModel):
    balance_cents: int
    currency: Literal["EUR"]


class LoginPolicy(BaseModel):
    restricted_to_idp: str | None


class EnvironmentOut(BaseModel):
    id: str
    name: str
    plan: str
    credit: Credit
    login_policy: LoginPolicy


class ProviderOut(BaseModel):
    id: Literal["google", "microsoft", "apple", "email"] = Field(description="How to log in")
    name: str
    login_url: str = Field(description="Open this URL in the browser to log in this way")


class SessionRequest(RequestBody):
    session: Annotated[
        str,
        StringConstraints(pattern=TOKEN_PATTERN),
        Field(description="The one-time code from the app's URL fragment (#session=...)"),
    ]
