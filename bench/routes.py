"""The requests `make bench` counts AWS calls for: one of each route, in flow order."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from infra.local.outbox import read_outbox
from infra.local.router import invoke
from onboarding.domain.ports import Tokens
from onboarding.domain.rules import CURRENT_TERMS_VERSION

PASSWORD = "a long and unusual passphrase"


def _call(method: str, path: str, body: Any = None, claims: dict[str, str] | None = None) -> dict[str, Any]:
    """Through the handler that serves the route, as API Gateway would route it."""
    raw = json.dumps(body) if body is not None else None
    headers = {"Content-Type": "application/json"}
    return invoke(method, path, headers=headers, body=raw, claims=claims, source_ip="192.0.2.1")


def scenario(resources: Any) -> Iterator[tuple[str, Callable[[], int]]]:
    email = f"bench-{uuid.uuid4().hex[:8]}@example.nl"
    username = f"bench.{uuid.uuid4().hex[:6]}"
    state: dict[str, Any] = {}

    def run(
        method: str, path: str | Callable[[], str], body: Any = None, secured: bool = False
    ) -> Callable[[], int]:
        def request() -> int:
            response = _call(
                method,
                path() if callable(path) else path,
                body() if callable(body) else body,
                claims=state.get("claims") if secured else None,
            )
            state["last"] = json.loads(response["body"]) if response.get("body") else None
            return int(response["statusCode"])

        return request

    def token() -> str:
        mail = [m for m in read_outbox(resources.endpoint_url) if email in m["to"]][-1]
        found = re.search(r"#token=([A-Za-z0-9_-]{43})", mail["text"])
        assert found
        return found.group(1)

    yield "POST /auth/signup (new address)", run("POST", "/auth/signup", {"email": email})
    yield "POST /auth/activation/resend", run("POST", "/auth/activation/resend", {"email": email})
    yield "POST /auth/activation/check", run("POST", "/auth/activation/check", lambda: {"token": token()})
    yield (
        "POST /auth/activation/complete",
        run(
            "POST",
            "/auth/activation/complete",
            lambda: {
                "token": token(),
                "username": username,
                "password": PASSWORD,
                "accept_terms": True,
                "terms_version": CURRENT_TERMS_VERSION,
            },
        ),
    )
    yield "POST /auth/signup (address with an account)", run("POST", "/auth/signup", {"email": email})

    def login() -> int:
        status = run("POST", "/auth/token", {"username": username, "password": PASSWORD})()
        tokens = state["last"]
        state["refresh"] = tokens["refresh_token"]
        claims = Tokens(
            id_token=tokens["id_token"], access_token="", refresh_token=None, expires_in=0
        ).claims()
        state["claims"] = {k: str(v) for k, v in claims.items()}
        return status

    yield "POST /auth/token", login
    yield (
        "POST /auth/token (wrong password)",
        run("POST", "/auth/token", {"username": username, "password": "x" * 12}),
    )
    yield (
        "POST /auth/token/refresh",
        run("POST", "/auth/token/refresh", lambda: {"refresh_token": state["refresh"]}),
    )
    yield "GET /me", run("GET", "/me", secured=True)
    yield "PATCH /me", run("PATCH", "/me", {"name": "Bench"}, secured=True)
    yield "POST /me/terms", run("POST", "/me/terms", {"version": CURRENT_TERMS_VERSION}, secured=True)
    yield "GET /environment", run("GET", "/environment", secured=True)
    yield "GET /auth/terms", run("GET", "/auth/terms")
    yield "GET /auth/providers", run("GET", "/auth/providers")
    yield "GET /auth/login/{provider}", run("GET", "/auth/login/google?login_hint=bench")
    yield from triggers(resources, email, state)

    def remember_organisation() -> int:
        status = run("POST", "/organisations", {"kvk_number": "68750110"}, secured=True)()
        state["organisation"] = state["last"]["id"]
        return status

    def organisation_path(suffix: str = "") -> str:
        return f"/organisations/{state.get('organisation', '-')}{suffix}"

    def at(method: str, suffix: str, body: Any = None) -> Callable[[], int]:
        return run(method, lambda: organisation_path(suffix), body, secured=True)

    yield (
        "GET /organisations/search (calls the KvK)",
        run("GET", "/organisations/search?kvk_number=68750110", secured=True),
    )
    yield "POST /organisations (from the KvK)", remember_organisation
    yield "GET /organisations", run("GET", "/organisations", secured=True)
    yield "GET /organisations/{id}", at("GET", "")
    yield "PATCH /organisations/{id}", at("PATCH", "", {"contact": {"name": "Bench"}})
    yield (
        "POST /organisations/{id}/identifiers",
        at("POST", "/identifiers", {"scheme": "9944", "value": "NL000099998B57"}),
    )
    yield (
        "POST .../identifiers/{participant_id}/verify (VIES)",
        at("POST", "/identifiers/9944:NL000099998B57/verify"),
    )
    yield "POST /organisations/{id}/activation", at("POST", "/activation", {"method": "manual_review"})
    yield "GET /me (with organisations)", run("GET", "/me", secured=True)
    yield "GET /organisations/{id}/peppol", at("GET", "/peppol")
    yield (
        "PUT /organisations/{id}/peppol/{pid} (not active)",
        at("PUT", "/peppol/9944:NL000099998B57", {"send": True, "receive": False}),
    )
    yield "GET /peppol/jobs/{job_id} (unknown)", run("GET", "/peppol/jobs/no-such-job", secured=True)


def triggers(resources: Any, email: str, state: dict[str, Any]) -> Iterator[tuple[str, Callable[[], int]]]:
    """The user pool's triggers, called as Cognito calls them (their DynamoDB budget: at most
    two calls each)."""
    from infra.local.events import (
        LambdaContext,
        pre_authentication_event,
        pre_sign_up_event,
        pre_token_generation_event,
    )
    from infra.local.router import handler
    from infra.platform import PLATFORM
    from onboarding.domain.linking import EMAIL, EMAIL_VERIFIED, MS_EDOV

    spec = next(f for f in PLATFORM.functions if f.user_pool_triggers)
    builders = {"sign_up": pre_sign_up_event, "tokens": pre_token_generation_event}

    def fire(
        username: str,
        attributes: dict[str, str],
        *,
        tokens: bool = False,
        client_id: str | None = None,
        password: bool = False,
    ) -> Callable[[], int]:
        def request() -> int:
            build = pre_authentication_event if password else builders["tokens" if tokens else "sign_up"]
            event = build(
                user_pool_id=resources.user_pool_id,
                username=username,
                client_id=client_id or resources.web_client_id,
                user_attributes=attributes,
            )
            try:
                handler(spec.name)(event, LambdaContext(spec.name, spec.timeout_seconds))
            except Exception:
                return 403  # the trigger refused (as it should for a tenant's people)
            return 200

        return request

    google = f"Google_{uuid.uuid4().int}"
    verified = {EMAIL: f"bench-{uuid.uuid4().hex[:8]}@gmail.com", EMAIL_VERIFIED: "true"}
    yield "PreSignUp (a new account)", fire(google, verified)
    yield "PreSignUp (retried by Cognito)", fire(google, verified)
    yield (
        "PreSignUp (a link to an account)",
        fire(f"Microsoft_{uuid.uuid4()}", {EMAIL: email, MS_EDOV: "true"}),
    )
    yield "PreTokenGeneration", fire(google, {EMAIL: verified[EMAIL]}, tokens=True)

    # A tenant restricted to its own IdP, set up as its stack does (the provisioner's logic).
    tenant = _tenant()
    tenant_user = f"{tenant.provider_name}_{uuid.uuid4().hex}"
    address = {EMAIL: f"bench@{min(tenant.email_domains)}"}
    yield "GET /t/{tenant}/login", lambda: int(_call("GET", f"/t/{tenant.slug}/login")["statusCode"])
    yield "PreSignUp (a tenant's own IdP)", fire(tenant_user, address, client_id=tenant.client_id)
    yield (
        "PreTokenGeneration (a tenant's own client)",
        fire(tenant_user, address, tokens=True, client_id=tenant.client_id),
    )
    yield "PreTokenGeneration (a tenant's people, other client)", fire(tenant_user, address, tokens=True)
    yield "PreAuthentication (a tenant's people)", fire(tenant_user, address, password=True)


def _tenant() -> Any:
    from auth_api.provisioner import provisioning
    from onboarding.domain.tenancy import TenantDefinition, provider_name

    slug = f"bench{uuid.uuid4().hex[:8]}"
    definition = TenantDefinition(
        slug=slug,
        name="Bench B.V.",
        provider_name=provider_name(slug),
        client_id=f"{slug}-client",
        email_domains=(f"{slug}.example",),
        admins=(f"it@{slug}.example",),
    )
    return provisioning().set_up(definition).tenant
