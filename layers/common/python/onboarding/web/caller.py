"""Who is calling: the claims API Gateway's Cognito authorizer verified (or the local
runner, which verifies them the same way)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onboarding.domain.errors import Unauthorized


@dataclass(frozen=True)
class Caller:
    username: str  # Cognito username; for manual accounts this is the user id
    groups: tuple[str, ...]
    claims: dict[str, Any]

    def in_group(self, group: str) -> bool:
        return group in self.groups

    @property
    def email(self) -> str | None:
        email = self.claims.get("email")
        return email if isinstance(email, str) else None

    @property
    def client_id(self) -> str | None:
        """The app client the ID token was issued to (its ``aud``)."""
        audience = self.claims.get("aud")
        return audience if isinstance(audience, str) and audience else None


def caller_from_event(event: Any) -> Caller:
    """The signed-in caller of an ``APIGatewayProxyEvent``; ``Unauthorized`` if there is none."""
    try:
        claims = dict(event.request_context.authorizer.claims or {})
    except (AttributeError, KeyError, TypeError):
        claims = {}
    username = claims.get("cognito:username")
    if not username or claims.get("token_use") != "id":
        raise Unauthorized
    groups = claims.get("cognito:groups") or ""
    if isinstance(groups, str):  # API Gateway flattens lists: "[a b]" or "a,b"
        groups = groups.strip("[]").replace(",", " ").split()
    return Caller(username=str(username), groups=tuple(groups), claims=claims)


def client_ip(event: Any) -> str:
    try:
        return str(event.request_context.identity.source_ip or "unknown")
    except AttributeError:
        return "unknown"
