"""Federated login over HTTP against `make dev`, through the local identity provider and the
local stand-in of Cognito's hosted login: every case of the linking table, the same identity
again, the terms gate, and the bad input of the acceptance (each a clear 4xx creating nothing)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

from onboarding.domain.rules import CURRENT_TERMS_VERSION
from tests.e2e.conftest import RunningPlatform
from tests.e2e.federation import browser, follow, log_in, manual_account, me, register, tokens

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def _address(local: str, domain: str) -> str:
    return f"{local}-{uuid.uuid4().hex[:8]}@{domain}"


# provider, the address (its domain), the provider's claims, whether an account has the
# address, the outcome. "{email}" in an address means: the account's address, as written.
TABLE: list[tuple[str, str, str, dict[str, Any], bool, str]] = [
    ("google gmail verified", "google", "gmail.com", {"email_verified": True}, True, "linked"),
    (
        "google hd is the domain",
        "google",
        "example.nl",
        {"email_verified": True, "hd": "{domain}"},
        True,
        "linked",
    ),
    ("google other domain, no hd", "google", "example.nl", {"email_verified": True}, True, "separate"),
    ("google not verified", "google", "gmail.com", {"email_verified": False}, True, "separate"),
    ("apple email_verified 'true'", "apple", "icloud.com", {"email_verified": "true"}, True, "linked"),
    (
        "apple private relay",
        "apple",
        "privaterelay.appleid.com",
        {"email_verified": "true", "is_private_email": "true"},
        False,
        "new",
    ),
    ("microsoft without xms_edov", "microsoft", "contoso.example", {"tid": TENANT}, True, "separate"),
    (
        "microsoft xms_edov true",
        "microsoft",
        "contoso.example",
        {"tid": TENANT, "xms_edov": True},
        True,
        "linked",
    ),
    (
        "other case and spaces",
        "google",
        "gmail.com",
        {"email_verified": True, "__case__": True},
        True,
        "linked",
    ),
    ("verified, no account", "google", "gmail.com", {"email_verified": True}, False, "new"),
]


@pytest.mark.parametrize(
    ("case", "provider", "domain", "claims", "has_account", "outcome"), TABLE, ids=[row[0] for row in TABLE]
)
def test_the_linking_table_over_http(
    platform: RunningPlatform,
    case: str,
    provider: str,
    domain: str,
    claims: dict[str, Any],
    has_account: bool,
    outcome: str,
) -> None:
    email = _address("anna", domain)
    account = manual_account(platform, email) if has_account else None
    claims = {k: (v.replace("{domain}", domain) if isinstance(v, str) else v) for k, v in claims.items()}
    asserted = f"  {email.upper()} " if claims.pop("__case__", False) else email
    sub = register(platform, provider, asserted, **claims)

    signed_in = me(platform, tokens(platform, log_in(platform, provider, sub))["id_token"])

    if outcome == "linked":
        assert account is not None
        assert signed_in["id"] == account["user"]["id"]
        assert signed_in["environment"]["id"] == account["environment"]["id"]
        assert signed_in["identities"] == [{"provider": "email"}, {"provider": provider}]
    else:
        assert signed_in["identities"] == [{"provider": provider}]
        assert signed_in["environment"]["role"] == "admin"
        assert signed_in["terms"]["accepted_version"] is None  # a new account accepts the terms first
        if account is not None:  # a separate account: never the existing one
            assert signed_in["id"] != account["user"]["id"]
            assert signed_in["environment"]["id"] != account["environment"]["id"]


def test_the_same_identity_again_lands_in_the_same_account(platform: RunningPlatform) -> None:
    sub = register(platform, "google", _address("same", "gmail.com"), email_verified=True)
    first = me(platform, tokens(platform, log_in(platform, "google", sub))["id_token"])
    again = me(platform, tokens(platform, log_in(platform, "google", sub))["id_token"])
    assert again["id"] == first["id"] and again["environment"] == first["environment"]


def test_a_linked_identity_logs_in_to_its_account_again_without_another_retry(
    platform: RunningPlatform,
) -> None:
    email = _address("linked", "gmail.com")
    account = manual_account(platform, email)
    sub = register(platform, "google", email, email_verified=True)
    first = log_in(platform, "google", sub)
    # Cognito's first login after linking fails; the callback starts it once more.
    assert any("Already+found+an+entry" in hop for hop in first.hops)
    assert me(platform, tokens(platform, first)["id_token"])["id"] == account["user"]["id"]
    again = log_in(platform, "google", sub)
    assert not any("error" in hop for hop in again.hops)
    assert me(platform, tokens(platform, again)["id_token"])["id"] == account["user"]["id"]


def test_a_new_account_accepts_the_terms_before_anything_else(platform: RunningPlatform) -> None:
    sub = register(platform, "microsoft", _address("terms", "contoso.example"), tid=TENANT, xms_edov=True)
    landing = log_in(platform, "microsoft", sub)
    signed_in = tokens(platform, landing)
    auth = {"Authorization": f"Bearer {signed_in['id_token']}"}
    for method, path in (("GET", "/environment"), ("GET", "/organisations"), ("PATCH", "/me")):
        refused = platform.http.request(method, path, headers=auth, json={} if method == "PATCH" else None)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "terms_not_accepted", path
    assert platform.http.get("/me", headers=auth).status_code == 200
    accepted = platform.http.post("/me/terms", headers=auth, json={"version": CURRENT_TERMS_VERSION})
    assert accepted.status_code == 200
    assert platform.http.get("/environment", headers=auth).status_code == 200
    # The refresh token of a federated login refreshes (the hosted login's own client).
    refreshed = platform.http.post("/auth/token/refresh", json={"refresh_token": signed_in["refresh_token"]})
    assert refreshed.status_code == 200
    assert (
        platform.http.get(
            "/me", headers={"Authorization": f"Bearer {refreshed.json()['id_token']}"}
        ).status_code
        == 200
    )


def test_without_a_login_hint_the_identity_is_picked_on_a_page(platform: RunningPlatform) -> None:
    sub = register(platform, "apple", _address("pick", "icloud.com"), email_verified="true")
    client = browser(platform)
    landing_page = follow(client, "/auth/login/apple", stop_at="/_local/idp/apple/authorize")
    page = client.get(landing_page.location)
    assert page.status_code == 200 and sub in page.text
    pick = f"{landing_page.location}&pick={sub}"
    landed = follow(client, pick)
    assert "session" in landed.fragment


# --- Bad input: a clear 4xx, and nothing created ------------------------------------------------
def _callback_url(platform: RunningPlatform, provider: str = "google") -> tuple[Any, str]:
    """A browser that went through a login up to (not into) the app's callback."""
    sub = register(platform, provider, _address("bad", "gmail.com"), email_verified=True)
    client = browser(platform)
    landing = follow(client, f"/auth/login/{provider}?login_hint={sub}", stop_at="/auth/callback?")
    return client, landing.location


