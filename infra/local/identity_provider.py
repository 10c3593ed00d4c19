"""The local development identity provider (``make dev`` only, never deployed): Google, Apple
and Microsoft (Entra ID) as OpenID providers on 127.0.0.1, with identities registered over
HTTP, so that federated login runs offline, in the end-to-end tests and in a browser.

    POST /_local/idp/identities {"provider", "sub", "email", "claims"?}   -> 201
    GET  /_local/idp/<provider>/authorize ...   a page to pick an identity; with login_hint=<sub>
                                                it picks that one and redirects at once
    POST /_local/idp/<provider>/token           the code for an ID token (RS256, joserfc)
    GET  /_local/idp/<provider>/jwks.json       its keys

Microsoft is served the way Entra ID's ``common`` endpoints are (``common/oauth2/v2.0/...``,
keys at ``common/discovery/v2.0/keys``, issuer ``<authority>/<tid>/v2.0`` per token), so the
bridge's checks run against it unchanged. ``claims`` go into the ID token as given (Apple's
``email_verified`` as the string "true", ``hd``, ``xms_edov``, ``tid`` ...).
"""

from __future__ import annotations

import base64
import html
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from infra.local.answers import Answer, json_answer, redirect
from onboarding.domain.rules import pkce_challenge

PREFIX = "/_local/idp"
PROVIDERS = ("google", "microsoft", "apple")
CONSUMER_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"  # Entra's tenant of personal accounts


@dataclass(frozen=True)
class Client:
    client_id: str
    redirect_uri: str
    client_secret: str | None = None  # checked when set (the bridge's Entra app)


