"""The rules of sign-up, activation, login and the signed-in user, over in-memory fakes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from auth_api.service import SIGNUP_ACCEPTED, RequestInfo
from onboarding.domain import errors
from onboarding.domain.models import Role
from onboarding.domain.rules import CURRENT_TERMS_VERSION, token_hash
from tests.support.services import SETTINGS, World

PASSWORD = "correct horse battery staple"
REQUEST = RequestInfo(ip="192.0.2.7", user_agent="pytest")


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def service(world: World) -> Any:
    return world.auth_service()


def _token(world: World, email: str) -> str:
    found = re.search(r"#token=([A-Za-z0-9_-]{43})", world.mailer.to(email)[-1].text)
    assert found
    return found.group(1)


def _activate(service: Any, token: str, username: str = "finance", **extra: Any) -> Any:
    values = {
        "token": token,
        "username": username,
        "password": PASSWORD,
        "terms_version": CURRENT_TERMS_VERSION,
        "environment_name": None,
        "request": REQUEST,
        **extra,
    }
    return service.complete_activation(**values)


def _account(world: World, service: Any, email: str = "finance@example.nl", username: str = "finance") -> Any:
    service.sign_up(email, "nl", REQUEST)
    return _activate(service, _token(world, email), username)


# --- Sign-up ----------------------------------------------------------------------------------
def test_a_sign_up_mails_a_link_and_stores_only_the_tokens_hash(world: World, service: Any) -> None:
    assert service.sign_up(" Finance@Example.nl ", "en", REQUEST) == SIGNUP_ACCEPTED["en"]
    [mail] = world.mailer.sent
    assert mail.subject == "Activate your environment" and mail.to == "Finance@Example.nl"
    token = _token(world, "finance@example.nl")
    signup = world.memory.signups["finance@example.nl"]
    assert signup.token_hash == token_hash(token) and token not in signup.model_dump_json()


def test_an_address_with_an_account_gets_a_log_in_mail_and_the_same_answer(
    world: World, service: Any
) -> None:
    _account(world, service)
    assert service.sign_up("FINANCE@example.nl", "nl", REQUEST) == SIGNUP_ACCEPTED["nl"]
    assert "#token=" not in world.mailer.sent[-1].text and "/login" in world.mailer.sent[-1].text


def test_a_new_link_replaces_the_old_one(world: World, service: Any) -> None:
    service.sign_up("a@example.nl", "nl", REQUEST)
    old = _token(world, "a@example.nl")
    service.resend("a@example.nl", None, REQUEST)
    new = _token(world, "a@example.nl")
    with pytest.raises(errors.ActivationNotFound):
        service.check_activation(old)
    assert service.check_activation(new).email == "a@example.nl"


def test_a_resend_keeps_the_language_chosen_at_sign_up(world: World, service: Any) -> None:
    service.sign_up("a@example.nl", "en", REQUEST)
    service.resend("a@example.nl", None, REQUEST)
    assert world.mailer.sent[-1].subject == "Activate your environment"


def test_the_sixth_mail_of_the_hour_to_one_address_is_dropped_silently(world: World, service: Any) -> None:
    for _ in range(6):
        assert (
            service.sign_up("a@example.nl", "nl", RequestInfo(ip=f"192.0.2.{len(world.mailer.sent)}"))
            == (SIGNUP_ACCEPTED["nl"])
        )
    assert len(world.mailer.to("a@example.nl")) == SETTINGS.mail.per_address_per_hour


def test_too_many_sign_ups_from_one_ip_are_429_with_retry_after(world: World) -> None:
    settings = SETTINGS.model_copy(
        update={"signups": SETTINGS.signups.model_copy(update={"per_ip_per_hour": 2})}
    )
    service = world.auth_service(settings)
    service.sign_up("a@example.nl", "nl", REQUEST)
    service.sign_up("b@example.nl", "nl", REQUEST)
    with pytest.raises(errors.TooManyRequests) as refused:
        service.sign_up("c@example.nl", "nl", REQUEST)
    assert int(refused.value.headers["Retry-After"]) > 0
    assert not world.mailer.to("c@example.nl")


def test_a_mail_outage_is_503_and_leaves_the_previous_link_working(world: World, service: Any) -> None:
    service.sign_up("a@example.nl", "nl", REQUEST)
    working = _token(world, "a@example.nl")
    world.mailer.failing = True
    with pytest.raises(errors.MailUnavailable):
        service.resend("a@example.nl", None, REQUEST)
    world.mailer.failing = False
    assert service.check_activation(working).email == "a@example.nl"
    assert sum(world.memory.counters.values()) == 2  # the failed attempt counted nothing


# --- Activation -------------------------------------------------------------------------------
def test_activation_creates_an_admin_its_environment_and_a_confirmation(world: World, service: Any) -> None:
    account = _account(world, service)
    user, environment = account.user, account.environment
    assert user.role is Role.ADMIN and user.environment_id == environment.id
    assert environment.name == "Omgeving van finance"
    assert user.terms.version == CURRENT_TERMS_VERSION
    assert world.memory.terms_evidence[(user.id, CURRENT_TERMS_VERSION)]["ip"] == REQUEST.ip
    assert world.identity.logins[user.id] == ("finance@example.nl", PASSWORD)
    assert world.mailer.sent[-1].kind == "confirmation"


def test_a_weak_password_is_422_before_the_link_is_looked_at(service: Any) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        _activate(service, "x" * 43, password="short")
    assert refused.value.code == "weak_password"


def test_only_the_current_terms_version_can_be_accepted(world: World, service: Any) -> None:
    service.sign_up("a@example.nl", "nl", REQUEST)
    with pytest.raises(errors.InvalidInput):
        _activate(service, _token(world, "a@example.nl"), terms_version="2020-01")


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("unknown", errors.ActivationNotFound),
        ("used", errors.ActivationUsed),
        ("expired", errors.ActivationExpired),
    ],
)
def test_a_link_that_cannot_be_used_says_why(world: World, service: Any, setup: str, expected: type) -> None:
    service.sign_up("a@example.nl", "nl", REQUEST)
    token = _token(world, "a@example.nl")
    if setup == "unknown":
        token = "u" * 43
    elif setup == "used":
        _activate(service, token)
    else:
        world.clock.advance(hours=SETTINGS.signups.activation_ttl_hours + 1)
    with pytest.raises(expected):
        _activate(service, token, username="another")


def test_a_taken_username_is_409_and_the_link_stays_usable(world: World, service: Any) -> None:
    _account(world, service, "a@example.nl", "finance")
    service.sign_up("b@example.nl", "nl", REQUEST)
    token = _token(world, "b@example.nl")
    with pytest.raises(errors.UsernameTaken):
        _activate(service, token, "FINANCE")
    assert _activate(service, token, "finance2").user.username == "finance2"


def test_an_identity_outage_undoes_the_activation_so_the_link_works_again(world: World, service: Any) -> None:
    service.sign_up("a@example.nl", "nl", REQUEST)
    token = _token(world, "a@example.nl")
    world.identity.unavailable = True
    with pytest.raises(errors.IdentityServiceUnavailable):
        _activate(service, token)
    assert not world.memory.users and not world.memory.environments
    world.identity.unavailable = False
    assert _activate(service, token).user.username == "finance"


def test_a_lost_confirmation_mail_does_not_undo_the_account(world: World, service: Any) -> None:
    service.sign_up("a@example.nl", "nl", REQUEST)
    token = _token(world, "a@example.nl")
    world.mailer.failing = True
    account = _activate(service, token)
    assert world.memory.users[account.user.id]


# --- Login ------------------------------------------------------------------------------------
def test_login_by_username_or_email_in_any_case(world: World, service: Any) -> None:
    account = _account(world, service)
    for login in ("finance", "FINANCE", "Finance@Example.NL", " finance@example.nl "):
        tokens = service.login(login, PASSWORD)
        assert tokens.claims()["cognito:username"] == account.user.id


def test_an_unknown_user_and_a_wrong_password_look_the_same(world: World, service: Any) -> None:
    _account(world, service)
    for login, password in (("nobody", PASSWORD), ("finance", "not the password")):
        with pytest.raises(errors.InvalidCredentials):
            service.login(login, password)
    assert len(world.identity.asked) == 2  # the unknown user was asked about too


def test_a_restricted_environment_refuses_password_login_and_revokes_the_tokens(
    world: World, service: Any
) -> None:
    account = _account(world, service)
    refresh_token = service.login("finance", PASSWORD).refresh_token
    world.restrict(environment_id=account.environment.id)
    world.identity.asked.clear()
    with pytest.raises(errors.LoginMethodNotAllowed) as refused:
        service.login("finance", PASSWORD)
    assert refused.value.details == [{"field": "login_url", "message": "/t/acme/login"}]
    # Refused before any password is checked, as the user pool's PreAuthentication does; what
    # the account had was revoked when the tenant was set up.
    assert world.identity.asked == []
    assert world.identity.signed_out == [account.user.id]
    assert refresh_token not in world.identity.refresh_tokens


def test_a_refresh_token_of_a_restricted_password_user_stops_working(world: World, service: Any) -> None:
    account = _account(world, service)
    refresh_token = service.login("finance", PASSWORD).refresh_token
    assert service.refresh(refresh_token).claims()["cognito:username"] == account.user.id
    world.restrict(environment_id=account.environment.id)
    world.identity.refresh_tokens[refresh_token] = (account.user.id, "api-client")  # not revoked after all
    with pytest.raises(errors.Unauthorized):
        service.refresh(refresh_token)
    with pytest.raises(errors.Unauthorized):
        service.refresh("never issued")


# --- The signed-in user -----------------------------------------------------------------------
def test_a_user_must_accept_new_terms_before_anything_else(world: World) -> None:
    account = _account(world, world.auth_service())
    newer = SETTINGS.model_copy(update={"terms": SETTINGS.terms.model_copy(update={"version": "2027-01"})})
    service = world.auth_service(newer)
    with pytest.raises(errors.TermsNotAccepted):
        service.current_user(account.user.id)
    assert service.current_user(account.user.id, require_current_terms=False).id == account.user.id
    with pytest.raises(errors.InvalidInput):
        service.accept_terms(account.user, CURRENT_TERMS_VERSION, REQUEST)
    service.accept_terms(account.user, "2027-01", REQUEST)
    assert service.current_user(account.user.id).terms.version == "2027-01"
    assert (account.user.id, "2027-01") in world.memory.terms_evidence


def test_a_token_without_an_account_is_401(service: Any) -> None:
    with pytest.raises(errors.Unauthorized):
        service.current_user("no-such-user")


def test_only_admins_are_asked_about_receiving(world: World, service: Any) -> None:
    from onboarding.domain.organisations import Address, Organisation, OrganisationStatus

    account = _account(world, service)
    moment = world.clock()
    world.memory.organisations["o1"] = Organisation(
        id="o1",
        environment_id=account.environment.id,
        name="Active BV",
        country="NL",
        address=Address(street="s", postal_code="p", city="c", country="NL"),
        status=OrganisationStatus.ACTIVE,
        created_at=moment,
        updated_at=moment,
    )
    _, asking = service.profile(account.user)
    assert [o.id for o in asking] == ["o1"]
    member = world.users.change_role(account.user.id, Role.MEMBER, world.clock())
    assert service.profile(member)[1] == []


def test_a_profile_change_is_stored(world: World, service: Any) -> None:
    account = _account(world, service)
    changed = service.update_profile(account.user, {"name": "Fien", "language": "en"})
    assert (changed.name, changed.language) == ("Fien", "en")
    assert service.update_profile(changed, {}) is changed
