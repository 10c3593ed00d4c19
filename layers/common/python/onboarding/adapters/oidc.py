"""OpenID Connect as a relying party: fetching an issuer's signing keys, verifying its ID
tokens (joserfc) and exchanging authorization codes (authlib over httpx).

Used for the user pool's tokens (the login callback), for Entra ID's tokens (the Microsoft
bridge) and by the local stand-in of Cognito for the local identity provider's tokens: one
verifier, every check in one place. httpx and authlib are imported when first used.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from onboarding.domain.errors import IdentityUnavailable, LoginRejected, TokenInvalid

ALGORITHMS = ("RS256",)  # what every issuer here signs with; "none" and HS* are never accepted
LEEWAY_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 5


class KeySetCache:
    """An issuer's JWKS, fetched on first use and again (at most once a minute) when a token
    names a key it does not hold: keys rotate without a restart, and a flood of tokens with
    made-up key ids cannot make us hammer the issuer."""

    def __init__(self, url: str, *, refetch_after_seconds: float = 60) -> None:
        self.url = url
        self.refetch_after_seconds = refetch_after_seconds
        self._keys: Any = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def _fetch(self) -> Any:
        import httpx
        from joserfc.jwk import KeySet

        try:
            response = httpx.get(self.url, timeout=HTTP_TIMEOUT_SECONDS)
            response.raise_for_status()
            return KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise IdentityUnavailable(f"keys of {self.url}: {type(exc).__name__}") from exc

    def keys(self, kid: str | None) -> Any:
        with self._lock:
            stale = time.monotonic() - self._fetched_at > self.refetch_after_seconds
            if self._keys is None or (stale and kid and not _holds(self._keys, kid)):
                self._keys = self._fetch()
                self._fetched_at = time.monotonic()
            return self._keys


def _holds(key_set: Any, kid: str) -> bool:
    return any(key.kid == kid for key in key_set.keys)


def _header(token: str) -> dict[str, Any]:
    """The (unverified) JOSE header: which algorithm and key the token claims."""
    import base64
    import json

    try:
        first = token.split(".", maxsplit=1)[0]
        header = json.loads(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)))
    except (ValueError, UnicodeError) as exc:
        raise TokenInvalid("malformed") from exc
    if not isinstance(header, dict) or token.count(".") != 2:
        raise TokenInvalid("malformed")
    return header


def verify_id_token(
    token: str,
    keys: KeySetCache,
    *,
    issuer: str | Callable[[Mapping[str, Any]], str],
    audience: str,
    nonce: str | None = None,
    required: Collection[str] = (),
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """The claims of an ID token that passed every check: signature (RS256 only) with one of
    the issuer's keys, ``iss`` (a string, or a function of the claims for issuers that are
    per tenant), ``aud``, ``exp``, ``nbf``/``iat`` not in the future, ``nonce`` if given, and
    the ``required`` claims present. ``TokenInvalid`` names the failed check (for the logs)."""
    from joserfc import jwt
    from joserfc.errors import JoseError

    header = _header(token)
    if header.get("alg") not in ALGORITHMS:
        raise TokenInvalid("algorithm")
    try:
        decoded = jwt.decode(token, keys.keys(header.get("kid")), algorithms=list(ALGORITHMS))
    except JoseError as exc:
        raise TokenInvalid("signature") from exc
    claims: dict[str, Any] = dict(decoded.claims)
    expected_issuer = issuer(claims) if callable(issuer) else issuer
    moment = now()
    if claims.get("iss") != expected_issuer:
        raise TokenInvalid("issuer")
    audiences = claims.get("aud")
    if audience not in (audiences if isinstance(audiences, list) else [audiences]):
        raise TokenInvalid("audience")
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] + LEEWAY_SECONDS < moment:
        raise TokenInvalid("expired")
    for name in ("nbf", "iat"):
        if isinstance(claims.get(name), int | float) and claims[name] - LEEWAY_SECONDS > moment:
            raise TokenInvalid(f"{name} in the future")
    if nonce is not None and claims.get("nonce") != nonce:
        raise TokenInvalid("nonce")
    missing = [name for name in required if not claims.get(name)]
    if missing:
        raise TokenInvalid(f"missing {', '.join(missing)}")
    return claims


def exchange_code(
    token_endpoint: str,
    *,
    client_id: str,
    code: str,
    redirect_uri: str,
    code_verifier: str | None = None,
    client_secret: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The token response for an authorization code. ``LoginRejected`` when the server
    refuses the code (``invalid_grant``: unknown, used, expired, wrong verifier),
    ``IdentityUnavailable`` when it cannot be reached or answers otherwise."""
    import warnings

    import httpx

    with warnings.catch_warnings():
        # authlib 1.9 warns that it prefers the httpx2 fork; the platform's stack is httpx.
        warnings.simplefilter("ignore")
        from authlib.integrations.httpx_client import OAuth2Client, OAuthError

    auth_method = "client_secret_post" if client_secret else "none"
    with OAuth2Client(
        client_id=client_id,
        client_secret=client_secret,
        token_endpoint_auth_method=auth_method,
        timeout=HTTP_TIMEOUT_SECONDS,
    ) as client:
        try:
            token = client.fetch_token(
                token_endpoint,
                grant_type="authorization_code",
                code=code,
                redirect_uri=redirect_uri,
                code_verifier=code_verifier,
                **(extra or {}),
            )
        except OAuthError as exc:
            if exc.error in {"invalid_grant", "invalid_request", "unauthorized_client", "invalid_client"}:
                raise LoginRejected(exc.error) from exc
            raise IdentityUnavailable(exc.error or "token endpoint") from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise IdentityUnavailable(type(exc).__name__) from exc
    if not isinstance(token.get("id_token"), str):
        raise IdentityUnavailable("no id_token in the token response")
    return dict(token)
