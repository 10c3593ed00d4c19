"""The Microsoft bridge: an OpenID provider that the user pool trusts as its "Microsoft"
provider, in front of Entra ID's ``common`` endpoints (see ``entra`` for why).

    Cognito --authorize--> bridge --authorize--> Entra ID (any tenant, personal accounts)
    Entra ID --code--> bridge /callback: code exchanged, Entra's ID token checked (signature,
        iss of its own tid, aud, exp, nonce), its claims kept sealed under a one-time code
    bridge --code--> Cognito /oauth2/idpresponse; Cognito --token--> bridge: an ID token
        signed with the bridge's key, issuer the bridge, for Cognito's client only

What passes on to Cognito: ``sub`` = ``<tid>.<oid>`` (Entra's own advice for a stable key:
the tenant and the user's object id; both lower-case GUIDs, so the case-insensitive pool
cannot fold two users into one), ``email``, ``name`` and ``xms_edov`` as a boolean, which the
pool maps to ``custom:ms_edov`` for the linking rule. Nothing the user can type decides
anything here: a missing or false ``xms_edov`` only means "no link" downstream.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

from onboarding.domain.errors import IdentityUnavailable, LoginRejected, TokenInvalid
from onboarding.domain.rules import new_token, now, pkce_challenge, token_hash
from onboarding.observability import logger

PATH = "/federation/microsoft"
TOKEN_SECONDS = 300
CODE_SECONDS = 120
_PASSED_ON_ERRORS = {"access_denied", "login_required", "consent_required", "interaction_required"}


class BridgeRefusal(Exception):
    """A request the bridge refuses without redirecting anywhere (bad client or redirect URI,
    unknown or used state): answered with a 400 page; ``code`` is an OAuth error code."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


class TokenError(Exception):
    """An OAuth error of the token or userinfo endpoint, in the protocol's own shape."""

    def __init__(self, code: str, status: int = 400) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


class Store(Protocol):
    def start(self, state_hash: str, pending: dict[str, Any], expires_at: datetime) -> None: ...
    def take(self, state_hash: str, moment: datetime) -> dict[str, Any] | None: ...
    def keep_code(self, code: str, claims: dict[str, Any], expires_at: datetime) -> None: ...
    def take_code(self, code: str, moment: datetime) -> dict[str, Any] | None: ...


class Upstream(Protocol):
    def authorize_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_challenge: str, login_hint: str | None
    ) -> str: ...
    def exchange(self, code: str, *, redirect_uri: str, code_verifier: str) -> str: ...
    def verify(self, id_token: str) -> dict[str, Any]: ...


class Signer(Protocol):
    def sign(self, claims: dict[str, Any]) -> str: ...
    def public(self) -> dict[str, Any]: ...
    def verify(
        self, token: str, *, issuer: str, audience: str, now: float | None = None
    ) -> dict[str, Any]: ...


def _edov(value: object) -> bool:
    """``xms_edov`` as Entra sends it: ``true``, ``"true"`` or ``"1"`` (seen in the wild)."""
    return value is True or str(value).strip().lower() in {"true", "1"}


