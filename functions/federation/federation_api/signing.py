"""The bridge's own signing keys: a JWK set kept in Secrets Manager (ops put it there, see
the README). The first key signs; every key's public part is published, so a new key can be
put first while tokens signed with the old one are still checked."""

from __future__ import annotations

import time
from typing import Any

from onboarding.domain.errors import TokenInvalid

ALGORITHM = "RS256"


class SigningKeys:
    def __init__(self, jwk_set: dict[str, Any]) -> None:
        from joserfc.jwk import KeySet

        self.keys = KeySet.import_key_set(jwk_set)  # type: ignore[arg-type]
        if not self.keys.keys:
            raise ValueError("the bridge's key set is empty")
        self.current = self.keys.keys[0]
        if not self.current.is_private:
            raise ValueError("the bridge's first key has no private part")

    def sign(self, claims: dict[str, Any]) -> str:
        from joserfc import jwt

        return jwt.encode(
            {"alg": ALGORITHM, "kid": self.current.kid}, claims, self.current, algorithms=[ALGORITHM]
        )

    def public(self) -> dict[str, Any]:
        return {
            "keys": [{**key.as_dict(private=False), "use": "sig", "alg": ALGORITHM} for key in self.keys.keys]
        }

    def verify(self, token: str, *, issuer: str, audience: str, now: float | None = None) -> dict[str, Any]:
        """Claims of a token this bridge signed for ``audience``; ``TokenInvalid``."""
        from joserfc import jwt
        from joserfc.errors import JoseError

        try:
            claims = dict(jwt.decode(token, self.keys, algorithms=[ALGORITHM]).claims)
        except (JoseError, ValueError) as exc:
            raise TokenInvalid("signature") from exc
        if claims.get("iss") != issuer or claims.get("aud") != audience:
            raise TokenInvalid("issuer or audience")
        if not isinstance(claims.get("exp"), int) or claims["exp"] < (time.time() if now is None else now):
            raise TokenInvalid("expired")
        return claims
