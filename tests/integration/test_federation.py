"""Federated login through the real handlers and adapters, against the emulator: the user
pool's triggers with Cognito's event shapes (and their DynamoDB budget), the login routes, and
every check of the pool's ID token at the callback."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from infra.local.aws_calls import count_aws_calls
from infra.local.events import pre_sign_up_event, pre_token_generation_event
from onboarding.domain import errors
from onboarding.domain.linking import EMAIL, EMAIL_VERIFIED, MS_EDOV, SIGN_IN_FAILED, SIGN_IN_REFUSED
from onboarding.domain.ports import Tokens
from tests.support.events import body_of, header, trigger
from tests.support.flows import call, new_account


def _pre_sign_up(resources: Any, username: str, **attributes: str) -> dict[str, Any]:
    return pre_sign_up_event(
        user_pool_id=resources.user_pool_id,
        username=username,
        client_id=resources.web_client_id,
        user_attributes=attributes,
    )


def _me(username: str) -> dict[str, Any]:
    response = call("GET", "/me", claims={"cognito:username": username, "token_use": "id"})
    assert response["statusCode"] == 200, response
    return body_of(response)  # type: ignore[no-any-return]


def _cognito(resources: Any) -> Any:
    from onboarding.adapters import aws

    return aws.cognito()


# --- The triggers ---------------------------------------------------------------------------------
def test_a_first_sign_in_creates_the_account_in_two_dynamodb_calls(local_aws: Any) -> None:
    username = f"Google_{uuid.uuid4().int}"
    event = _pre_sign_up(
        local_aws, username, **{EMAIL: "anna@gmail.com", EMAIL_VERIFIED: "true", "name": "Anna"}
    )
    with count_aws_calls() as log:
        assert trigger(event) == event  # PreSignUp answers with its event
    assert log.by_operation() == {"dynamodb.TransactGetItems": 1, "dynamodb.TransactWriteItems": 1}
    me = _me(username)
    assert me["id"] == username.lower() and me["identities"] == [{"provider": "google"}]
    assert (
        me["terms"] == {"accepted_version": None, "accepted_at": None}
        and me["environment"]["role"] == "admin"
    )
    refused = call("GET", "/environment", claims={"cognito:username": username, "token_use": "id"})
    assert refused["statusCode"] == 403 and body_of(refused)["error"]["code"] == "terms_not_accepted"


def test_a_vouched_for_address_links_to_the_existing_account(local_aws: Any, email: str) -> None:
    account = new_account(local_aws, email)
    subject = str(uuid.uuid4())
    event = _pre_sign_up(local_aws, f"Microsoft_{subject}", **{EMAIL: f" {email.upper()} ", MS_EDOV: "true"})
    with count_aws_calls() as log:
        trigger(event)
    operations = log.by_operation()
    assert operations["dynamodb.TransactGetItems"] + operations["dynamodb.TransactWriteItems"] == 2
    assert [op for op in operations if op.endswith(".AdminLinkProviderForUser")] and sum(
        n for op, n in operations.items() if op.endswith(".AdminLinkProviderForUser")
    ) == 1
    user = _cognito(local_aws).admin_get_user(
        UserPoolId=local_aws.user_pool_id, Username=account["user"]["id"]
    )
    identities = json.loads({a["Name"]: a["Value"] for a in user["UserAttributes"]}["identities"])
    assert [(i["providerName"], i["userId"]) for i in identities] == [("Microsoft", subject)]
    assert _me(account["user"]["id"])["identities"] == [{"provider": "email"}, {"provider": "microsoft"}]


def test_a_retried_link_changes_nothing_and_succeeds(local_aws: Any, email: str) -> None:
    account = new_account(local_aws, email)
    event = _pre_sign_up(local_aws, f"Microsoft_{uuid.uuid4()}", **{EMAIL: email, MS_EDOV: "true"})
    trigger(event)
    trigger(event)  # Cognito retries a trigger it did not hear back from
    assert _me(account["user"]["id"])["identities"] == [{"provider": "email"}, {"provider": "microsoft"}]


def test_an_unvouched_address_gets_a_separate_account(local_aws: Any, email: str) -> None:
    account = new_account(local_aws, email)
    username = f"Microsoft_{uuid.uuid4()}"
    trigger(_pre_sign_up(local_aws, username, **{EMAIL: email}))  # no xms_edov
    assert _me(username)["environment"]["id"] != account["environment"]["id"]
    assert _me(account["user"]["id"])["identities"] == [{"provider": "email"}]


def test_manual_activation_passes_presignup_and_self_sign_up_is_refused(local_aws: Any) -> None:
    created = _pre_sign_up(local_aws, str(uuid.uuid4()), email="x@example.nl")
    created["triggerSource"] = "PreSignUp_AdminCreateUser"
    assert trigger(created) == created
    created["triggerSource"] = "PreSignUp_SignUp"
    with pytest.raises(Exception, match=SIGN_IN_REFUSED):
        trigger(created)


def test_tokens_only_for_logins_with_an_account_in_one_call(local_aws: Any, email: str) -> None:
    account = new_account(local_aws, email)
    for source in (
        "TokenGeneration_HostedAuth",
        "TokenGeneration_RefreshTokens",
        "TokenGeneration_Authentication",
    ):
        event = pre_token_generation_event(
            user_pool_id=local_aws.user_pool_id,
            username=account["user"]["id"],
            client_id=local_aws.web_client_id,
            user_attributes={"email": email},
            trigger_source=source,
        )
        with count_aws_calls() as log:
            assert trigger(event) == event
        assert log.by_operation() == {"dynamodb.GetItem": 1}
    event["userName"] = "Google_nobody"
    with pytest.raises(Exception, match=SIGN_IN_REFUSED):
        trigger(event)


def test_a_trigger_failure_says_only_the_generic_message(
    local_aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auth_api import triggers

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("DynamoDB said something with internal details")

    monkeypatch.setattr(triggers.sign_ins(), "pre_sign_up", broken)
    with pytest.raises(triggers.SignInStopped) as stopped:
        trigger(_pre_sign_up(local_aws, "Google_1", email="a@gmail.com"))
    assert str(stopped.value) == SIGN_IN_FAILED


# --- The login routes -----------------------------------------------------------------------------
def test_the_providers_and_their_login_urls() -> None:
    providers = body_of(call("GET", "/auth/providers"))
    assert [p["id"] for p in providers] == ["google", "microsoft", "apple", "email"]
    assert providers[0]["login_url"] == "https://app.test.example/auth/login/google"


def test_a_login_redirects_to_the_hosted_login_with_pkce_and_binds_the_browser() -> None:
    response = call("GET", "/auth/login/apple", query={"login_hint": "anna@icloud.com"})
    assert response["statusCode"] == 302
    location = urlsplit(header(response, "Location") or "")
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert location.path.endswith("/oauth2/authorize")
    assert query["identity_provider"] == "SignInWithApple" and query["login_hint"] == "anna@icloud.com"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) == len(query["nonce"]) == 43
    assert query["redirect_uri"] == "https://app.test.example/auth/callback"
    cookie = header(response, "Set-Cookie") or ""
    assert cookie.startswith("login_browser=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" in cookie  # the public URL is https
    assert header(response, "Cache-Control") == "no-store"


@pytest.mark.parametrize("provider", ["facebook", "email", "GOOGLE"])
def test_an_unknown_provider_is_404(provider: str) -> None:
    response = call("GET", f"/auth/login/{provider}")
    assert response["statusCode"] == 404 and body_of(response)["error"]["code"] == "unknown_provider"


@pytest.mark.parametrize("hint", ["a\nb", "anna\u202egro.liamg@"], ids=["control", "bidi-override"])
def test_a_login_hint_with_control_or_bidi_characters_is_422(hint: str) -> None:
    assert call("GET", "/auth/login/google", query={"login_hint": hint})["statusCode"] == 422


@pytest.mark.parametrize(("accept_language", "language"), [(None, "nl"), ("en-GB", "en")])
def test_the_login_routes_errors_speak_the_requests_language(
    accept_language: str | None, language: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    expected = [
        (call("GET", "/auth/login/facebook", headers=headers), errors.UnknownProvider()),
        (call("POST", "/auth/session", body={"session": "a" * 43}, headers=headers), errors.InvalidSession()),
        (call("GET", "/auth/callback", query={"state": "x" * 43}, headers=headers), errors.InvalidState()),
    ]
    for response, error in expected:
        assert body_of(response)["error"]["code"] == error.code
        assert body_of(response)["error"]["message"] == error.message_in(language)  # type: ignore[arg-type]


def test_a_session_code_of_the_wrong_shape_is_422_and_an_unknown_one_401() -> None:
    assert call("POST", "/auth/session", body={"session": "short"})["statusCode"] == 422
    response = call("POST", "/auth/session", body={"session": "a" * 43})
    assert response["statusCode"] == 401 and body_of(response)["error"]["code"] == "invalid_session"


# --- The callback: every check of the pool's ID token ---------------------------------------------
def _pool_key() -> RSAKey:
    """The key moto signs every pool's tokens with (its JWKS is the pool's, at the emulator)."""
    data = resources.files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz").read_bytes()
    return RSAKey.import_key(json.loads(gzip.decompress(data)))


@pytest.fixture
def login(local_aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A started login whose code the pool "exchanges" for an ID token the test makes."""
    from auth_api.handler import federated_login

    started = call("GET", "/auth/login/google")
    query = {k: v[0] for k, v in parse_qs(urlsplit(header(started, "Location") or "").query).items()}
    cookie = (header(started, "Set-Cookie") or "").split(";")[0]
    hosted = federated_login().hosted()
    issued: dict[str, Any] = {}

    def exchange(code: str, verifier: str, client_id: str | None = None) -> Tokens:
        if code == "bad":
            raise errors.LoginRejected("invalid_grant")
        return Tokens(issued["id_token"], "access", "refresh", 3600)

    monkeypatch.setattr(hosted, "exchange", exchange)
    monkeypatch.setattr(
        hosted,
        "keys",
        type(hosted.keys)(f"{local_aws.endpoint_url}/{local_aws.user_pool_id}/.well-known/jwks.json"),
    )

    def callback(key: Any = None, code: str = "good", **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": f"https://cognito-idp.eu-west-1.amazonaws.com/{local_aws.user_pool_id}",
            "aud": local_aws.web_client_id,
            "token_use": "id",
            "cognito:username": "Google_1",
            "exp": now + 600,
            "iat": now,
            "nonce": query["nonce"],
            **changes,
        }
        issued["id_token"] = jwt.encode({"alg": "RS256", "kid": "dummy"}, claims, key or _pool_key())
        return call(
            "GET", "/auth/callback", query={"code": code, "state": query["state"]}, headers={"Cookie": cookie}
        )

    return callback


