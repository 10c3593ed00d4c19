"""Idempotency-Key on creating POSTs, CORS from configuration, and nothing secret in logs."""

from __future__ import annotations

import io
import logging
import uuid
from typing import Any

import pytest

from onboarding.adapters.repositories.idempotency import IdempotencyRepository
from onboarding.domain.rules import CURRENT_TERMS_VERSION, now
from tests.support.events import body_of, header
from tests.support.flows import PASSWORD, call, login, sign_up


def _complete(token: str, username: str, key: str | None, **change: Any) -> dict[str, Any]:
    body = {
        "token": token,
        "username": username,
        "password": PASSWORD,
        "accept_terms": True,
        "terms_version": CURRENT_TERMS_VERSION,
        **change,
    }
    return call(
        "POST", "/auth/activation/complete", body=body, headers={"Idempotency-Key": key} if key else {}
    )


def test_the_same_key_and_body_answer_the_first_response_again(local_aws: Any, email: str) -> None:
    token, username, key = sign_up(local_aws, email), f"idem-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    first = _complete(token, username, key)
    again = _complete(token, username, key)
    assert first["statusCode"] == again["statusCode"] == 201
    assert body_of(again) == body_of(first) and header(again, "Idempotent-Replayed") == "true"
    # Without the key the same request is simply a used link.
    assert _complete(token, username, None)["statusCode"] == 410


def test_the_same_key_with_another_body_is_409(local_aws: Any, email: str) -> None:
    token, key = sign_up(local_aws, email), str(uuid.uuid4())
    assert _complete(token, f"idem-{uuid.uuid4().hex[:8]}", key)["statusCode"] == 201
    reused = _complete(token, f"other-{uuid.uuid4().hex[:8]}", key)
    assert reused["statusCode"] == 409 and body_of(reused)["error"]["code"] == "idempotency_key_reused"


def test_a_refused_request_is_not_remembered(local_aws: Any, email: str) -> None:
    token, username, key = sign_up(local_aws, email), f"idem-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    assert _complete(token, username, key, password="password1234")["statusCode"] == 422
    assert _complete(token, username, key)["statusCode"] == 201  # the key was freed


def test_a_key_still_in_progress_is_409_with_retry_after(local_aws: Any, email: str, service: Any) -> None:
    from onboarding.web.idempotency import public_scope

    token, username, key = sign_up(local_aws, email), f"idem-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    IdempotencyRepository(service.signups.table).begin(public_scope(token), key, "another request", now())
    busy = _complete(token, username, key)
    assert busy["statusCode"] == 409  # the record's request differs, and it is not finished
    assert body_of(busy)["error"]["code"] in {"idempotency_key_reused", "idempotency_in_progress"}


def test_a_key_in_progress_for_the_same_request_asks_to_retry(
    local_aws: Any, email: str, service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onboarding.web import idempotency

    token, username, key = sign_up(local_aws, email), f"idem-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    monkeypatch.setattr(idempotency, "fingerprint", lambda app: "fixed")
    IdempotencyRepository(service.signups.table).begin(idempotency.public_scope(token), key, "fixed", now())
    busy = _complete(token, username, key)
    assert busy["statusCode"] == 409 and body_of(busy)["error"]["code"] == "idempotency_in_progress"
    assert header(busy, "Retry-After") == "2"


@pytest.mark.parametrize("key", ["has space", "x" * 256, "é"])
def test_malformed_keys_are_422(local_aws: Any, email: str, key: str) -> None:
    response = _complete(sign_up(local_aws, email), "someone", key)
    assert response["statusCode"] == 422
    assert any(d["field"].lower() == "header.idempotency-key" for d in body_of(response)["error"]["details"])


def test_cors_headers_answer_the_calling_origin() -> None:
    response = call("GET", "/auth/terms", headers={"Origin": "https://app.example.org"})
    assert header(response, "Access-Control-Allow-Origin") in {"*", "https://app.example.org"}


def test_no_password_token_or_link_reaches_the_logs(local_aws: Any, email: str) -> None:
    from onboarding.observability import logger

    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    previous = logger.log_level
    logger.setLevel("DEBUG")
    try:
        token = sign_up(local_aws, email)
        username = f"logs-{uuid.uuid4().hex[:8]}"
        call(
            "POST", "/auth/activation/complete", body={"token": token, "username": username, "password": "x"}
        )
        assert _complete(token, username, None)["statusCode"] == 201
        tokens = login(username)
        call("POST", "/auth/token", body={"username": username, "password": "wrong password guess"})
        call("POST", "/auth/token/refresh", body={"refresh_token": tokens["refresh_token"]})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    text = captured.getvalue()
    assert text, "the flow logged nothing: the test would prove nothing"
    for secret in (
        token,
        PASSWORD,
        "wrong password guess",
        tokens["id_token"],
        tokens["refresh_token"],
        "activate#token",
    ):
        assert secret not in text
