"""POST /auth/activation/check and /complete, and GET /activate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from onboarding.domain.rules import CURRENT_TERMS_VERSION, now
from tests.support.events import body_of, header
from tests.support.flows import PASSWORD, call, complete, login, mails_to, sign_up


def test_check_shows_the_email_and_expiry_and_uses_nothing(local_aws: Any, email: str) -> None:
    token = sign_up(local_aws, email)
    for _ in range(2):
        response = call("POST", "/auth/activation/check", body={"token": token})
        assert response["statusCode"] == 200
        info = body_of(response)
        assert info["email"] == email and info["expires_at"].endswith("Z")


def test_complete_creates_user_environment_and_login_and_mails_a_confirmation(
    local_aws: Any, email: str
) -> None:
    token = sign_up(local_aws, email, language="en")
    response = complete(token, username="Finance.Team", environment_name="  Acme BV  ")
    assert response["statusCode"] == 201
    created = body_of(response)
    assert created["user"]["username"] == "Finance.Team" and created["user"]["email"] == email
    assert created["environment"]["name"] == "Acme BV"
    confirmation = mails_to(local_aws, email)[-1]
    assert confirmation["subject"] == "Your environment is ready" and "Finance.Team" in confirmation["text"]
    tokens = login("finance.team")  # usernames ignore case
    assert tokens["token_type"] == "Bearer" and tokens["id_token"] and tokens["refresh_token"]


def test_default_environment_name_is_in_the_users_language(local_aws: Any, email: str) -> None:
    created = body_of(complete(sign_up(local_aws, email), username="piet"))
    assert created["environment"]["name"] == "Omgeving van piet"


def test_a_token_works_once(local_aws: Any, email: str) -> None:
    token = sign_up(local_aws, email)
    assert complete(token)["statusCode"] == 201
    again = complete(token)
    assert again["statusCode"] == 410 and body_of(again)["error"]["code"] == "activation_used"
    check = call("POST", "/auth/activation/check", body={"token": token})
    assert check["statusCode"] == 410 and body_of(check)["error"]["code"] == "activation_used"


def test_unknown_tokens_are_404(local_aws: Any) -> None:
    response = call("POST", "/auth/activation/check", body={"token": "A" * 43})
    assert response["statusCode"] == 404 and body_of(response)["error"]["code"] == "activation_not_found"
    assert complete("B" * 43)["statusCode"] == 404


def test_expired_tokens_are_410(
    local_aws: Any, email: str, service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = sign_up(local_aws, email)
    monkeypatch.setattr(service, "clock", lambda: now() + timedelta(hours=24, seconds=1))
    for response in (call("POST", "/auth/activation/check", body={"token": token}), complete(token)):
        assert response["statusCode"] == 410 and body_of(response)["error"]["code"] == "activation_expired"


def test_a_taken_username_is_409_and_the_link_still_works(local_aws: Any, email: str) -> None:
    complete(sign_up(local_aws, "first-" + email), username="duplicate-" + email[5:17])
    token = sign_up(local_aws, email)
    taken = complete(token, username="DUPLICATE-" + email[5:17])
    assert taken["statusCode"] == 409 and body_of(taken)["error"]["code"] == "username_taken"
    assert complete(token, username="other-" + email[5:17])["statusCode"] == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "short"}, "body.password"),
        ({"password": "password1234"}, "body.password"),
        ({"accept_terms": False}, "body.accept_terms"),
        ({"terms_version": "1999-01"}, "body.terms_version"),
        ({"username": "no spaces allowed"}, "body.username"),
        ({"username": "ab"}, "body.username"),
        ({"environment_name": ""}, "body.environment_name"),
        ({"token": "not-a-token"}, "body.token"),
    ],
)
def test_bad_completion_bodies_are_422_naming_the_field(
    local_aws: Any, email: str, change: dict[str, Any], field: str
) -> None:
    token = sign_up(local_aws, email)
    body = {
        "token": token,
        "username": "someone",
        "password": PASSWORD,
        "accept_terms": True,
        "terms_version": CURRENT_TERMS_VERSION,
        **change,
    }
    response = call("POST", "/auth/activation/complete", body=body)
    assert response["statusCode"] == 422, body_of(response)
    assert field in [d["field"] for d in body_of(response)["error"]["details"]]
    assert call("POST", "/auth/activation/check", body={"token": token})["statusCode"] == 200  # nothing used


def test_a_missing_accept_terms_is_422(local_aws: Any, email: str) -> None:
    body = {
        "token": sign_up(local_aws, email),
        "username": "someone",
        "password": PASSWORD,
        "terms_version": CURRENT_TERMS_VERSION,
    }
    response = call("POST", "/auth/activation/complete", body=body)
    assert response["statusCode"] == 422


def test_the_activation_page_keeps_the_token_out_of_requests_and_referrers() -> None:
    response = call("GET", "/activate")
    assert response["statusCode"] == 200
    assert header(
        response,
        "Content-Type",
    ).startswith("text/html")  # type: ignore[union-attr]
    assert header(response, "Referrer-Policy") == "no-referrer"
    csp = header(response, "Content-Security-Policy") or ""
    assert "script-src 'sha256-" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    html = response["body"]
    assert "location.hash" in html and "history.replaceState" in html
    assert "Activeer je omgeving" in html and "Activate your environment" in html


def test_terms_are_public() -> None:
    response = call("GET", "/auth/terms")
    assert response["statusCode"] == 200 and body_of(response)["version"] == CURRENT_TERMS_VERSION