def test_a_good_id_token_lands_in_the_app_with_a_session_code_that_works_once(login: Any) -> None:
    response = login()
    assert response["statusCode"] == 302
    location = header(response, "Location") or ""
    assert location.startswith("https://app.test.example/#session=")
    assert header(response, "Cache-Control") == "no-store"  # the code is as good as the tokens
    session = location.split("#session=")[1]
    exchanged = call("POST", "/auth/session", body={"session": session})
    assert body_of(exchanged)["refresh_token"] == "refresh"
    assert header(exchanged, "Cache-Control") == "no-store"
    assert header(exchanged, "Content-Type") == "application/json; charset=utf-8"
    again = call("POST", "/auth/session", body={"session": session})
    assert again["statusCode"] == 401 and body_of(again)["error"]["code"] == "invalid_session"


@pytest.mark.parametrize(
    "changes",
    [
        {"nonce": "a nonce of another login"},
        {"aud": "another-client"},
        {"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other"},
        {"exp": 1_000_000},
        {"token_use": "access"},
    ],
    ids=["nonce", "audience", "issuer", "expired", "token-use"],
)
def test_an_id_token_failing_a_check_is_401_and_makes_no_session(login: Any, changes: dict[str, Any]) -> None:
    response = login(**changes)
    assert response["statusCode"] == 401 and body_of(response)["error"]["code"] == "invalid_id_token"


def test_an_id_token_signed_with_another_key_is_401(login: Any) -> None:
    response = login(key=RSAKey.generate_key(2048, parameters={"kid": "dummy"}))
    assert response["statusCode"] == 401 and body_of(response)["error"]["code"] == "invalid_id_token"


def test_a_refused_code_is_401(login: Any) -> None:
    response = login(code="bad")
    assert response["statusCode"] == 401 and body_of(response)["error"]["code"] == "invalid_code"


def test_a_callback_without_its_browser_or_twice_is_400(login: Any) -> None:
    assert login()["statusCode"] == 302
    response = login()  # the same state again
    assert response["statusCode"] == 400 and body_of(response)["error"]["code"] == "invalid_state"
    strange = call("GET", "/auth/callback", query={"code": "good", "state": "x" * 43})
    assert strange["statusCode"] == 400 and body_of(strange)["error"]["code"] == "invalid_state"
