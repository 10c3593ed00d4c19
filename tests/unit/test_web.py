"""The HTTP edge: language choice, the checks before parsing, the caller's claims."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest

from onboarding.domain.errors import Unauthorized
from onboarding.web.app import precheck
from onboarding.web.caller import caller_from_event
from onboarding.web.language import preferred_language


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "nl"),
        ("", "nl"),
        ("en-GB,en;q=0.9", "en"),
        ("nl-NL", "nl"),
        ("de-DE,en;q=0.5", "en"),
        ("fr", "nl"),
        ("en;q=0.4,nl;q=0.8", "nl"),
        ("en;q=bad,nl;q=0.1", "nl"),
    ],
)
def test_language_from_accept_language(header: str | None, language: str) -> None:
    assert preferred_language(header) == language


def _event(
    body: str | None, content_type: str | None = "application/json", b64: bool = False
) -> dict[str, object]:
    headers = {"Content-Type": content_type} if content_type else {}
    return {"body": body, "headers": headers, "isBase64Encoded": b64}


def test_bodies_up_to_64_kib_pass() -> None:
    assert precheck(_event(json.dumps({"x": "a" * (64 * 1024 - 20)}))) is None


def test_larger_bodies_are_refused_with_413() -> None:
    refused = precheck(_event(json.dumps({"x": "a" * (64 * 1024)})))
    assert refused is not None and refused["statusCode"] == 413
    assert json.loads(refused["body"])["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "multipart/form-data", "application/x-www-form-urlencoded"]
)
def test_non_json_bodies_are_refused_with_415(content_type: str) -> None:
    refused = precheck(_event("a=b", content_type))
    assert refused is not None and refused["statusCode"] == 415


@pytest.mark.parametrize(
    "content_type", [None, "application/json; charset=utf-8", "application/problem+json"]
)
def test_json_bodies_pass(content_type: str | None) -> None:
    assert precheck(_event("{}", content_type)) is None


def test_base64_bodies_that_are_not_utf8_are_refused_with_400() -> None:
    refused = precheck(_event(base64.b64encode(b"\xff\xfe").decode(), b64=True))
    assert refused is not None and refused["statusCode"] == 400


def _with_claims(claims: dict[str, str] | None) -> SimpleNamespace:
    authorizer = SimpleNamespace(claims=claims)
    return SimpleNamespace(request_context=SimpleNamespace(authorizer=authorizer))


def test_caller_comes_from_id_token_claims() -> None:
    caller = caller_from_event(
        _with_claims({"cognito:username": "u1", "token_use": "id", "cognito:groups": "[operators admins]"})
    )
    assert caller.username == "u1" and caller.in_group("operators") and caller.in_group("admins")


@pytest.mark.parametrize(
    "claims", [None, {}, {"cognito:username": "u1", "token_use": "access"}, {"token_use": "id"}]
)
def test_no_caller_without_an_id_token(claims: dict[str, str] | None) -> None:
    with pytest.raises(Unauthorized):
        caller_from_event(_with_claims(claims))


# --- Issue 8, item 7: bounds at the one place bodies are parsed -----------------------------------
def test_json_within_the_bounds_parses() -> None:
    from onboarding.web.app import MAX_JSON_DEPTH, parse_json

    nested = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert parse_json(nested) is not None
    assert parse_json('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "n": 123, "f": -1.5e3}') == {
        "a": "[" * 40,
        "n": 123,
        "f": -1500.0,
    }


@pytest.mark.parametrize(
    "text",
    [
        "[" * 33 + "]" * 33,
        '{"a": ' + "[" * 1000 + "]" * 1000 + "}",
        "[" * 100_000,
        '{"n": ' + "9" * 65 + "}",
        '{"n": ' + "9" * 4400 + "}",
        '{"f": 1.' + "5" * 100 + "}",
    ],
    ids=["33-levels", "1000-levels", "100000-open", "65-digits", "4400-digits", "long-float"],
)
def test_json_beyond_the_bounds_is_a_decode_error_not_a_crash(text: str) -> None:
    from onboarding.web.app import parse_json

    with pytest.raises(json.JSONDecodeError):
        parse_json(text)


# --- Issue 8, item 11: every JSON answer names its charset -------------------------------------------
def test_bare_application_json_gets_its_charset() -> None:
    from onboarding.web.app import _with_charset

    fixed = _with_charset(
        {
            "multiValueHeaders": {"Content-Type": ["application/json"]},
            "headers": {"content-type": "text/html"},
        }
    )
    assert fixed["multiValueHeaders"]["Content-Type"] == ["application/json; charset=utf-8"]
    assert fixed["headers"]["content-type"] == "text/html"


def test_refusals_before_parsing_speak_the_requests_language() -> None:
    event = {"body": "a=b", "headers": {"Content-Type": "text/plain", "Accept-Language": "nl"}}
    refused = precheck(event)
    assert refused is not None and json.loads(refused["body"])["error"] == {
        "code": "unsupported_media_type",
        "message": "Stuur de body als application/json.",
        "details": [],
    }
    english = precheck({**event, "headers": {**event["headers"], "Accept-Language": "en"}})
    assert english is not None and "Send the body" in json.loads(english["body"])["error"]["message"]


# --- Issue 8, item 10: a path parameter is decoded exactly once --------------------------------------
@pytest.mark.parametrize(
    ("sent", "decoded"),
    [
        ("0106%3A12345678", "0106:12345678"),
        ("0106%253A12345678", "0106%3A12345678"),
        ("a%2Fb", "a%2Fb"),  # a slash never joins two segments
        ("%C3%A9", "\u00e9"),
        ("plain", "plain"),
    ],
)
def test_path_and_path_parameters_are_decoded_once(sent: str, decoded: str) -> None:
    from onboarding.web.app import decoded_path

    event = {"path": f"/organisations/o1/identifiers/{sent}", "pathParameters": {"participant_id": sent}}
    assert decoded_path(event) == {
        "path": f"/organisations/o1/identifiers/{decoded}",
        "pathParameters": {"participant_id": decoded},
    }
    assert event["pathParameters"] == {"participant_id": sent}  # the original event is left alone
