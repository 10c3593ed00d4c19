"""A local stand-in for the user pool's hosted federation step (``make dev`` only, never
deployed): moto has no hosted login and runs no triggers, so this does what Cognito does
between ``/oauth2/authorize`` and the app's callback, on the emulator's pool:

    GET  /_local/cognito/oauth2/authorize     checks the app client (the hosted login's own, or a
                                              tenant's), redirect URI, provider, scopes;
                                              on to the provider (the local identity provider,
                                              or for "Microsoft" the bridge, as configured)
    GET  /_local/cognito/oauth2/idpresponse   the provider's code: exchanged, its ID token
                                              checked, its claims mapped into attributes as the
                                              pool's provider says; then the user: the identity's
                                              own, the user it is linked to, or, at a first
                                              sign-in, PreSignUp (the real trigger handler, with
                                              Cognito's event) and a new user; PreTokenGeneration;
                                              tokens; to the app's callback with a code
    POST /_local/cognito/oauth2/token         the code (PKCE S256) for the tokens
    GET  /_local/cognito/<pool>/.well-known/jwks.json   the pool's keys, and this stand-in's

Tokens: moto cannot mint tokens for a user without a password, so the stand-in gives the
user a random password of its own and asks moto (AdminInitiateAuth): that makes the access and
refresh tokens moto knows. The ID token is re-signed with this stand-in's key (published next
to moto's) because Cognito puts what moto does not into it: the ``nonce`` of the authorize
request, the ``identities`` of a federated user, and PreTokenGeneration's claims.

Cognito's "first login after linking" failure (the reference's 1.5: after PreSignUp links,
the first sign-in fails with "Already found an entry for username ...") is reproduced when
``first_login_after_link_fails`` is set (the default), so the app's retry runs locally too.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from infra.local import emulator
from infra.local.answers import Answer, json_answer, redirect
from infra.local.events import pre_sign_up_event, pre_token_generation_event
from infra.local.identity_provider import LocalIdentityProvider
from onboarding.domain.rules import pkce_challenge

PREFIX = "/_local/cognito"
Trigger = Callable[[dict[str, Any]], dict[str, Any]]


def _back(redirect_uri: str, **query: str) -> Answer:
    """To the app's callback with ``query`` (an error as Cognito words it, or the code)."""
    return redirect(f"{redirect_uri}?{urlencode(query)}")


def _error_page(status: int, message: str) -> Answer:
    return (
        status,
        {"Content-Type": "text/plain; charset=utf-8"},
        f"An error was encountered: {message}".encode(),
    )