@dataclass
class LocalIdentityProvider:
    base_url: str  # where this server is reached, e.g. http://127.0.0.1:3000
    clients: dict[str, Client] = field(default_factory=dict)  # provider -> its one client
    identities: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=dict
    )  # provider -> sub -> identity
    _codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        from joserfc.jwk import RSAKey

        self.key = RSAKey.generate_key(2048, parameters={"kid": "local-idp", "use": "sig", "alg": "RS256"})

    # --- Where things are -----------------------------------------------------------------------
    def root(self, provider: str) -> str:
        return f"{self.base_url}{PREFIX}/{provider}"

    def endpoints(self, provider: str) -> dict[str, str]:
        root = self.root(provider)
        if provider == "microsoft":  # Entra ID's common endpoints
            return {
                "authorize": f"{root}/common/oauth2/v2.0/authorize",
                "token": f"{root}/common/oauth2/v2.0/token",
                "jwks": f"{root}/common/discovery/v2.0/keys",
            }
        return {"authorize": f"{root}/authorize", "token": f"{root}/token", "jwks": f"{root}/jwks.json"}

    def issuer(self, provider: str, claims: dict[str, Any]) -> str:
        if provider == "microsoft":
            return f"{self.root(provider)}/{claims['tid']}/v2.0"
        return self.root(provider)

    # --- HTTP -----------------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Answer:
        split = urlsplit(raw_path)
        path, query = split.path, dict(parse_qsl(split.query, keep_blank_values=True))
        if path == f"{PREFIX}/identities" and method == "POST":
            return self.register(body)
        provider, _, rest = path.removeprefix(f"{PREFIX}/").partition("/")
        if provider not in self.clients:
            return json_answer(404, {"error": "not_found"})
        endpoints = {urlsplit(url).path: name for name, url in self.endpoints(provider).items()}
        what = endpoints.get(f"{PREFIX}/{provider}/{rest}")
        if what == "authorize" and method == "GET":
            return self.authorize(provider, query)
        if what == "token" and method == "POST":
            return self.token(provider, dict(parse_qsl(body.decode("utf-8", "replace"))), headers)
        if what == "jwks" and method == "GET":
            return json_answer(200, {"keys": [self.key.as_dict(private=False)]})
        return json_answer(404, {"error": "not_found"})

    def register(self, body: bytes) -> Answer:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return json_answer(
                400, {"error": {"code": "invalid_json", "message": "The body is not valid JSON."}}
            )
        problems = []
        if not isinstance(data, dict):
            data = {}
        if data.get("provider") not in self.clients:
            problems.append(
                {"field": "body.provider", "message": f"One of {', '.join(sorted(self.clients))}."}
            )
        if not isinstance(data.get("sub"), str) or not 0 < len(data["sub"]) <= 255:
            problems.append({"field": "body.sub", "message": "A string of 1-255 characters."})
        if not isinstance(data.get("email"), str):
            problems.append({"field": "body.email", "message": "A string."})
        if not isinstance(data.get("claims", {}), dict):
            problems.append({"field": "body.claims", "message": "An object."})
        if problems:
            return json_answer(
                422, {"error": {"code": "validation_error", "message": "Not valid.", "details": problems}}
            )
        identity = {"sub": data["sub"], "email": data["email"], "claims": dict(data.get("claims") or {})}
        with self._lock:
            self.identities.setdefault(data["provider"], {})[data["sub"]] = identity
        return json_answer(201, {"provider": data["provider"], **identity})

    def authorize(self, provider: str, query: dict[str, str]) -> Answer:
        client = self.clients[provider]
        if query.get("client_id") != client.client_id or query.get("redirect_uri") != client.redirect_uri:
            return json_answer(
                400, {"error": "invalid_request", "error_description": "unknown client or redirect_uri"}
            )
        chosen = query.get("pick") or query.get("login_hint")
        identity = self.identities.get(provider, {}).get(chosen or "")
        if query.get("cancel"):
            cancelled = {"error": "access_denied", "state": query.get("state", "")}
            return redirect(f"{client.redirect_uri}?{urlencode(cancelled)}")
        if identity is None:
            return self._pick_page(provider, query)
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = {
                "provider": provider,
                "sub": identity["sub"],
                "nonce": query.get("nonce"),
                "challenge": query.get("code_challenge"),
                "redirect_uri": client.redirect_uri,
                "expires": time.time() + 300,
            }
        return redirect(f"{client.redirect_uri}?{urlencode({'code': code, 'state': query.get('state', '')})}")

    def _pick_page(self, provider: str, query: dict[str, str]) -> Answer:
        items = []
        for sub, identity in sorted(self.identities.get(provider, {}).items()):
            link = html.escape(f"?{urlencode({**query, 'pick': sub})}")
            label = html.escape(f"{identity['email'] or '(no email)'} - {sub}")
            items.append(f'<li><a class="identity" href="{link}">{label}</a></li>')
        cancel = html.escape(f"?{urlencode({**query, 'cancel': '1'})}")
        body = (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<title>Local {html.escape(provider)} login"
            f"</title></head><body><h1>Local {html.escape(provider)} login (development only)</h1>"
            f"<p>Pick an identity (register one with POST {PREFIX}/identities).</p>"
            f"<ul>{''.join(items) or '<li>No identities yet.</li>'}</ul>"
            f'<p><a id="cancel" href="{cancel}">Cancel</a></p></body></html>'
        )
        headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
        return 200, headers, body.encode()

    def token(self, provider: str, form: dict[str, str], headers: dict[str, str]) -> Answer:
        client = self.clients[provider]
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if authorization.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        if client_id != client.client_id or (client.client_secret and secret != client.client_secret):
            return json_answer(401, {"error": "invalid_client"})
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or grant["provider"] != provider or grant["expires"] < time.time():
            return json_answer(400, {"error": "invalid_grant"})
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return json_answer(400, {"error": "invalid_grant"})
        if grant["challenge"]:
            verifier = form.get("code_verifier", "")
            if pkce_challenge(verifier) != grant["challenge"]:
                return json_answer(400, {"error": "invalid_grant"})
        identity = self.identities[provider][grant["sub"]]
        return json_answer(
            200,
            {
                "id_token": self.id_token(provider, identity, grant["nonce"]),
                "token_type": "Bearer",
                "access_token": secrets.token_urlsafe(32),
                "expires_in": 300,
            },
        )

    def id_token(self, provider: str, identity: dict[str, Any], nonce: str | None) -> str:
        from joserfc import jwt

        issued = int(time.time())
        claims: dict[str, Any] = {"sub": identity["sub"], "email": identity["email"]}
        if provider == "microsoft":  # what Entra puts in every token
            claims.update(
                tid=CONSUMER_TENANT, oid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"local:{identity['sub']}"))
            )
        claims.update({k: v for k, v in identity["claims"].items() if k in ("tid", "oid")})
        claims.update(iss=self.issuer(provider, claims), aud=self.clients[provider].client_id, iat=issued)
        claims.update(exp=issued + 300, **({"nonce": nonce} if nonce else {}))
        # The identity's claims as given, last: a test may also give a token that must fail
        # a check (another "iss", "aud", "nonce", or an "exp" in the past).
        claims.update(identity["claims"])
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)
