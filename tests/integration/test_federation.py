"""Federated login through the real handlers and adapters, against the emulator: the user
pool's triggers with Cognito's event shapes (and their DynamoDB budget), the login routes, and
every check of the pool's ID token at the callback."""

from __future__ import annotations

import gzip
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
        assert log.by_operation() == {"dynamodb.TransactGetItems": 1}
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
    with count_aws_calls() as log:
        response = call("GET", f"/auth/login/{provider}")
    _refused_creating_nothing(response, log, 404, "unknown_provider")
    assert log.calls == []  # not even a login attempt


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


@dataclass
class Login:
    """A started login (its authorize request's ``query`` and browser ``cookie``) whose code
    the pool "exchanges" for an ID token the test makes; calling it runs the callback."""

    resources: Any
    hosted: Any
    query: dict[str, str]
    cookie: str
    subject: str = field(default_factory=lambda: uuid.uuid4().hex)
    issued: dict[str, Any] = field(default_factory=dict)

    @property
    def username(self) -> str:
        """The pool's user this login is (a federated user's: ``Google_<subject>``)."""
        return f"Google_{self.subject}"

    def id_token(self, key: Any = None, **changes: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": f"https://cognito-idp.eu-west-1.amazonaws.com/{self.resources.user_pool_id}",
            "aud": self.resources.web_client_id,
            "token_use": "id",
            "cognito:username": self.username,
            "exp": now + 600,
            "iat": now,
            "nonce": self.query["nonce"],
            **changes,
        }
        return jwt.encode({"alg": "RS256", "kid": "dummy"}, claims, key or _pool_key())

    def back(self, code: str) -> dict[str, Any]:
        """The browser back at the app's callback with ``code``."""
        return call(
            "GET",
            "/auth/callback",
            query={"code": code, "state": self.query["state"]},
            headers={"Cookie": self.cookie},
        )

    def __call__(self, key: Any = None, code: str = "good", **changes: Any) -> dict[str, Any]:
        self.issued["id_token"] = self.id_token(key, **changes)
        return self.back(code)


@pytest.fixture
def login(local_aws: Any, monkeypatch: pytest.MonkeyPatch) -> Login:
    from auth_api.handler import federated_login

    started = call("GET", "/auth/login/google")
    query = {k: v[0] for k, v in parse_qs(urlsplit(header(started, "Location") or "").query).items()}
    cookie = (header(started, "Set-Cookie") or "").split(";")[0]
    hosted = federated_login().hosted()
    started_login = Login(local_aws, hosted, query, cookie)

    def exchange(code: str, verifier: str, client_id: str | None = None) -> Tokens:
        if code == "bad":
            raise errors.LoginRejected("invalid_grant")
        return Tokens(started_login.issued["id_token"], "access", "refresh", 3600)

    monkeypatch.setattr(hosted, "exchange", exchange)
    monkeypatch.setattr(
        hosted,
        "keys",
        type(hosted.keys)(f"{local_aws.endpoint_url}/{local_aws.user_pool_id}/.well-known/jwks.json"),
    )
    return started_login


# Reads, and using up a one-time item (a login's state, a session code): all that a refused
# request may do. A new user, identity, environment or session is a write of another kind
# (PutItem, TransactWriteItems, AdminCreateUser, AdminLinkProviderForUser).
_READS = frozenset(
    {"dynamodb.GetItem", "dynamodb.BatchGetItem", "dynamodb.Query", "dynamodb.TransactGetItems"}
)


def _refused_creating_nothing(
    response: dict[str, Any], log: Any, status: int, code: str, login: Login | None = None
) -> None:
    assert response["statusCode"] == status and body_of(response)["error"]["code"] == code
    changes = Counter(c for c in log.calls if c not in _READS)
    assert changes <= Counter({"dynamodb.UpdateItem": 1}), changes
    if login is not None:  # and the login's identity has no account, user or environment
        from onboarding.adapters.dynamo import Table
        from onboarding.adapters.repositories.identities import IdentityRepository

        assert IdentityRepository(Table(login.resources.table_name)).get("google", login.subject) is None
        found = _cognito(login.resources).list_users(
            UserPoolId=login.resources.user_pool_id, Filter=f'username = "{login.username}"'
        )
        assert found["Users"] == []


def test_a_good_id_token_lands_in_the_app_with_a_session_code_that_works_once(login: Login) -> None:
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
    with count_aws_calls() as log:
        again = call("POST", "/auth/session", body={"session": session})
    _refused_creating_nothing(again, log, 401, "invalid_session")


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
def test_an_id_token_failing_a_check_is_401_and_makes_no_session(
    login: Login, changes: dict[str, Any]
) -> None:
    with count_aws_calls() as log:
        response = login(**changes)
    _refused_creating_nothing(response, log, 401, "invalid_id_token", login)