def _nothing_for(platform: RunningPlatform, email: str) -> None:
    """Nothing was made for this address: no user in the pool (the emulator's Cognito), no
    account holding it (a repository read; never a Scan)."""
    import boto3

    from onboarding.adapters.dynamo import Table
    from onboarding.adapters.repositories.users import UserRepository

    state = platform.state()
    where = {"endpoint_url": state["endpoint_url"], "region_name": state["region"]}
    cognito = boto3.client("cognito-idp", **where)
    found = cognito.list_users(UserPoolId=state["user_pool_id"], Filter=f'email = "{email}"')
    assert found["Users"] == [], found["Users"]
    users = UserRepository(Table(state["table_name"], client=boto3.client("dynamodb", **where)))
    assert users.find_login(email.lower(), is_email=True) is None


def _with(url: str, **changes: str) -> str:
    split = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(split.query).items()}
    return urlunsplit(split._replace(query=urlencode({**query, **changes})))


def test_a_wrong_state_is_400(platform: RunningPlatform) -> None:
    client, url = _callback_url(platform)
    response = client.get(_with(url, state="x" * 43))
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_state"
    assert client.get(url).status_code == 302  # the login itself still works


def test_a_replayed_state_is_400(platform: RunningPlatform) -> None:
    client, url = _callback_url(platform)
    assert client.get(url).status_code == 302
    replayed = client.get(url)
    assert replayed.status_code == 400 and replayed.json()["error"]["code"] == "invalid_state"


def test_a_callback_opened_in_another_browser_is_400(platform: RunningPlatform) -> None:
    _, url = _callback_url(platform)
    stranger = browser(platform).get(url)  # no login_browser cookie: login CSRF
    assert stranger.status_code == 400 and stranger.json()["error"]["code"] == "invalid_state"


def test_a_bad_code_is_401(platform: RunningPlatform) -> None:
    client, url = _callback_url(platform)
    response = client.get(_with(url, code="not-a-code"))
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_code"


def test_an_unknown_provider_is_404(platform: RunningPlatform) -> None:
    response = platform.http.get("/auth/login/facebook")
    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_provider"


def test_a_reused_session_code_is_401(platform: RunningPlatform) -> None:
    sub = register(platform, "google", _address("reuse", "gmail.com"), email_verified=True)
    landing = log_in(platform, "google", sub)
    tokens(platform, landing)
    again = platform.http.post("/auth/session", json={"session": landing.fragment["session"]})
    assert again.status_code == 401 and again.json()["error"]["code"] == "invalid_session"


def test_a_login_cancelled_at_the_provider_reaches_the_app_as_a_code(platform: RunningPlatform) -> None:
    email = _address("cancelled", "gmail.com")
    sub = register(platform, "google", email, email_verified=True)
    client = browser(platform)
    page = follow(client, "/auth/login/google", stop_at="/_local/idp/google/authorize")
    assert sub in client.get(page.location).text  # the identity could have been picked
    landed = follow(client, f"{page.location}&cancel=1")
    assert landed.fragment == {"error": "login_cancelled"}
    _nothing_for(platform, email)


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0"},
        {"aud": "another-app"},
        {"nonce": "a nonce of another login"},
        {"exp": 1_000_000},
        {"tid": "common"},
    ],
    ids=["issuer-of-another-tenant", "audience", "nonce", "expired", "tid-not-a-tenant"],
)
def test_an_entra_token_failing_a_check_of_the_bridge_signs_nobody_in(
    platform: RunningPlatform, claims: dict[str, Any]
) -> None:
    email = _address("bridge", "contoso.example")
    sub = register(platform, "microsoft", email, xms_edov=True, **{"tid": TENANT, **claims})
    landed = log_in(platform, "microsoft", sub)
    assert landed.fragment == {"error": "login_failed"}
    assert any("error=server_error" in hop for hop in landed.hops)  # the bridge refused it
    _nothing_for(platform, email)
