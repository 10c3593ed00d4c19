"""The sign-up flow in steps, for tests that need an account to start from."""

from __future__ import annotations

import re
import uuid
from typing import Any

from onboarding.domain.rules import CURRENT_TERMS_VERSION
from tests.support.events import body_of, call

PASSWORD = "correct horse battery staple"
__all__ = ["CURRENT_TERMS_VERSION", "PASSWORD", "call"]


def outbox(resources: Any) -> list[dict[str, Any]]:
    from infra.local.outbox import read_outbox

    return read_outbox(resources.endpoint_url)


def mails_to(resources: Any, email: str) -> list[dict[str, Any]]:
    wanted = email.strip().lower()
    return [m for m in outbox(resources) if wanted in (to.strip().lower() for to in m["to"])]


def token_from(mail: dict[str, Any]) -> str:
    found = re.search(r"/activate#token=([A-Za-z0-9_-]{43})", mail["text"])
    assert found, mail["text"]
    return found.group(1)


def sign_up(resources: Any, email: str, *, ip: str | None = None, language: str | None = None) -> str:
    body: dict[str, Any] = {"email": email}
    if language:
        body["language"] = language
    response = call("POST", "/auth/signup", body=body, source_ip=ip)
    assert response["statusCode"] == 202, response
    return token_from(mails_to(resources, email)[-1])


def complete(
    token: str, username: str | None = None, password: str = PASSWORD, **extra: Any
) -> dict[str, Any]:
    body = {
        "token": token,
        "username": username or f"u{uuid.uuid4().hex[:10]}",
        "password": password,
        "accept_terms": True,
        "terms_version": CURRENT_TERMS_VERSION,
        **extra,
    }
    return call("POST", "/auth/activation/complete", body=body)


def new_account(resources: Any, email: str) -> dict[str, Any]:
    response = complete(sign_up(resources, email))
    assert response["statusCode"] == 201, response
    return body_of(response)  # type: ignore[no-any-return]


def login(username: str, password: str = PASSWORD) -> dict[str, Any]:
    response = call("POST", "/auth/token", body={"username": username, "password": password})
    assert response["statusCode"] == 200, response
    return body_of(response)  # type: ignore[no-any-return]


def claims_of(id_token: str) -> dict[str, Any]:
    """What API Gateway's authorizer passes on for a valid token (verified by the
    local authorizer in the e2e tests; here the token comes straight from Cognito)."""
    from onboarding.domain.ports import Tokens

    return Tokens(id_token=id_token, access_token="", refresh_token=None, expires_in=0).claims()
