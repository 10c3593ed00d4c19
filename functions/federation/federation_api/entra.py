"""Entra ID (Microsoft) as seen from the bridge: its ``common`` endpoints, which serve work
accounts of every tenant and personal accounts, and every check of its ID tokens.

Cognito cannot trust ``common`` itself: the discovery document there names the issuer
``https://login.microsoftonline.com/{tenantid}/v2.0`` (a template), and Cognito compares
issuers literally. The bridge does what Cognito cannot: it compares ``iss`` with the issuer of
the token's own tenant (``tid``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from onboarding.adapters import oidc
from onboarding.domain.errors import TokenInvalid

_TENANT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SCOPES = "openid email profile"


@lru_cache(maxsize=2)
def _keys(url: str) -> oidc.KeySetCache:
    return oidc.KeySetCache(url)


class EntraId:
    def __init__(self, authority: str, client_id: str, client_secret: Callable[[], str]) -> None:
        self.authority = authority.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.keys = _keys(f"{self.authority}/common/discovery/v2.0/keys")

    def authorize_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_challenge: str, login_hint: str | None
    ) -> str:
        query = {
            "client_id": self.client_id,
            "response_type": "code",
            "response_mode": "query",
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        if login_hint:
            query["login_hint"] = login_hint
        return f"{self.authority}/common/oauth2/v2.0/authorize?{urlencode(query)}"

    def exchange(self, code: str, *, redirect_uri: str, code_verifier: str) -> str:
        """The ID token for a code. ``LoginRejected`` or ``IdentityUnavailable``."""
        token = oidc.exchange_code(
            f"{self.authority}/common/oauth2/v2.0/token",
            client_id=self.client_id,
            client_secret=self.client_secret(),
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
            extra={"scope": SCOPES},
        )
        return str(token["id_token"])

    def issuer_of(self, claims: Mapping[str, Any]) -> str:
        """The one issuer a token of tenant ``tid`` may have (``TokenInvalid`` for a ``tid``
        that is not a tenant id: it must not be able to bend the issuer URL)."""
        tenant = claims.get("tid")
        if not isinstance(tenant, str) or not _TENANT.fullmatch(tenant):
            raise TokenInvalid("tid")
        return f"{self.authority}/{tenant}/v2.0"

    def verify(self, id_token: str) -> dict[str, Any]:
        """Every check but the nonce (the caller keeps only its hash): signature with Entra's
        keys, ``iss`` of the token's own tenant, ``aud`` (our app), ``exp``, and the
        ``tid``/``oid`` that name the user. ``TokenInvalid``."""
        return oidc.verify_id_token(
            id_token,
            self.keys,
            issuer=self.issuer_of,
            audience=self.client_id,
            required=("tid", "oid", "nonce"),
        )