@dataclass
class MicrosoftBridge:
    public_url: str
    cognito_redirect_uri: str  # the user pool's /oauth2/idpresponse
    client_id: str  # Cognito's client id here
    client_secret: Callable[[], str]
    store: Store
    upstream: Callable[[], Upstream]
    signer: Callable[[], Signer]
    clock: Callable[[], datetime] = field(default=now)

    @property
    def issuer(self) -> str:
        return f"{self.public_url}{PATH}"

    @property
    def callback_uri(self) -> str:
        return f"{self.issuer}/callback"

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks.json",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": ["sub", "email", "name", "xms_edov"],
        }

    # --- Cognito -> bridge -> Entra ---------------------------------------------------------------
    def authorize(self, params: Mapping[str, str]) -> str:
        """Where to send the browser: Entra's authorize endpoint. ``BridgeRefusal`` for a
        request that is not Cognito's (never redirect to an unchecked URI)."""
        if (
            params.get("client_id") != self.client_id
            or params.get("redirect_uri") != self.cognito_redirect_uri
        ):
            raise BridgeRefusal("invalid_request", "Unknown client or redirect URI.")
        if params.get("response_type") != "code" or "openid" not in params.get("scope", "").split():
            return self._back_to_cognito(
                {"error": "unsupported_response_type", "state": params.get("state", "")}
            )
        state, nonce, verifier = new_token(), new_token(), secrets.token_urlsafe(64)
        moment = self.clock()
        self.store.start(
            token_hash(state),
            {
                "cognito_state": params.get("state", "")[:2048],
                "cognito_nonce": params.get("nonce", "")[:2048],
                "nonce_hash": token_hash(nonce),
                "code_verifier": verifier,
            },
            moment + timedelta(minutes=10),
        )
        hint = params.get("login_hint") or None
        return self.upstream().authorize_url(
            redirect_uri=self.callback_uri,
            state=state,
            nonce=nonce,
            code_challenge=pkce_challenge(verifier),
            login_hint=hint[:254] if hint else None,
        )

    def callback(self, params: Mapping[str, str]) -> str:
        """Entra sent the browser back: check everything, then on to Cognito with a code of
        ours (or with an error code). ``BridgeRefusal`` for an unknown or used state."""
        state = params.get("state", "")
        pending = self.store.take(token_hash(state), self.clock()) if state else None
        if pending is None:
            raise BridgeRefusal("invalid_state", "This login is not valid (any more). Start the login again.")
        back = {"state": pending["cognito_state"]}
        if params.get("error"):
            error = params["error"] if params["error"] in _PASSED_ON_ERRORS else "server_error"
            logger.info("Entra ID ended the login with an error", extra={"error": params["error"][:64]})
            return self._back_to_cognito({"error": error, **back})
        try:
            id_token = self.upstream().exchange(
                params.get("code", ""), redirect_uri=self.callback_uri, code_verifier=pending["code_verifier"]
            )
            claims = self.upstream().verify(id_token)  # every check but the nonce, compared by hash below
        except (LoginRejected, TokenInvalid, IdentityUnavailable) as exc:
            logger.warning("Entra ID login refused", extra={"check": str(exc), "kind": type(exc).__name__})
            return self._back_to_cognito({"error": "server_error", **back})
        if not hmac.compare_digest(token_hash(str(claims.get("nonce", ""))), pending["nonce_hash"]):
            logger.warning("Entra ID login refused", extra={"check": "nonce"})
            return self._back_to_cognito({"error": "server_error", **back})
        code = new_token()
        passed_on = {
            "sub": f"{claims['tid']}.{claims['oid']}".lower(),
            "email": claims.get("email") if isinstance(claims.get("email"), str) else None,
            "name": claims.get("name") if isinstance(claims.get("name"), str) else None,
            "xms_edov": _edov(claims.get("xms_edov")),
            "nonce": pending["cognito_nonce"] or None,
        }
        self.store.keep_code(code, passed_on, self.clock() + timedelta(seconds=CODE_SECONDS))
        return self._back_to_cognito({"code": code, **back})

    def _back_to_cognito(self, query: dict[str, str]) -> str:
        return f"{self.cognito_redirect_uri}?{urlencode(query)}"

    # --- Cognito's back channel -----------------------------------------------------------------
    def token(self, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
        """The token endpoint (client_secret_basic or client_secret_post). ``TokenError``."""
        client_id, client_secret = self._client_credentials(form, authorization)
        if client_id != self.client_id or not hmac.compare_digest(client_secret, self.client_secret()):
            raise TokenError("invalid_client", 401)
        if form.get("grant_type") != "authorization_code":
            raise TokenError("unsupported_grant_type")
        if form.get("redirect_uri") != self.cognito_redirect_uri:
            raise TokenError("invalid_grant")
        passed_on = self.store.take_code(form.get("code", ""), self.clock()) if form.get("code") else None
        if passed_on is None:
            raise TokenError("invalid_grant")
        issued = int(self.clock().timestamp())
        user = {k: v for k, v in passed_on.items() if k != "nonce" and v is not None}
        common = {"iss": self.issuer, "iat": issued, "exp": issued + TOKEN_SECONDS, **user}
        id_claims = {**common, "aud": self.client_id, "auth_time": issued}
        if passed_on.get("nonce"):
            id_claims["nonce"] = passed_on["nonce"]
        signer = self.signer()
        return {
            "id_token": signer.sign(id_claims),
            "access_token": signer.sign(
                {**common, "aud": f"{self.issuer}/userinfo", "scope": "openid email profile"}
            ),
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
        }

    @staticmethod
    def _client_credentials(form: Mapping[str, str], authorization: str | None) -> tuple[str, str]:
        if authorization and authorization.lower().startswith("basic "):
            from urllib.parse import unquote

            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            except (ValueError, UnicodeDecodeError) as exc:
                raise TokenError("invalid_client", 401) from exc
            client_id, _, secret = decoded.partition(":")
            return unquote(client_id), unquote(secret)
        return form.get("client_id", ""), form.get("client_secret", "")

    def userinfo(self, authorization: str | None) -> dict[str, Any]:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise TokenError("invalid_token", 401)
        try:
            claims = self.signer().verify(
                authorization[7:].strip(),
                issuer=self.issuer,
                audience=f"{self.issuer}/userinfo",
                now=self.clock().timestamp(),
            )
        except TokenInvalid as exc:
            raise TokenError("invalid_token", 401) from exc
        return {k: claims[k] for k in ("sub", "email", "name", "xms_edov") if k in claims}

    def keys(self) -> dict[str, Any]:
        return self.signer().public()
