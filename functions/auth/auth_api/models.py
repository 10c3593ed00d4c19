"""The auth function's API contract: request and response bodies (the OpenAPI document comes
from these)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from onboarding.domain.models import Language, Notifications
from onboarding.domain.rules import PASSWORD_MAX_LENGTH, TOKEN_PATTERN, USERNAME_PATTERN
from onboarding.web.schemas import NOT_NULL, TEXT_PATTERN, Email, JsonTrue, RequestBody, Text

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
    language: Language = Field(description="The language chosen at sign-up: the page speaks it")


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
        Field(description="At least 12 characters, not a common password, no control characters"),
    ]
    accept_terms: JsonTrue = Field(description="Must be JSON true: the terms are accepted")
    terms_version: Annotated[Text, Field(min_length=1, max_length=64)]
    environment_name: Annotated[Text, Field(min_length=1, max_length=100)] | None = None


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
        str,
        StringConstraints(min_length=1, max_length=254, pattern=TEXT_PATTERN),
        Field(description="Username or email address"),
    ]
    password: Annotated[str, StringConstraints(min_length=1, max_length=PASSWORD_MAX_LENGTH)]


# A refresh token is a compact JWE (base64url segments and dots) of about 1,800 characters.
# The bound keeps every request the schema forbids under the 64 KiB body limit: at 8,192
# characters of any script a too-long token (JSON-escaped, up to 12 bytes a character) made the
# body too large, so the answer was 413 where the schema promises a validation error.
REFRESH_TOKEN_PATTERN = r"^[A-Za-z0-9._~+/=-]+$"


class RefreshRequest(RequestBody):
    refresh_token: Annotated[
        str, StringConstraints(min_length=1, max_length=4096, pattern=REFRESH_TOKEN_PATTERN)
    ]


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
    """Only the fields given change. ``name`` may be ``null`` (it clears the name); language
    and notifications always have a value, so ``null`` is 422 for them."""

    name: Annotated[Text, Field(max_length=200)] | None = None
    language: Annotated[Language | None, NOT_NULL] = None
    notifications: Annotated[Notifications | None, NOT_NULL] = None


class TermsAcceptRequest(RequestBody):
    version: Annotated[Text, Field(min_length=1, max_length=64)]


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