def test_an_id_token_signed_with_another_key_is_401(login: Login) -> None:
    with count_aws_calls() as log:
        response = login(key=RSAKey.generate_key(2048, parameters={"kid": "dummy"}))
    _refused_creating_nothing(response, log, 401, "invalid_id_token", login)


def test_a_refused_code_is_401(login: Login) -> None:
    with count_aws_calls() as log:
        response = login(code="bad")
    _refused_creating_nothing(response, log, 401, "invalid_code", login)


def test_a_callback_without_its_browser_or_twice_is_400(login: Login) -> None:
    assert login()["statusCode"] == 302
    with count_aws_calls() as log:
        response = login()  # the same state again
    _refused_creating_nothing(response, log, 400, "invalid_state")
    with count_aws_calls() as log:
        strange = call("GET", "/auth/callback", query={"code": "good", "state": "x" * 43})
    _refused_creating_nothing(strange, log, 400, "invalid_state")
    with count_aws_calls() as log:
        elsewhere = call("GET", "/auth/callback", query={"code": "good", "state": login.query["state"]})
    _refused_creating_nothing(elsewhere, log, 400, "invalid_state")


def test_a_callback_in_another_browser_is_400_and_burns_the_state(login: Login) -> None:
    with count_aws_calls() as log:
        stranger = call("GET", "/auth/callback", query={"code": "good", "state": login.query["state"]})
    _refused_creating_nothing(stranger, log, 400, "invalid_state", login)
    with count_aws_calls() as log:
        response = login()  # the real browser after it: the state is used up
    _refused_creating_nothing(response, log, 400, "invalid_state", login)


# --- The callback against the local stand-in of the pool's token endpoint ------------------------
@pytest.fixture
def stand_in(login: Login, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The callback exchanges its code with the real client (authlib over httpx) at the local
    stand-in of Cognito's hosted login (``infra/local/hosted_login.py``), served on 127.0.0.1."""
    from auth_api import handler
    from infra.local.hosted_login import PREFIX, LocalHostedLogin
    from infra.local.identity_provider import LocalIdentityProvider

    resources = login.resources

    def never(event: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("no trigger runs at the token endpoint")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, headers, data = hosted_login.handle("POST", self.path, body)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    hosted_login = LocalHostedLogin(
        base_url=base_url,
        endpoint_url=resources.endpoint_url,
        region=resources.region,
        user_pool_id=resources.user_pool_id,
        idp=LocalIdentityProvider(base_url),
        trigger=never,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    real = type(login.hosted).exchange
    monkeypatch.setattr(login.hosted, "exchange", real.__get__(login.hosted))
    monkeypatch.setattr(login.hosted, "domain", f"{base_url}{PREFIX}")
    assert handler.federated_login().hosted() is login.hosted
    try:
        yield hosted_login
    finally:
        server.shutdown()
        server.server_close()


def _issue(stand_in: Any, login: Login, *, expires_in: float) -> str:
    """A code the stand-in issued for this login (as its ``idpresponse`` step does), with
    tokens whose ID token passes every check."""
    code = f"code-{uuid.uuid4().hex}"
    stand_in._codes[code] = {
        "tokens": {
            "id_token": login.id_token(),
            "access_token": "access",
            "refresh_token": "refresh",
            "expires_in": 3600,
            "token_type": "Bearer",
        },
        "client_id": login.hosted.client_id,  # the hosted login's (a tenant's login: its own)
        "redirect_uri": login.hosted.redirect_uri,
        "challenge": login.query["code_challenge"],
        "expires": time.time() + expires_in,
    }
    return code


def test_an_expired_code_is_401_and_creates_nothing(stand_in: Any, login: Login) -> None:
    code = _issue(stand_in, login, expires_in=300)
    stand_in._codes[code]["expires"] = time.time() - 1  # 300 seconds later
    with count_aws_calls() as log:
        response = login.back(code)
    _refused_creating_nothing(response, log, 401, "invalid_code", login)
    assert code not in stand_in._codes  # the pool forgets a code once it was tried


def test_a_code_from_the_stand_in_within_its_time_signs_in_once(stand_in: Any, login: Login) -> None:
    """The same path with a code that has not expired: the expiry is what the test above
    changes, nothing else."""
    code = _issue(stand_in, login, expires_in=300)
    response = login.back(code)
    assert response["statusCode"] == 302 and "#session=" in (header(response, "Location") or "")
