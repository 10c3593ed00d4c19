"""POST /auth/signup and /auth/activation/resend, driven with API Gateway events on moto."""

from __future__ import annotations

from typing import Any

import pytest

from auth_api.service import SIGNUP_ACCEPTED
from infra.local.aws_calls import count_aws_calls
from tests.support.events import body_of, header
from tests.support.flows import call, mails_to, new_account, sign_up, token_from


def test_signup_mails_an_activation_link_in_the_chosen_language(local_aws: Any, email: str) -> None:
    response = call("POST", "/auth/signup", body={"email": email, "language": "en"})
    assert response["statusCode"] == 202
    assert body_of(response) == {"message": SIGNUP_ACCEPTED["en"]}
    [mail] = mails_to(local_aws, email)
    assert mail["subject"] == "Activate your environment"
    assert "https://app.test.example/activate#token=" in mail["text"] and mail["html"].startswith(
        "<!doctype html>"
    )


def test_signup_language_follows_accept_language_and_defaults_to_dutch(local_aws: Any, email: str) -> None:
    call("POST", "/auth/signup", body={"email": email}, headers={"Accept-Language": "en-US,en;q=0.9"})
    call("POST", "/auth/signup", body={"email": "x" + email})
    assert mails_to(local_aws, email)[-1]["subject"] == "Activate your environment"
    assert mails_to(local_aws, "x" + email)[-1]["subject"] == "Activeer je omgeving"


def test_signup_answers_the_same_for_a_known_address_and_mails_a_login_reminder(
    local_aws: Any, email: str
) -> None:
    new_account(local_aws, email)
    known = call("POST", "/auth/signup", body={"email": email.upper()})
    unknown = call("POST", "/auth/signup", body={"email": "new-" + email})
    assert (known["statusCode"], known["body"]) == (unknown["statusCode"], unknown["body"])
    reminder = mails_to(local_aws, email.upper())[-1]
    assert "/login" in reminder["text"] and "token=" not in reminder["text"]


def test_a_new_signup_invalidates_the_older_token(local_aws: Any, email: str) -> None:
    first = sign_up(local_aws, email)
    second = sign_up(local_aws, email)
    assert first != second
    assert call("POST", "/auth/activation/check", body={"token": first})["statusCode"] == 404
    assert call("POST", "/auth/activation/check", body={"token": second})["statusCode"] == 200


def test_resend_replaces_the_token_and_answers_like_signup(local_aws: Any, email: str) -> None:
    old = sign_up(local_aws, email, language="en")
    response = call("POST", "/auth/activation/resend", body={"email": f"  {email.upper()} "})
    assert response["statusCode"] == 202 and body_of(response) == {"message": SIGNUP_ACCEPTED["nl"]}
    mail = mails_to(local_aws, email)[-1]
    new = token_from(mail)
    assert new != old and mail["subject"] == "Activate your environment"  # keeps the sign-up's language
    assert call("POST", "/auth/activation/check", body={"token": old})["statusCode"] == 404


def test_resend_for_an_unknown_address_starts_a_sign_up_like_signup_does(local_aws: Any, email: str) -> None:
    with count_aws_calls() as resend_calls:
        response = call("POST", "/auth/activation/resend", body={"email": email})
    assert response["statusCode"] == 202 and body_of(response) == {"message": SIGNUP_ACCEPTED["nl"]}
    [mail] = mails_to(local_aws, email)
    assert call("POST", "/auth/activation/check", body={"token": token_from(mail)})["statusCode"] == 200
    with count_aws_calls() as known_calls:
        call("POST", "/auth/activation/resend", body={"email": email})
    assert resend_calls.count == known_calls.count == 3  # the same work for known and unknown


def test_at_most_five_mails_an_hour_to_one_address_silently(local_aws: Any, email: str) -> None:
    answers = [call("POST", "/auth/signup", body={"email": email}) for _ in range(7)]
    assert {(a["statusCode"], a["body"]) for a in answers} == {(202, answers[0]["body"])}
    mails = mails_to(local_aws, email)
    assert len(mails) == 5
    # The last mail's link is the one that works.
    assert call("POST", "/auth/activation/check", body={"token": token_from(mails[-1])})["statusCode"] == 200


def test_too_many_signups_from_one_ip_get_429_with_retry_after(
    local_aws: Any, with_settings: Any, client_ip: str
) -> None:
    with_settings(signups={"per_ip_per_hour": 3})
    answers = [
        call("POST", "/auth/signup", body={"email": f"ip{i}-{client_ip}@example.nl"}, source_ip=client_ip)
        for i in range(4)
    ]
    assert [a["statusCode"] for a in answers] == [202, 202, 202, 429]
    limited = answers[-1]
    assert body_of(limited)["error"]["code"] == "too_many_requests"
    assert 0 < int(header(limited, "Retry-After") or 0) <= 3600
    assert mails_to(local_aws, f"ip3-{client_ip}@example.nl") == []


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email"},
        {"email": "a@b"},
        {"email": ""},
        {"email": 42},
        {},
        {"email": None},
        {"email": "a@example.nl", "language": "de"},
        {"email": "a@example.nl", "extra": 1},
        {"email": "x" * 250 + "@example.nl"},
        [],
        "text",
        {"email": ["a@example.nl"]},
    ],
)
def test_bad_signup_bodies_get_422_with_one_detail_per_problem(body: Any) -> None:
    response = call("POST", "/auth/signup", body=body)
    assert response["statusCode"] == 422
    error = body_of(response)["error"]
    assert error["code"] == "validation_error" and error["details"]
    assert all(d["field"].startswith("body") and d["message"] for d in error["details"])


def test_malformed_json_is_400_invalid_json() -> None:
    response = call("POST", "/auth/signup", raw_body='{"email": ')
    assert response["statusCode"] == 400 and body_of(response)["error"]["code"] == "invalid_json"


def test_a_body_over_64_kib_is_413() -> None:
    response = call("POST", "/auth/signup", body={"email": "a@example.nl", "pad": "x" * 70_000})
    assert response["statusCode"] == 413 and body_of(response)["error"]["code"] == "payload_too_large"


def test_an_empty_body_is_422() -> None:
    response = call("POST", "/auth/signup", raw_body="")
    assert response["statusCode"] == 422
