"""The user pool's hosted login (Cognito's OAuth 2.0 authorization server): where a federated
login starts, and the exchange of its code for tokens whose ID token is then verified."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from onboarding.adapters import oidc
from onboarding.domain.errors import TokenInvalid
from onboarding.domain.linking import Provider
from onboarding.domain.ports import Tokens
from onboarding.settings import Settings

SCOPES = "openid email profile"


@lru_cache(maxsize=4)
def _keys(url: str) -> oidc.KeySetCache:
    """One key cache per container (and JWKS URL)."""
    return oidc.KeySetCache(url)


class CognitoHostedLogin:
    def __init__(self, settings: Settings) -> None:
        identity = settings.identity
        if not identity.web_client_id or not identity.hosted_domain:
            raise ValueError("federated login needs identity.web_client_id and identity.hosted_domain")
        self.client_id = identity.web_client_id
        self.domain = identity.hosted_domain.rstrip("/")
        self.redirect_uri = f"{settings.public_url}/auth/callback"
        self.issuer = identity.issuer(settings.region)
        self.keys = _keys(identity.keys_url(settings.region))

    def authorize_url(
        self,
        *,
        provider: Provider,
        state: str,
        nonce: str,
        code_challenge: str,
        login_hint: str | None,
        client_id: str | None = None,
    ) -> str:
        """``identity_provider`` routes straight to the provider (no Cognito page); Cognito
        passes ``login_hint`` on to Google and OIDC providers. ``client_id``: a tenant's own app
        client (which offers only the tenant's IdP), else the hosted login's."""
        query = {
            "response_type": "code",
            "client_id": client_id or self.client_id,
            "redirect_uri": self.redirect_uri,
            "identity_provider": provider.cognito_name,
            "scope": SCOPES,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        if login_hint:
            query["login_hint"] = login_hint
        return f"{self.domain}/oauth2/authorize?{urlencode(query)}"

    def exchange(self, code: str, code_verifier: str, client_id: str | None = None) -> Tokens:
        """``LoginRejected`` (bad, used or expired code; wrong verifier) or
        ``IdentityUnavailable``."""
        token = oidc.exchange_code(
            f"{self.domain}/oauth2/token",
            client_id=client_id or self.client_id,
            code=code,
            redirect_uri=self.redirect_uri,
            code_verifier=code_verifier,
        )
        return Tokens(
            id_token=token["id_token"],
            access_token=str(token.get("access_token", "")),
            refresh_token=token.get("refresh_token"),
            expires_in=int(token.get("expires_in", 3600)),
        )

    def verify(self, id_token: str, client_id: str | None = None) -> dict[str, Any]:
        """The claims of the pool's ID token for the client of the login (``client_id``, else
        the hosted login's): signature against the pool's keys, issuer, audience, expiry,
        ``token_use``. ``TokenInvalid``."""
        claims = oidc.verify_id_token(
            id_token,
            self.keys,
            issuer=self.issuer,
            audience=client_id or self.client_id,
            required=("cognito:username",),
        )
        if claims.get("token_use") != "id":
            raise TokenInvalid("token_use")
        return claims
