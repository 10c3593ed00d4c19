"""What a Dutch user sees (issue 8, item 18): answers follow the signed-in user's language, else
Accept-Language (Dutch by default); error codes never change with the language."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from auth_api.service import SIGNUP_ACCEPTED
from onboarding.domain import errors
from tests.support.events import body_of
from tests.support.flows import call, sign_up
from tests.support.orgs import Account, make_account


@pytest.fixture
def account(local_aws: Any) -> Account:
    return make_account(local_aws)


def _error(response: dict[str, Any]) -> dict[str, Any]:
    return body_of(response)["error"]  # type: ignore[no-any-return]


def test_the_sign_up_answer_comes_in_the_requests_language(local_aws: Any, email: str) -> None:
    english = call("POST", "/auth/signup", body={"email": email}, headers={"Accept-Language": "en-GB"})
    dutch = call("POST", "/auth/signup", body={"email": email})
    chosen = call("POST", "/auth/signup", body={"email": email, "language": "en"})
    assert body_of(english)["message"] == body_of(chosen)["message"] == SIGNUP_ACCEPTED["en"]
    assert body_of(dutch)["message"] == SIGNUP_ACCEPTED["nl"] != SIGNUP_ACCEPTED["en"]
    resent = call("POST", "/auth/activation/resend", body={"email": email})
    assert body_of(resent)["message"] == SIGNUP_ACCEPTED["nl"]


def test_the_activation_check_tells_the_language_chosen_at_sign_up(local_aws: Any) -> None:
    for language in ("en", "nl"):
        token = sign_up(local_aws, f"lang-{uuid.uuid4().hex[:8]}@example.nl", language=language)
        checked = call(
            "POST", "/auth/activation/check", body={"token": token}, headers={"Accept-Language": "de"}
        )
        assert body_of(checked)["language"] == language


@pytest.mark.parametrize(("accept_language", "expected"), [(None, "nl"), ("nl-NL", "nl"), ("en-US,en", "en")])
def test_errors_before_login_follow_accept_language(accept_language: str | None, expected: str) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    unknown = call("POST", "/auth/activation/check", body={"token": "A" * 43}, headers=headers)
    assert _error(unknown)["code"] == "activation_not_found"
    assert _error(unknown)["message"] == errors.ActivationNotFound().message_in(expected)  # type: ignore[arg-type]
    invalid = call("POST", "/auth/signup", body={"email": "nope", "extra": 1}, headers=headers)
    problem = _error(invalid)
    assert problem["code"] == "validation_error"
    assert (
        problem["message"]
        == {"nl": "Het verzoek is niet geldig.", "en": "The request is not valid."}[expected]
    )
    messages = {d["field"]: d["message"] for d in problem["details"]}
    assert (
        messages
        == {
            "nl": {
                "body.email": "Vul een geldig e-mailadres in. Adressen met tekens buiten ASCII (zoals ä)"
                " worden niet ondersteund.",
                "body.extra": "Dit veld bestaat niet.",
            },
            "en": {
                "body.email": "Enter a valid email address. Addresses with characters outside ASCII"
                " (such as ä) are not supported.",
                "body.extra": "This field is unknown.",
            },
        }[expected]
    )
    malformed = call("POST", "/auth/signup", raw_body="{", headers=headers)
    assert _error(malformed) == {
        "code": "invalid_json",
        "message": {"nl": "De body is geen geldige JSON.", "en": "The body is not valid JSON."}[expected],
        "details": [],
    }


def test_a_signed_in_users_language_wins_over_accept_language(account: Account) -> None:
    missing = f"/organisations/{uuid.uuid4()}"
    dutch = account.call("GET", missing, headers={"Accept-Language": "en"})
    assert _error(dutch) == {"code": "not_found", "message": "Deze organisatie bestaat niet.", "details": []}
    assert account.ok("PATCH", "/me", body={"language": "en"})["language"] == "en"
    english = account.call("GET", missing, headers={"Accept-Language": "nl"})
    assert _error(english) == {
        "code": "not_found",
        "message": "There is no such organisation.",
        "details": [],
    }
    refused = account.call(
        "POST",
        "/organisations",
        body={
            "name": "x",
            "country": "NL",
            "address": {"street": "a", "postal_code": "1", "city": "c"},
            "identifiers": [{"scheme": "0106", "value": "1234"}],
        },
        headers={"Accept-Language": "nl"},
    )
    assert _error(refused)["code"] == "invalid_identifier_format"
    assert _error(refused)["details"][0]["message"] == "A KvK number has exactly 8 digits."


def test_identifier_problems_are_explained_in_dutch(account: Account) -> None:
    body = {
        "name": "x",
        "country": "NL",
        "address": {"street": "a", "postal_code": "1", "city": "c"},
        "identifiers": [{"scheme": "9944", "value": "NL000099998B58"}],
    }
    refused = account.call("POST", "/organisations", body=body)
    assert _error(refused)["code"] == "invalid_identifier_check_digit"
    assert _error(refused)["message"] == _error(refused)["details"][0]["message"]
    assert _error(refused)["message"] == "Het controlecijfer van het btw-id klopt niet."