def _text(value: Any) -> str:
    """A claim as Cognito writes it into an attribute: JSON booleans become "true"/"false"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


@dataclass
class LocalHostedLogin:
    base_url: str  # this server
    endpoint_url: str  # the emulator
    region: str
    user_pool_id: str
    idp: LocalIdentityProvider
    trigger: Trigger  # the user pool's trigger function
    first_login_after_link_fails: bool = True
    _pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    _codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        import boto3
        from joserfc.jwk import RSAKey

        self.cognito: Any = boto3.session.Session().client(  # type: ignore[call-overload]
            "cognito-idp", endpoint_url=self.endpoint_url, region_name=self.region
        )
        self.key = RSAKey.generate_key(
            2048, parameters={"kid": "local-hosted-login", "use": "sig", "alg": "RS256"}
        )
        self.issuer = f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def domain(self) -> str:
        return f"{self.base_url}{PREFIX}"

    @property
    def jwks_url(self) -> str:
        return f"{self.domain}/{self.user_pool_id}/.well-known/jwks.json"

    # --- HTTP -----------------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, body: bytes) -> Answer:
        split = urlsplit(raw_path)
        path, query = split.path.removeprefix(PREFIX), dict(parse_qsl(split.query, keep_blank_values=True))
        if path == "/oauth2/authorize" and method == "GET":
            return self.authorize(query)
        if path == "/oauth2/idpresponse" and method == "GET":
            return self.idp_response(query)
        if path == "/oauth2/token" and method == "POST":
            return self.token(dict(parse_qsl(body.decode("utf-8", "replace"))))
        if path == f"/{self.user_pool_id}/.well-known/jwks.json" and method == "GET":
            return json_answer(200, self.keys())
        return json_answer(404, {"error": "not_found"})

    def keys(self) -> dict[str, Any]:
        import httpx

        pool_keys = httpx.get(
            f"{self.endpoint_url}/{self.user_pool_id}/.well-known/jwks.json", timeout=5
        ).json()
        return {"keys": [*pool_keys["keys"], self.key.as_dict(private=False)]}

    def _client(self, client_id: str) -> dict[str, Any] | None:
        """An app client of the pool that may use the hosted login (the code flow)."""
        try:
            found = self.cognito.describe_user_pool_client(UserPoolId=self.user_pool_id, ClientId=client_id)
        except self.cognito.exceptions.ResourceNotFoundException:
            return None
        client: dict[str, Any] = found["UserPoolClient"]
        return client if client.get("AllowedOAuthFlowsUserPoolClient") else None

    def authorize(self, query: dict[str, str]) -> Answer:
        client = self._client(query.get("client_id") or "x")
        if client is None or query.get("redirect_uri") not in client.get("CallbackURLs", []):
            return _error_page(400, "redirect_mismatch")
        provider = query.get("identity_provider", "")
        if provider not in client.get("SupportedIdentityProviders", []):
            return _error_page(400, "this stand-in serves logins with an identity_provider of the client")
        if query.get("response_type") != "code" or not set(query.get("scope", "").split()) <= set(
            client.get("AllowedOAuthScopes", [])
        ):
            return _back(query["redirect_uri"], error="invalid_scope", state=query.get("state", ""))
        if query.get("code_challenge") and query.get("code_challenge_method") != "S256":
            return _back(query["redirect_uri"], error="invalid_request", state=query.get("state", ""))
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        details = self._provider(provider)
        with self._lock:
            self._pending[state] = {
                "request": query,
                "client_id": client["ClientId"],
                "provider": provider,
                "nonce": nonce,
                "expires": time.time() + 600,
            }
        forward = {
            "response_type": "code",
            "client_id": details["client_id"],
            "redirect_uri": f"{self.domain}/oauth2/idpresponse",
            "scope": details["authorize_scopes"],
            "state": state,
            "nonce": nonce,
        }
        # Cognito passes login_hint on to Google and OIDC providers; locally Apple gets it too,
        # so that ?login_hint=<sub> picks an identity for every provider.
        if query.get("login_hint"):
            forward["login_hint"] = query["login_hint"]
        return redirect(f"{details['authorize_url']}?{urlencode(forward)}")

    def _provider(self, name: str) -> dict[str, Any]:
        """How to reach a provider: what the pool has configured, with the local identity
        provider standing in for Google's and Apple's own endpoints."""
        described = self.cognito.describe_identity_provider(UserPoolId=self.user_pool_id, ProviderName=name)
        provider = described["IdentityProvider"]
        details = dict(provider["ProviderDetails"])
        if provider["ProviderType"] in {"Google", "SignInWithApple"}:
            local = "google" if provider["ProviderType"] == "Google" else "apple"
            endpoints = self.idp.endpoints(local)
            details.update(
                authorize_url=endpoints["authorize"],
                token_url=endpoints["token"],
                jwks_uri=endpoints["jwks"],
                oidc_issuer=self.idp.root(local),
            )
        details["mapping"] = dict(provider.get("AttributeMapping") or {})
        details["type"] = provider["ProviderType"]
        return details

    def idp_response(self, query: dict[str, str]) -> Answer:
        with self._lock:
            pending = self._pending.pop(query.get("state", ""), None)
        if pending is None or pending["expires"] < time.time():
            return _error_page(400, "invalid_state")
        request = pending["request"]
        back = request["redirect_uri"]
        app_state = request.get("state", "")
        if query.get("error"):  # the provider's own error code goes on to the app
            error = query["error"] if query["error"].isidentifier() else "server_error"
            return redirect(f"{back}?{urlencode({'error': error, 'state': app_state})}")
        details = self._provider(pending["provider"])
        try:
            claims = self._provider_claims(details, query.get("code", ""), pending["nonce"])
        except Exception as exc:  # Cognito answers any provider failure the same way
            description = f"Error from the identity provider: {type(exc).__name__}"
            return _back(back, error_description=description, state=app_state, error="invalid_request")
        outcome = self._sign_in(pending["provider"], details, claims, pending["client_id"])
        tokens = outcome if isinstance(outcome, str) else self._tokens(outcome, request.get("nonce"))
        if isinstance(tokens, str):  # an error, as Cognito words it
            return _back(back, error_description=tokens, state=app_state, error="invalid_request")
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = {
                "tokens": tokens,
                "client_id": pending["client_id"],
                "redirect_uri": back,
                "challenge": request.get("code_challenge"),
                "expires": time.time() + 300,
            }
        return redirect(f"{back}?{urlencode({'code': code, 'state': app_state})}")

    def _provider_claims(self, details: dict[str, Any], code: str, nonce: str) -> dict[str, Any]:
        """What Cognito gets from a provider: its code exchanged, its ID token checked
        (the same verifier as the API's), and for OIDC providers its userinfo merged in."""
        import httpx

        from onboarding.adapters import oidc

        token = oidc.exchange_code(
            details["token_url"],
            client_id=details["client_id"],
            client_secret=details.get("client_secret"),
            code=code,
            redirect_uri=f"{self.domain}/oauth2/idpresponse",
        )
        claims = oidc.verify_id_token(
            token["id_token"],
            oidc.KeySetCache(details["jwks_uri"]),
            issuer=details["oidc_issuer"],
            audience=details["client_id"],
            nonce=nonce,
        )
        if details["type"] == "OIDC" and details.get("attributes_url"):
            info = httpx.get(
                details["attributes_url"],
                headers={"Authorization": f"Bearer {token['access_token']}"},
                timeout=5,
            )
            info.raise_for_status()
            if info.json().get("sub") != claims["sub"]:
                raise ValueError("userinfo is of another subject")
            claims.update(info.json())
        return claims

    def _sign_in(
        self, provider: str, details: dict[str, Any], claims: dict[str, Any], client_id: str
    ) -> str | tuple[str, str]:
        """The user this sign-in is, ``(username, client)``; or the error Cognito reports."""
        subject = str(claims["sub"])
        attributes = {
            attr: _text(claims[claim]) for attr, claim in details["mapping"].items() if claim in claims
        }
        federated = f"{provider}_{subject}"
        if self._user(federated) is not None:
            self.cognito.admin_update_user_attributes(
                UserPoolId=self.user_pool_id,
                Username=federated,
                UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
            )
            return federated, client_id
        linked = emulator.linked_user(self.endpoint_url, self.region, self.user_pool_id, provider, subject)
        if linked is not None:
            return linked, client_id
        event = pre_sign_up_event(
            user_pool_id=self.user_pool_id,
            username=federated,
            client_id=client_id,
            user_attributes=attributes,
            region=self.region,
        )
        try:
            self.trigger(event)
        except Exception as exc:
            return f"PreSignUp failed with error {exc}."
        if (
            emulator.linked_user(self.endpoint_url, self.region, self.user_pool_id, provider, subject)
            is not None
        ):
            if self.first_login_after_link_fails:
                return f"Already found an entry for username {federated}"
            return self._sign_in(provider, details, claims, client_id)
        identities = [
            {
                "userId": subject,
                "providerName": provider,
                "providerType": details["type"],
                "issuer": None,
                "primary": "true",
                "dateCreated": str(int(time.time() * 1000)),
            }
        ]
        self.cognito.admin_create_user(
            UserPoolId=self.user_pool_id,
            Username=federated,
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()]
            + [{"Name": "identities", "Value": json.dumps(identities)}],
        )
        return federated, client_id

    def _user(self, username: str) -> dict[str, Any] | None:
        try:
            return self.cognito.admin_get_user(UserPoolId=self.user_pool_id, Username=username)  # type: ignore[no-any-return]
        except self.cognito.exceptions.UserNotFoundException:
            return None

    def _tokens(self, who: tuple[str, str], nonce: str | None) -> dict[str, Any] | str:
        username, client_id = who
        user = self._user(username) or {}
        attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        event = pre_token_generation_event(
            user_pool_id=self.user_pool_id,
            username=username,
            client_id=client_id,
            user_attributes={**attributes, "cognito:user_status": user.get("UserStatus", "")},
            region=self.region,
        )
        try:
            answered = self.trigger(event)
        except Exception as exc:
            return f"PreTokenGeneration failed with error {exc}."
        password = secrets.token_urlsafe(32) + "Aa1!"
        self.cognito.admin_set_user_password(
            UserPoolId=self.user_pool_id, Username=username, Password=password, Permanent=True
        )
        result = self.cognito.admin_initiate_auth(
            UserPoolId=self.user_pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )["AuthenticationResult"]
        return {
            "id_token": self._id_token(result["IdToken"], attributes, nonce, answered),
            "access_token": result["AccessToken"],
            "refresh_token": result["RefreshToken"],
            "expires_in": result["ExpiresIn"],
            "token_type": "Bearer",
        }

    def _id_token(
        self, moto_token: str, attributes: dict[str, str], nonce: str | None, answered: dict[str, Any]
    ) -> str:
        """moto's ID token with what Cognito adds: the nonce, the identities, and what
        PreTokenGeneration asked for; signed with this stand-in's key."""
        from joserfc import jwt

        payload = moto_token.split(".")[1]
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims = {
            k: v for k, v in claims.items() if not k.startswith("custom:")
        }  # not readable by the client
        for name in ("email", "name"):
            if name in attributes:
                claims[name] = attributes[name]
        if "identities" in attributes:
            claims["identities"] = json.loads(attributes["identities"])
        if nonce:
            claims["nonce"] = nonce
        overrides = ((answered.get("response") or {}).get("claimsAndScopeOverrideDetails") or {}).get(
            "idTokenGeneration"
        ) or {}
        claims.update(overrides.get("claimsToAddOrOverride") or {})
        for name in overrides.get("claimsToSuppress") or []:
            claims.pop(name, None)
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)

    def token(self, form: dict[str, str]) -> Answer:
        if self._client(form.get("client_id") or "x") is None:
            return json_answer(400, {"error": "invalid_client"})
        if form.get("grant_type") != "authorization_code":
            return json_answer(400, {"error": "unsupported_grant_type"})
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)
        if (
            grant is None
            or grant["client_id"] != form.get("client_id")
            or grant["expires"] < time.time()
            or grant["redirect_uri"] != form.get("redirect_uri")
        ):
            return json_answer(400, {"error": "invalid_grant"})
        if grant["challenge"] and pkce_challenge(form.get("code_verifier", "")) != grant["challenge"]:
            return json_answer(400, {"error": "invalid_grant"})
        return json_answer(200, grant["tokens"])
