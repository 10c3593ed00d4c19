"""Federated login over in-memory fakes: the first sign-in (what the PreSignUp and
PreTokenGeneration triggers do) and the login itself (start, callback, session code)."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from auth_api.login import LINKING_GOTCHA
from onboarding.domain import errors
from onboarding.domain.linking import EMAIL, EMAIL_VERIFIED, GOOGLE_HD, MS_EDOV, SIGN_IN_REFUSED, DomainPolicy
from onboarding.domain.models import Role
from onboarding.domain.ports import AccountRef, Tokens
from onboarding.domain.rules import token_hash
from tests.support.services import World

POOL = "eu-west-1_pool"


@pytest.fixture
def world() -> World:
    return World()


def _manual_account(world: World, email: str = "finance@example.nl") -> str:
    """An activated account holding ``email`` (as activation leaves it)."""
    from tests.unit.test_auth_service import REQUEST, _activate, _token

    service = world.auth_service()
    service.sign_up(email, "nl", REQUEST)
    return str(_activate(service, _token(world, email)).user.id)


def _first_sign_in(world: World, username: str, **attributes: str) -> Any:
    return world.sign_ins().pre_sign_up(user_pool_id=POOL, username=username, attributes=attributes)


# --- The first sign-in (PreSignUp) ----------------------------------------------------------------
def test_a_vouched_for_address_of_an_account_links_to_it(world: World) -> None:
    user_id = _manual_account(world)
    _first_sign_in(
        world, "Google_g1", **{EMAIL: "Finance@Example.nl", EMAIL_VERIFIED: "true", GOOGLE_HD: "example.nl"}
    )
    assert world.links.links == {("Google", "g1"): user_id}
    assert world.memory.users[user_id].identities == ["email", "google"]
    assert world.memory.identities[("google", "g1")].how == "linked"
    assert "google_g1" not in world.memory.users  # no second account


def test_a_new_identity_gets_an_account_and_an_environment_of_its_own_without_terms(world: World) -> None:
    _first_sign_in(world, "Google_g1", **{EMAIL: "anna@gmail.com", EMAIL_VERIFIED: "true", "name": "Anna"})
    user = world.memory.users["google_g1"]
    assert user.terms is None and user.role is Role.ADMIN and user.identities == ["google"]
    assert world.memory.environments[user.environment_id].name == "Omgeving van Anna"
    assert world.memory.emails["anna@gmail.com"] == AccountRef("google_g1", user.environment_id)
    assert world.links.calls == 0


@pytest.mark.parametrize(
    ("claim", "name", "environment"),
    [
        (" Anna\u202e\u200b  de\x00 Vries\n", "Anna de Vries", "Omgeving van Anna de Vries"),
        ("\u200b\u202e\ufeff", "", "Omgeving van anna@gmail.com"),  # nothing visible: the address
        ("A" * 300, "A" * 200, "Omgeving van " + "A" * 87),  # an environment name has 100 at most
        ("A" * 86 + " Bakker", "A" * 86 + " Bakker", "Omgeving van " + "A" * 86),  # cut, then trimmed
    ],
    ids=["bidi-and-control", "nothing-visible", "too-long", "cut-at-a-space"],
)
def test_a_providers_name_is_kept_without_control_or_bidi_characters_and_bounded(
    world: World, claim: str, name: str, environment: str
) -> None:
    _first_sign_in(world, "Google_g1", **{EMAIL: "anna@gmail.com", EMAIL_VERIFIED: "true", "name": claim})
    user = world.memory.users["google_g1"]
    assert user.name == name
    assert world.memory.environments[user.environment_id].name == environment


def test_an_unvouched_address_gets_a_separate_account_that_does_not_hold_it(world: World) -> None:
    user_id = _manual_account(world)
    _first_sign_in(world, "Microsoft_t.o", **{EMAIL: "finance@example.nl"})  # no xms_edov: nOAuth
    assert world.links.calls == 0
    assert world.memory.emails["finance@example.nl"].user_id == user_id  # still the owner's
    assert world.memory.users["microsoft_t.o"].email == "finance@example.nl"


def test_an_unvouched_address_never_blocks_or_captures_it_later(world: World) -> None:
    _first_sign_in(world, "Microsoft_t.o", **{EMAIL: "ceo@example.nl"})  # an attacker's Entra tenant
    assert "ceo@example.nl" not in world.memory.emails
    _first_sign_in(
        world, "Google_g1", **{EMAIL: "ceo@example.nl", EMAIL_VERIFIED: "true", GOOGLE_HD: "example.nl"}
    )
    assert world.links.calls == 0  # the real owner gets their own account, not the attacker's
    assert world.memory.emails["ceo@example.nl"].user_id == "google_g1"


def test_a_retried_trigger_repeats_nothing_but_the_link(world: World) -> None:
    user_id = _manual_account(world)
    attributes = {EMAIL: "finance@example.nl", MS_EDOV: "true"}
    assert _first_sign_in(world, "Microsoft_t.o", **attributes) is not None
    users, environments = dict(world.memory.users), dict(world.memory.environments)
    assert _first_sign_in(world, "Microsoft_t.o", **attributes) is None  # Cognito retried
    assert world.memory.users == users and world.memory.environments == environments
    assert world.links.calls == 2 and world.links.links == {("Microsoft", "t.o"): user_id}


def test_a_retried_first_sign_in_of_a_new_account_creates_it_once(world: World) -> None:
    attributes = {EMAIL: "anna@gmail.com", EMAIL_VERIFIED: "true"}
    _first_sign_in(world, "Google_g1", **attributes)
    _first_sign_in(world, "Google_g1", **attributes)
    assert [u for u in world.memory.users if u.startswith("google_")] == ["google_g1"]
    assert len(world.memory.environments) == 1


def test_losing_a_race_for_the_address_links_to_the_winner(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = world.identities.create_account
    calls = []

    def create_account(*args: Any, **kwargs: Any) -> None:
        calls.append(args)
        if len(calls) == 1:  # another first sign-in with this address wins meanwhile
            user_id = _manual_account(world, "anna@gmail.com")
            assert user_id
            raise errors.AddressTaken
        winner(*args, **kwargs)

    monkeypatch.setattr(world.identities, "create_account", create_account)
    _first_sign_in(world, "Google_g1", **{EMAIL: "anna@gmail.com", EMAIL_VERIFIED: "true"})
    owner = world.memory.emails["anna@gmail.com"].user_id
    assert world.links.links == {("Google", "g1"): owner}


def test_a_link_that_cannot_be_made_now_fails_and_is_made_on_the_retry(world: World) -> None:
    user_id = _manual_account(world)
    attributes = {EMAIL: "finance@example.nl", MS_EDOV: "true"}
    world.links.unavailable = True
    with pytest.raises(errors.IdentityUnavailable):
        _first_sign_in(world, "Microsoft_t.o", **attributes)
    world.links.unavailable = False
    _first_sign_in(world, "Microsoft_t.o", **attributes)
    assert world.links.links == {("Microsoft", "t.o"): user_id}


def test_a_provider_the_platform_does_not_know_is_refused(world: World) -> None:
    with pytest.raises(errors.SignInRefused):
        _first_sign_in(world, "Facebook_1", **{EMAIL: "anna@gmail.com"})


def test_a_restricted_domain_is_refused_and_nothing_is_created(world: World) -> None:
    world.memory.domain_policies["acme.example"] = DomainPolicy("env-acme", "acme")
    with pytest.raises(errors.SignInRefused):
        _first_sign_in(
            world,
            "Google_g1",
            **{EMAIL: "bob@acme.example", EMAIL_VERIFIED: "true", GOOGLE_HD: "acme.example"},
        )
    assert not world.memory.users and not world.memory.identities


def test_the_first_sign_in_reads_once(world: World) -> None:
    _first_sign_in(world, "Google_g1", **{EMAIL: "anna@gmail.com", EMAIL_VERIFIED: "true"})
    assert world.identities.reads == 1


def test_tokens_are_only_issued_to_logins_with_an_account(world: World) -> None:
    user_id = _manual_account(world)
    world.sign_ins().before_tokens(user_id, "client")
    _first_sign_in(world, "Google_g1", **{EMAIL: "anna@gmail.com", EMAIL_VERIFIED: "true"})
    world.sign_ins().before_tokens("Google_g1", "web-client")  # its user name, in any case
    with pytest.raises(errors.SignInRefused):
        world.sign_ins().before_tokens("Google_nobody", "web-client")


# --- The login: start, callback, session --------------------------------------------------------
BROWSER = "b" * 43


def _start(
    world: World, provider: str = "google", hint: str | None = "g1", browser: str | None = BROWSER
) -> Any:
    return world.federated_login().start(provider, login_hint=hint, browser=browser)


def _state(world: World) -> str:
    return str(world.hosted.last["state"])


def _callback(world: World, state: str | None, **query: Any) -> Any:
    values = {"code": "the-code", "error": None, "error_description": "", "browser": BROWSER, **query}
    return world.federated_login().callback(state=state, **values)


def _tokens(world: World, **claims: Any) -> None:
    world.hosted.tokens = Tokens("id-token", "access-token", "refresh-token", 3600)
    world.hosted.claims = {"cognito:username": "Google_g1", "nonce": world.hosted.last["nonce"], **claims}


def test_providers_are_those_the_stage_offers_and_email(world: World) -> None:
    providers = world.federated_login().providers()
    assert [p.id for p in providers] == ["google", "microsoft", "apple", "email"]
    assert providers[0].login_url == "https://app.example/auth/login/google"
    assert providers[-1].login_url == "https://app.example/login"


def test_a_login_starts_with_pkce_state_nonce_and_the_hint_and_keeps_only_hashes(world: World) -> None:
    redirect = _start(world)
    sent = world.hosted.last
    assert sent["provider"] == "Google" and sent["login_hint"] == "g1"
    [(state_hash, (attempt, used))] = world.memory.logins.items()
    assert state_hash == token_hash(sent["state"]) and not used
    assert attempt.nonce_hash == hashlib.sha256(sent["nonce"].encode()).hexdigest()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(attempt.code_verifier.encode()).digest()).rstrip(b"=")
    assert sent["code_challenge"] == challenge.decode()
    assert 43 <= len(attempt.code_verifier) <= 128  # RFC 7636
    assert redirect.browser == BROWSER  # the browser's binding is kept
    assert sent["state"] not in repr(world.memory.logins) and sent["nonce"] not in repr(world.memory.logins)


def test_a_new_browser_gets_a_binding(world: World) -> None:
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", _start(world, browser=None).browser)


def test_an_unknown_provider_is_404(world: World) -> None:
    for provider in ("facebook", "email", "Google"):
        with pytest.raises(errors.UnknownProvider):
            _start(world, provider)


def test_a_finished_login_lands_in_the_app_with_a_one_time_session_code(world: World) -> None:
    _start(world)
    _tokens(world)
    redirect = _callback(world, _state(world))
    assert world.hosted.exchanged[0][0] == "the-code"
    session = redirect.location.split("https://app.example/#session=")[1]
    assert world.federated_login().session(session).refresh_token == "refresh-token"
    with pytest.raises(errors.InvalidSession):
        world.federated_login().session(session)


def test_a_session_code_expires_after_60_seconds(world: World) -> None:
    _start(world)
    _tokens(world)
    session = _callback(world, _state(world)).location.split("#session=")[1]
    world.clock.advance(seconds=61)
    with pytest.raises(errors.InvalidSession):
        world.federated_login().session(session)


@pytest.mark.parametrize("state", [None, "", "short", "x" * 43])
def test_a_missing_or_unknown_state_is_400(world: World, state: str | None) -> None:
    _start(world)
    with pytest.raises(errors.InvalidState):
        _callback(world, state)
    assert not world.hosted.exchanged and not world.memory.sessions


def test_a_state_works_once(world: World) -> None:
    _start(world)
    _tokens(world)
    state = _state(world)
    _callback(world, state)
    with pytest.raises(errors.InvalidState):
        _callback(world, state)
    assert len(world.memory.sessions) == 1


def test_a_state_expires(world: World) -> None:
    _start(world)
    world.clock.advance(minutes=11)
    with pytest.raises(errors.InvalidState):
        _callback(world, _state(world))


@pytest.mark.parametrize("browser", [None, "c" * 43])
def test_a_callback_from_another_browser_is_refused_and_burns_the_state(
    world: World, browser: str | None
) -> None:
    _start(world)
    _tokens(world)
    state = _state(world)
    with pytest.raises(errors.InvalidState):
        _callback(world, state, browser=browser)
    with pytest.raises(errors.InvalidState):
        _callback(world, state)  # the real browser cannot race it either
    assert not world.hosted.exchanged


def test_a_refused_code_is_401_and_makes_no_session(world: World) -> None:
    _start(world)
    world.hosted.exchange_fails = errors.LoginRejected("invalid_grant")
    with pytest.raises(errors.LoginCodeRejected):
        _callback(world, _state(world))
    assert not world.memory.sessions


def test_a_token_endpoint_outage_is_503(world: World) -> None:
    _start(world)
    world.hosted.exchange_fails = errors.IdentityUnavailable("timeout")
    with pytest.raises(errors.IdentityServiceUnavailable):
        _callback(world, _state(world))


@pytest.mark.parametrize("check", ["signature", "issuer", "audience", "expired"])
def test_an_id_token_failing_a_check_is_401(world: World, check: str) -> None:
    _start(world)
    _tokens(world)
    world.hosted.verify_fails = errors.TokenInvalid(check)
    with pytest.raises(errors.IdTokenRejected):
        _callback(world, _state(world))
    assert not world.memory.sessions


@pytest.mark.parametrize("nonce", ["another nonce", None, 42])
def test_an_id_token_with_the_wrong_nonce_is_401(world: World, nonce: Any) -> None:
    _start(world)
    _tokens(world)
    world.hosted.claims["nonce"] = nonce
    with pytest.raises(errors.IdTokenRejected):
        _callback(world, _state(world))
    assert not world.memory.sessions


def test_no_code_is_401(world: World) -> None:
    _start(world)
    with pytest.raises(errors.LoginCodeRejected):
        _callback(world, _state(world), code=None)


@pytest.mark.parametrize(
    ("error", "description", "code"),
    [
        ("access_denied", "", "login_cancelled"),
        ("invalid_request", f"PreSignUp failed with error {SIGN_IN_REFUSED}", "login_not_allowed"),
        (
            "invalid_request",
            "PreSignUp failed with error Sign-in could not be completed; try again.",
            "login_failed",
        ),
        ("server_error", "<script>alert(1)</script> internal details", "login_failed"),
    ],
)
def test_errors_reach_the_app_as_a_code_never_as_their_text(
    world: World, error: str, description: str, code: str
) -> None:
    _start(world)
    redirect = _callback(world, _state(world), error=error, error_description=description)
    assert redirect.location == f"https://app.example/#error={code}"
    assert not world.hosted.exchanged


def test_the_first_login_after_linking_is_retried_once(world: World) -> None:
    _start(world, hint="g1")
    first = _state(world)
    retry = _callback(world, first, error="invalid_request", error_description=f"{LINKING_GOTCHA} Google_g1")
    assert retry.location.startswith("https://login.example/") and retry.browser == BROWSER
    second = _state(world)
    assert second != first and world.hosted.last["login_hint"] == "g1"
    again = _callback(world, second, error="invalid_request", error_description=f"{LINKING_GOTCHA} Google_g1")
    assert again.location == "https://app.example/#error=login_failed"  # never a loop


def test_the_authorize_url_is_the_hosted_logins(world: World) -> None:
    from onboarding.adapters.hosted_login import CognitoHostedLogin
    from tests.support.services import SETTINGS

    url = CognitoHostedLogin(SETTINGS).authorize_url(
        provider=world.sign_ins().providers[1], state="s", nonce="n", code_challenge="c", login_hint="h"
    )
    split = urlsplit(url)
    assert f"{split.scheme}://{split.netloc}{split.path}" == "https://login.example/oauth2/authorize"
    assert {k: v[0] for k, v in parse_qs(split.query).items()} == {
        "response_type": "code",
        "client_id": "web-client",
        "redirect_uri": "https://app.example/auth/callback",
        "identity_provider": "Microsoft",
        "scope": "openid email profile",
        "state": "s",
        "nonce": "n",
        "code_challenge": "c",
        "code_challenge_method": "S256",
        "login_hint": "h",
    }
