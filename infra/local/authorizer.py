"""What API Gateway's Cognito authorizer does, locally: verify the bearer ID token against
the pool's JWKS (RS256, issuer, audience, expiry, token_use=id) and hand on its claims.

moto signs every pool's tokens with one key and serves the JWKS at its own endpoint, so
the JWKS URL is configured (the endpoint's), never derived from the token's issuer."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet


class TokenRejected(Exception):
    pass


class CognitoAuthorizer:
    def __init__(self, *, jwks_url: str, issuer: str, audiences: list[str]) -> None:
        self.jwks_url = jwks_url
        self.issuer = issuer
        # The pool's app clients (API Gateway accepts every client of the pool); a tenant's
        # client joins them when the tenant is set up.
        self.audiences = audiences
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    def _key_set(self) -> KeySet:
        with self._lock:
            if self._keys is None:
                with urllib.request.urlopen(self.jwks_url, timeout=5) as response:  # noqa: S310 - local URL
                    self._keys = KeySet.import_key_set(json.load(response))
            return self._keys

    def claims(self, authorization: str | None) -> dict[str, str]:
        """The claims as API Gateway passes them on (strings); ``TokenRejected`` otherwise."""
        if not authorization or not authorization.startswith("Bearer "):
            raise TokenRejected("missing bearer token")
        raw = authorization[len("Bearer ") :].strip()
        try:
            token = jwt.decode(raw, self._key_set(), algorithms=["RS256"])
        except (JoseError, ValueError) as exc:
            raise TokenRejected("bad token") from exc
        claims: dict[str, Any] = dict(token.claims)
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "values": list(self.audiences)},
            token_use={"essential": True, "value": "id"},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise TokenRejected("claims not valid") from exc
        if int(claims["exp"]) < time.time():
            raise TokenRejected("expired")
        return {k: (",".join(map(str, v)) if isinstance(v, list) else str(v)) for k, v in claims.items()}
