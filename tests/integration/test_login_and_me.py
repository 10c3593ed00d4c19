"""POST /auth/token(/refresh), GET/PATCH /me, POST /me/terms, GET /environment."""

from __future__ import annotations

from typing import Any

import pytest

from onboarding.domain.rules import CURRENT_TERMS_VERSION
from tests.support.events import body_of
from tests.support.flows import call, claims_of, login, new_account
from tests.support.tenants import ResponseUrl, definition, set_up


@pytest.fixture
def account(local_aws: Any, email: str) -> dict[str, Any]:
    created = new_account(local_aws, email)
    tokens = login(created["user"]["username"])
    return {**created, "email": email, "tokens": tokens, "claims": claims_of(tokens["id_token"])}


def test_login_by_email_ignores_case_and_spaces(account: dict[str, Any]) -> None:
    tokens = login(f"  {account['email'].upper()} ")
    assert claims_of(tokens["id_token"])["cognito:username"] == account["user"]["id"]


@pytest.mark.parametrize("who", ["wrong-password", "unknown-user", "unknown-email"])
def test_login_failures_do_not_reveal_whether_a_user_exists(account: dict[str, Any], who: str) -> None:
    username = {
        "wrong-password": account["user"]["username"],
        "unknown-user": "nobody-here-at-all",
        "unknown-email": "nobody@example.nl",
    }[who]
    body = {"username": username, "password": "not the password at all"}
    response = call("POST", "/auth/token", body=body, headers={"Accept-Language": "en"})
    assert response["statusCode"] == 401
    assert body_of(response) == {
        "error": {
            "code": "invalid_credentials",
            "message": "The username or password is not correct.",
            "details": [],
        }
    }
    dutch = call("POST", "/auth/token", body=body)  # no Accept-Language: Dutch, the same code
    assert body_of(dutch)["error"] == {
        "code": "invalid_credentials",
        "message": "De gebruikersnaam of het wachtwoord klopt niet.",
        "details": [],
    }


def test_refresh_gives_new_tokens_without_a_refresh_token(account: dict[str, Any]) -> None:
    response = call("POST", "/auth/token/refresh", body={"refresh_token": account["tokens"]["refresh_token"]})
    assert response["statusCode"] == 200
    refreshed = body_of(response)
    assert refreshed["id_token"] and "refresh_token" not in refreshed and refreshed["token_type"] == "Bearer"


def test_a_bad_refresh_token_is_401() -> None:
    response = call("POST", "/auth/token/refresh", body={"refresh_token": "garbage"})
    assert response["statusCode"] == 401


def test_me_shows_the_user_and_their_environment(account: dict[str, Any]) -> None:
    response = call("GET", "/me", claims=account["claims"])
    assert response["statusCode"] == 200
    me = body_of(response)
    assert me["id"] == account["user"]["id"] and me["email"] == account["email"]
    assert me["environment"] == {**account["environment"], "role": "admin"}
    assert me["terms"]["accepted_version"] == CURRENT_TERMS_VERSION and me["terms"]["accepted_at"].endswith(
        "Z"
    )
    assert me["identities"] == [{"provider": "email"}] and me["receive_prompt"] == []
    assert me["language"] == "nl"


def test_me_without_a_verified_token_is_401() -> None:
    assert call("GET", "/me")["statusCode"] == 401
    assert call("GET", "/me", claims={"cognito:username": "x", "token_use": "access"})["statusCode"] == 401


def test_patch_me_changes_only_what_is_given(account: dict[str, Any]) -> None:
    response = call(
        "PATCH",
        "/me",
        claims=account["claims"],
        body={"name": " Jan Jansen ", "notifications": {"product_updates": True}},
    )
    assert response["statusCode"] == 200
    me = body_of(response)
    assert me["name"] == "Jan Jansen" and me["notifications"]["product_updates"] is True
    again = body_of(call("PATCH", "/me", claims=account["claims"], body={"language": "en"}))
    assert again["language"] == "en" and again["name"] == "Jan Jansen"


@pytest.mark.parametrize(
    "body",
    [
        {"language": "fr"},
        {"name": "x" * 201},
        {"email": "a@b.nl"},
        {"notifications": {"unknown": True}},
        {"notifications": "yes"},
        {"notifications": {"registration_status": 0}},
        {"name": 5},
    ],
)
def test_patch_me_refuses_bad_bodies_with_422(account: dict[str, Any], body: dict[str, Any]) -> None:
    assert call("PATCH", "/me", claims=account["claims"], body=body)["statusCode"] == 422


def test_environment_shows_plan_credit_and_login_policy(account: dict[str, Any]) -> None:
    response = call("GET", "/environment", claims=account["claims"])
    assert response["statusCode"] == 200
    assert body_of(response) == {
        "id": account["environment"]["id"],
        "name": account["environment"]["name"],
        "plan": "free",
        "credit": {"balance_cents": 0, "currency": "EUR"},
        "login_policy": {"restricted_to_idp": None},
    }


def test_new_terms_must_be_accepted_before_anything_but_me(
    account: dict[str, Any], with_settings: Any
) -> None:
    with_settings(terms={"version": "2027-01"})
    claims = account["claims"]
    for method, path, body in (("GET", "/environment", None), ("PATCH", "/me", {"name": "x"})):
        refused = call(method, path, claims=claims, body=body)
        assert refused["statusCode"] == 403 and body_of(refused)["error"]["code"] == "terms_not_accepted"
    assert call("GET", "/me", claims=claims)["statusCode"] == 200
    assert call("GET", "/auth/terms")["statusCode"] == 200
    unknown = call("POST", "/me/terms", claims=claims, body={"version": CURRENT_TERMS_VERSION})
    assert unknown["statusCode"] == 422
    accepted = call("POST", "/me/terms", claims=claims, body={"version": "2027-01"})
    assert accepted["statusCode"] == 200 and body_of(accepted)["terms"]["accepted_version"] == "2027-01"
    assert call("GET", "/environment", claims=claims)["statusCode"] == 200


def test_a_restricted_environment_refuses_password_login(
    account: dict[str, Any], cloudformation: ResponseUrl
) -> None:
    set_up(cloudformation, definition(environment_id=account["environment"]["id"]))
    refused = call(
        "POST",
        "/auth/token",
        body={"username": account["user"]["username"], "password": "correct horse battery staple"},
    )
    assert refused["statusCode"] == 403 and body_of(refused)["error"]["code"] == "login_method_not_allowed"
    assert "/login" in body_of(refused)["error"]["details"][0]["message"]
    # A wrong password gets the same answer: the account has no password login any more, and
    # the user pool's PreAuthentication refuses it before any password is checked, so both
    # renderings refuse before the password too (README: tenants restricted to their own IdP).
    wrong = call(
        "POST", "/auth/token", body={"username": account["user"]["username"], "password": "wrong one!!"}
    )
    assert wrong["statusCode"] == 403 and body_of(wrong)["error"]["code"] == "login_method_not_allowed"
    refresh = call("POST", "/auth/token/refresh", body={"refresh_token": account["tokens"]["refresh_token"]})
    assert refresh["statusCode"] == 401
