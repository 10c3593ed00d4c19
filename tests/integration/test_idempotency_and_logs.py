"""Idempotency-Key on creating POSTs, CORS from configuration, and nothing secret in logs."""

from __future__ import annotations

import io
import json
import logging
import uuid
from typing import Any

import pytest

from onboarding.adapters.repositories.idempotency import IdempotencyRepository
from onboarding.domain.rules import CURRENT_TERMS_VERSION, now
from tests.support.events import body_of, header
from tests.support.flows import PASSWORD, call, login, sign_up


def _activation(token: str, username: str, **change: Any) -> dict[str, Any]:
    return {
        "token": token,
        "username": username,
        "password": PASSWORD,
        "accept_terms": True,
        "terms_version": CURRENT_TERMS_VERSION,
        **change,
    }


def _complete(token: str, username: str, key: str | None, **change: Any) -> dict[str, Any]:
    body = _activation(token, username, **change)
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


# --- Issue 8, item 4: the same request is the same parsed body; strangers' keys never meet ---------
def test_the_same_body_re_serialised_is_the_same_request(local_aws: Any, email: str) -> None:
    token, username, key = sign_up(local_aws, email), f"idem-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    body = _activation(token, username)
    headers = {"Idempotency-Key": key}
    first = call("POST", "/auth/activation/complete", raw_body=json.dumps(body), headers=headers)
    reordered = json.dumps(dict(reversed(body.items())), indent=4)
    again = call("POST", "/auth/activation/complete", raw_body=reordered, headers=headers)
    assert first["statusCode"] == again["statusCode"] == 201
    assert header(again, "Idempotent-Replayed") == "true" and body_of(again) == body_of(first)


def test_keys_sent_before_login_by_two_strangers_never_meet(local_aws: Any) -> None:
    key = "order-1"  # a predictable key two clients may well both choose
    mine = _complete(
        sign_up(local_aws, f"a-{uuid.uuid4().hex[:8]}@example.nl"), f"a-{uuid.uuid4().hex[:6]}", key
    )
    theirs = _complete(
        sign_up(local_aws, f"b-{uuid.uuid4().hex[:8]}@example.nl"), f"b-{uuid.uuid4().hex[:6]}", key
    )
    assert mine["statusCode"] == theirs["statusCode"] == 201  # not blocked by the other's key
    assert header(theirs, "Idempotent-Replayed") is None  # and not shown the other's answer
    assert body_of(theirs)["user"]["id"] != body_of(mine)["user"]["id"]


def test_a_retry_from_another_network_still_finds_its_first_answer(local_aws: Any, email: str) -> None:
    token, username, key = sign_up(local_aws, email), f"idem-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    body = _activation(token, username)
    headers = {"Idempotency-Key": key}
    first = call("POST", "/auth/activation/complete", body=body, headers=headers, source_ip="198.51.100.1")
    again = call("POST", "/auth/activation/complete", body=body, headers=headers, source_ip="203.0.113.9")
    assert body_of(again) == body_of(first) and header(again, "Idempotent-Replayed") == "true"


# --- Issue 8, item 3: money is applied once, and booked with its ledger entry -------------------------
def test_a_retried_top_up_with_the_same_key_tops_up_once(local_aws: Any) -> None:
    from tests.support.orgs import make_account

    admin, operator = make_account(local_aws), make_account(local_aws, operator=True)
    path, key = f"/admin/environments/{admin.environment_id}/credit", str(uuid.uuid4())
    body = {"amount_cents": 2500, "reference": "INV-2026-001"}
    first = operator.call("POST", path, raw_body=json.dumps(body), headers={"Idempotency-Key": key})
    retried = operator.call(
        "POST",
        path,
        raw_body=json.dumps(dict(reversed(body.items())), indent=2),
        headers={"Idempotency-Key": key},
    )
    assert first["statusCode"] == retried["statusCode"] == 200
    assert body_of(retried) == body_of(first) == {"balance_cents": 2500, "currency": "EUR"}
    assert header(retried, "Idempotent-Replayed") == "true"
    other = operator.call("POST", path, body={"amount_cents": 1}, headers={"Idempotency-Key": key})
    assert other["statusCode"] == 409 and body_of(other)["error"]["code"] == "idempotency_key_reused"
    ledger = operator.ok("GET", path)
    assert ledger["balance_cents"] == 2500
    [entry] = ledger["entries"]
    assert (entry["amount_cents"], entry["by"], entry["reference"]) == (
        2500,
        operator.user_id,
        "INV-2026-001",
    )
    assert operator.ok("POST", path, body=body)["balance_cents"] == 5000  # without a key: a new top-up


def test_a_top_up_and_its_ledger_entry_are_one_transaction(local_aws: Any) -> None:
    from infra.local.aws_calls import count_aws_calls
    from onboarding.domain import errors
    from onboarding.domain.models import CreditEntry
    from organisations_api.handler import service as organisations
    from tests.support.orgs import make_account

    environments = organisations().environments
    environment_id = make_account(local_aws).environment_id
    entry = CreditEntry(id=str(uuid.uuid4()), amount_cents=700, by="operator-1", at=now(), reference="INV-7")
    with count_aws_calls("dynamodb") as calls:
        assert environments.add_credit(environment_id, entry).credit_balance_cents == 700
    assert calls.by_operation()["dynamodb.TransactWriteItems"] == 1
    assert (
        "dynamodb.PutItem" not in calls.by_operation() and "dynamodb.UpdateItem" not in calls.by_operation()
    )
    # The same entry cannot be booked twice, and so neither can its amount: all or nothing.
    with pytest.raises(errors.CreditEntryExists):
        environments.add_credit(environment_id, entry)
    assert environments.get(environment_id).credit_balance_cents == 700  # type: ignore[union-attr]
    assert [e.id for e in environments.credit_entries(environment_id)] == [entry.id]
