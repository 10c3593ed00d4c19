"""Tenants restricted to their own IdP, over in-memory fakes: the rules of a tenant
(``onboarding.domain.tenancy``), setting one up and taking it down (the tenant provisioner's
logic), and every layer that keeps its people to its own IdP: PreSignUp, PreAuthentication,
PreTokenGeneration, the tenant's login route, password login, refresh, sign-up, activation and
the API's check on every request."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from onboarding.accounts import signed_in_user
from onboarding.domain import errors
from onboarding.domain.linking import EMAIL, EMAIL_VERIFIED, GOOGLE_HD, MS_EDOV, NAME
from onboarding.domain.models import Role
from onboarding.domain.ports import Tokens
from onboarding.domain.rules import CURRENT_TERMS_VERSION
from onboarding.domain.tenancy import (
    LoginRestriction,
    TenantDefinition,
    login_path,
    provider_name,
    slug_of_provider,
)
from tests.support.fakes import API_CLIENT
from tests.support.services import World
from tests.unit.test_auth_service import PASSWORD, REQUEST, _activate, _token

POOL = "eu-west-1_pool"


@pytest.fixture
def world() -> World:
    return World()


def _definition(**changes: Any) -> TenantDefinition:
    values: dict[str, Any] = {
        "slug": "acme",
        "name": "Acme B.V.",
        "provider_name": "tenant-acme",
        "client_id": "acme-client",
        "email_domains": ("acme.example",),
        "admins": ("it@acme.example",),
        **changes,
    }
    return TenantDefinition(**values)


def _manual_account(world: World, email: str, username: str = "finance") -> Any:
    service = world.auth_service()
    service.sign_up(email, "nl", REQUEST)
    return _activate(service, _token(world, email), username=username)


def _sign_in(world: World, username: str, **attributes: str) -> Any:
    return world.sign_ins().pre_sign_up(user_pool_id=POOL, username=username, attributes=attributes)


# --- The rules ----------------------------------------------------------------------------------
@pytest.mark.parametrize("slug", ["acme", "a", "acme-2", "x" * 25, "0106"])
def test_a_slug_is_a_short_lower_case_name(slug: str) -> None:
    assert _definition(slug=slug, provider_name=provider_name(slug)).slug == slug


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "Acme",
        "-acme",
        "acme-",
        "acme_corp",
        "x" * 26,
        "acme.nl",
        "google",
        "email",
        "\uff41\uff43\uff4d\uff45",
    ],
)
def test_a_bad_or_reserved_slug_is_refused(slug: str) -> None:
    with pytest.raises(ValidationError):
        _definition(slug=slug, provider_name=provider_name(slug))


def test_the_providers_name_carries_the_slug_and_fits_cognitos_limit() -> None:
    assert provider_name("acme") == "tenant-acme"
    assert len(provider_name("x" * 25)) == 32  # Cognito's maximum
    assert slug_of_provider("tenant-acme") == slug_of_provider("Tenant-acme") == "acme"
    assert slug_of_provider("Google") is None and slug_of_provider("tenant-") is None
    assert slug_of_provider("tenant-Bad_Slug") is None


@pytest.mark.parametrize(
    ("domains", "problem"),
    [
        (("gmail.com",), "free-mail"),
        (("outlook.com",), "free-mail"),
        (("privaterelay.appleid.com",), "free-mail"),
        (("acme",), "not a domain"),
        (("bücher.example",), "not a domain"),
        (("-acme.example",), "not a domain"),
        (("acme.example", "acme.example"), "twice"),
        (("127.0.0.1",), "not a domain"),
    ],
)
def test_a_tenants_domains_must_be_its_own(domains: tuple[str, ...], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        _definition(email_domains=domains, admins=(f"it@{domains[0]}",))


def test_domains_are_kept_in_their_canonical_form() -> None:
    tenant = _definition(
        email_domains=("ACME.example.", "xn--bcher-kva.example"), admins=("IT@acme.example",)
    )
    assert tenant.email_domains == ("acme.example", "xn--bcher-kva.example")
    assert tenant.admins == ("it@acme.example",)


def test_admins_must_have_an_address_the_tenants_idp_vouches_for() -> None:
    with pytest.raises(ValidationError, match=r"boss@gmail\.com"):
        _definition(admins=("it@acme.example", "boss@gmail.com"))


def test_the_provider_name_must_be_the_slugs() -> None:
    with pytest.raises(ValidationError, match="tenant-acme"):
        _definition(provider_name="tenant-globex")


def test_a_restriction_allows_only_its_own_client() -> None:
    restriction = LoginRestriction(tenant="acme", client_id="acme-client")
    assert restriction.allows("acme-client")
    assert (
        not restriction.allows("web-client") and not restriction.allows(None) and not restriction.allows("")
    )


# --- Setting a tenant up, taking it down ---------------------------------------------------------
def test_a_new_tenant_gets_an_environment_of_its_own_restricted_to_it(world: World) -> None:
    done = world.tenant_provisioning().set_up(_definition())
    environment = world.memory.environments[done.tenant.environment_id]
    assert done.created_environment and environment.name == "Acme B.V."
    assert environment.restricted_to_idp == "acme"
    assert world.memory.tenants["acme"] == done.tenant
    assert world.memory.domain_policies["acme.example"].provider_id == "acme"
    [mail] = world.mailer.to("it@acme.example")
    assert "https://app.example/t/acme/login" in mail.text and "Acme B.V." in mail.subject


def test_setting_up_restricts_the_environments_members_and_the_domains_accounts_and_signs_them_out(
    world: World,
) -> None:
    member = _manual_account(world, "boss@elsewhere.example", "boss")
    outsider = _manual_account(world, "bob@acme.example", "bob")  # an account in its own environment
    unrelated = _manual_account(world, "anna@other.example", "anna")
    done = world.tenant_provisioning().set_up(_definition(environment_id=member.environment.id))
    restriction = LoginRestriction(tenant="acme", client_id="acme-client")
    assert world.memory.users[member.user.id].login_restriction == restriction
    assert world.memory.users[outsider.user.id].login_restriction == restriction
    assert world.memory.users[unrelated.user.id].login_restriction is None
    assert sorted(world.identity.signed_out) == sorted([member.user.id, outsider.user.id])
    assert not done.created_environment and done.restricted == 2
    assert world.memory.environments[member.environment.id].restricted_to_idp == "acme"


def test_setting_up_again_changes_nothing(world: World) -> None:
    provisioning = world.tenant_provisioning()
    _manual_account(world, "bob@acme.example", "bob")
    provisioning.set_up(_definition())
    again = provisioning.set_up(_definition())
    assert again.restricted == 0 and not again.created_environment
    assert len(world.mailer.to("it@acme.example")) == 1  # the admins learn it once
    assert len(world.identity.signed_out) == 1


def test_an_existing_environment_that_does_not_exist_is_refused(world: World) -> None:
    with pytest.raises(errors.EnvironmentNotFound):
        world.tenant_provisioning().set_up(_definition(environment_id="00000000-0000-0000-0000-000000000000"))
    assert not world.memory.tenants and not world.memory.domain_policies


def test_a_domain_of_another_tenant_is_refused_and_nothing_changes(world: World) -> None:
    provisioning = world.tenant_provisioning()
    provisioning.set_up(_definition())
    globex = _definition(
        slug="globex",
        provider_name="tenant-globex",
        client_id="globex-client",
        email_domains=("globex.example", "acme.example"),
        admins=("it@globex.example",),
    )
    with pytest.raises(errors.DomainTaken) as taken:
        provisioning.set_up(globex)
    assert taken.value.domains == ["acme.example"]
    assert "globex" not in world.memory.tenants and "globex.example" not in world.memory.domain_policies


def test_a_tenant_keeps_its_environment(world: World) -> None:
    provisioning = world.tenant_provisioning()
    provisioning.set_up(_definition())
    other = _manual_account(world, "x@other.example", "other")
    with pytest.raises(errors.TenantMoved):
        provisioning.set_up(_definition(environment_id=other.environment.id))


def test_a_domain_given_back_frees_the_accounts_it_restricted_elsewhere(world: World) -> None:
    provisioning = world.tenant_provisioning()
    outsider = _manual_account(world, "bob@acme-group.example", "bob")
    first = _definition(email_domains=("acme.example", "acme-group.example"))
    provisioning.set_up(first)
    assert world.memory.users[outsider.user.id].login_restriction is not None
    done = provisioning.set_up(_definition())
    assert done.freed == 1 and world.memory.users[outsider.user.id].login_restriction is None
    assert "acme-group.example" not in world.memory.domain_policies


def test_taking_down_removes_the_way_in_and_loses_nothing(world: World) -> None:
    provisioning = world.tenant_provisioning()
    outsider = _manual_account(world, "bob@acme.example", "bob")  # restricted by its address
    tenant = provisioning.set_up(_definition()).tenant
    _sign_in(world, "tenant-acme_s1", **{EMAIL: "carol@acme.example"})
    assert provisioning.take_down("acme") == tenant
    assert "acme" not in world.memory.tenants and "acme.example" not in world.memory.domain_policies
    # The environment and its people stay, restricted: without the tenant's IdP nobody gets in.
    assert world.memory.environments[tenant.environment_id].restricted_to_idp == "acme"
    assert world.memory.users["tenant-acme_s1"].login_restriction is not None
    assert world.memory.users[outsider.user.id].login_restriction is None  # only its address was
    assert provisioning.take_down("acme") is None


# --- PreSignUp through a tenant's IdP ------------------------------------------------------------
def test_a_tenants_idp_creates_members_of_its_environment_restricted_to_its_client(world: World) -> None:
    tenant = world.restrict()
    _sign_in(world, "tenant-acme_s1", **{EMAIL: "Carol@Acme.example", NAME: "Carol"})
    carol = world.memory.users["tenant-acme_s1"]
    assert carol.environment_id == tenant.environment_id and carol.role is Role.MEMBER
    assert carol.login_restriction == tenant.restriction and carol.identities == ["acme"]
    assert carol.terms is None  # the terms come first, as for every federated first login
    assert world.memory.emails["carol@acme.example"].user_id == "tenant-acme_s1"


def test_the_tenants_first_admins_become_admins(world: World) -> None:
    world.restrict()
    _sign_in(world, "tenant-acme_s2", **{EMAIL: "it@acme.example"})
    assert world.memory.users["tenant-acme_s2"].role is Role.ADMIN


def test_a_tenants_idp_links_an_account_of_its_environment(world: World) -> None:
    member = _manual_account(world, "dave@acme.example", "dave")
    tenant = world.restrict(environment_id=member.environment.id)
    _sign_in(world, "tenant-acme_s3", **{EMAIL: "dave@acme.example"})
    assert world.links.links == {("tenant-acme", "s3"): member.user.id}
    assert world.memory.users[member.user.id].identities == ["email", "acme"]
    assert world.memory.users[member.user.id].login_restriction == tenant.restriction


@pytest.mark.parametrize(
    ("username", "attributes"),
    [
        ("tenant-acme_s4", {EMAIL: "ceo@bank.example"}),  # not the tenant's domain
        ("tenant-acme_s5", {EMAIL: ""}),  # no address at all
        ("Google_g1", {EMAIL: "eve@acme.example", EMAIL_VERIFIED: "true", GOOGLE_HD: "acme.example"}),
        ("Microsoft_m1", {EMAIL: "eve@acme.example", MS_EDOV: "true"}),
        ("SignInWithApple_a1", {EMAIL: "eve@acme.example", EMAIL_VERIFIED: "true"}),
        ("tenant-globex_x1", {EMAIL: "eve@acme.example"}),  # another tenant's IdP, this domain
        ("tenant-nobody_n1", {EMAIL: "eve@nobody.example"}),  # a tenant that is not set up
    ],
    ids=["foreign-domain", "no-address", "google", "microsoft", "apple", "other-tenant", "unknown-tenant"],
)
def test_no_other_way_into_a_tenants_domain_and_nothing_is_created(
    world: World, username: str, attributes: dict[str, str]
) -> None:
    world.restrict()
    world.restrict("globex", domains=("globex.example",), admins=("it@globex.example",))
    users, environments = dict(world.memory.users), dict(world.memory.environments)
    with pytest.raises(errors.SignInRefused):
        _sign_in(world, username, **attributes)
    assert world.memory.users == users and world.memory.environments == environments
    assert not world.memory.identities and not world.links.links


def test_a_tenants_idp_never_joins_an_account_of_another_environment(world: World) -> None:
    elsewhere = _manual_account(world, "frank@acme.example", "frank")  # before the restriction
    world.restrict()
    with pytest.raises(errors.SignInRefused):
        _sign_in(world, "tenant-acme_s6", **{EMAIL: "frank@acme.example"})
    assert world.memory.users[elsewhere.user.id].identities == ["email"]


def test_a_tenants_sign_in_reads_once(world: World) -> None:
    world.restrict()
    _sign_in(world, "tenant-acme_s7", **{EMAIL: "gina@acme.example"})
    assert world.identities.reads == 1  # identity, address, domain and tenant together


# --- PreAuthentication, PreTokenGeneration and the API's own check -------------------------------
def test_a_tenants_people_never_log_in_with_a_password(world: World) -> None:
    member = _manual_account(world, "dave@acme.example", "dave")
    world.sign_ins().before_password_login(member.user.id)  # before the restriction: fine
    world.restrict(environment_id=member.environment.id)
    with pytest.raises(errors.SignInRefused):
        world.sign_ins().before_password_login(member.user.id)
    world.sign_ins().before_password_login("someone-unknown")  # Cognito answers that one itself


def test_tokens_of_a_tenants_people_only_for_its_own_client(world: World) -> None:
    tenant = world.restrict()
    _sign_in(world, "tenant-acme_s1", **{EMAIL: "carol@acme.example"})
    world.sign_ins().before_tokens("tenant-acme_s1", tenant.client_id)
    for client in ("web-client", API_CLIENT, None):
        with pytest.raises(errors.SignInRefused):
            world.sign_ins().before_tokens("tenant-acme_s1", client)


def test_the_api_refuses_a_token_of_another_client_on_every_request(world: World) -> None:
    member = _manual_account(world, "dave@acme.example", "dave")
    before = signed_in_user(
        world.users, member.user.id, client_id=API_CLIENT, terms_version=CURRENT_TERMS_VERSION
    )
    assert before.id == member.user.id  # a token minted before the restriction ...
    tenant = world.restrict(environment_id=member.environment.id)
    with pytest.raises(errors.LoginMethodNotAllowed) as refused:  # ... stops working at once
        signed_in_user(world.users, member.user.id, client_id=API_CLIENT, terms_version=CURRENT_TERMS_VERSION)
    assert refused.value.details == [{"field": "login_url", "message": login_path("acme")}]
    through = signed_in_user(
        world.users, member.user.id, client_id=tenant.client_id, terms_version=CURRENT_TERMS_VERSION
    )
    assert through.id == member.user.id


# --- The tenant's login route ---------------------------------------------------------------------
BROWSER = "b" * 43


def test_a_tenants_login_goes_through_its_own_client_straight_to_its_idp(world: World) -> None:
    tenant = world.restrict()
    redirect = world.federated_login().start_tenant("acme", login_hint="carol@acme.example", browser=BROWSER)
    sent = world.hosted.last
    assert sent["provider"] == "tenant-acme" and sent["client_id"] == tenant.client_id
    assert sent["login_hint"] == "carol@acme.example" and redirect.browser == BROWSER
    [(attempt, _)] = world.memory.logins.values()
    assert attempt.provider == "acme" and attempt.client_id == tenant.client_id


@pytest.mark.parametrize("slug", ["globex", "ACME", "acme_x", "", "x" * 70])
def test_an_unknown_tenant_is_404(world: World, slug: str) -> None:
    world.restrict()
    with pytest.raises(errors.TenantNotFound):
        world.federated_login().start_tenant(slug, login_hint=None, browser=BROWSER)
    assert not world.memory.logins


def test_a_tenants_login_is_exchanged_and_verified_for_its_client_and_its_refresh_token_noted(
    world: World,
) -> None:
    tenant = world.restrict()
    world.federated_login().start_tenant("acme", login_hint=None, browser=BROWSER)
    world.hosted.tokens = Tokens("id-token", "access-token", "tenant-refresh", 3600)
    world.hosted.claims = {"cognito:username": "tenant-acme_s1", "nonce": world.hosted.last["nonce"]}
    redirect = world.federated_login().callback(
        state=world.hosted.last["state"], code="c", error=None, error_description="", browser=BROWSER
    )
    assert "#session=" in redirect.location
    assert world.hosted.exchanged_at == tenant.client_id and world.hosted.verified_for == tenant.client_id
    assert world.memory.refresh_clients == {"tenant-refresh": tenant.client_id}


def test_the_first_login_after_a_link_is_started_again_through_the_tenants_client(world: World) -> None:
    tenant = world.restrict()
    world.federated_login().start_tenant("acme", login_hint="s1", browser=BROWSER)
    again = world.federated_login().callback(
        state=world.hosted.last["state"],
        code=None,
        error="invalid_request",
        error_description="Already found an entry for username tenant-acme_s1",
        browser=BROWSER,
    )
    assert again.location.startswith("https://login.example/")
    assert world.hosted.last["client_id"] == tenant.client_id


# --- Password login, refresh, sign-up and activation ----------------------------------------------
def test_a_refresh_token_goes_to_the_client_that_issued_it(world: World) -> None:
    tenant = world.restrict()
    _sign_in(world, "tenant-acme_s1", **{EMAIL: "carol@acme.example"})
    issued = world.identity.issue("tenant-acme_s1", tenant.client_id)
    assert issued.refresh_token is not None
    world.logins.remember_client(issued.refresh_token, tenant.client_id, world.clock())
    refreshed = world.auth_service().refresh(issued.refresh_token)
    assert refreshed.claims()["aud"] == tenant.client_id


def test_a_refresh_token_of_another_client_stops_working_for_a_tenants_people(world: World) -> None:
    member = _manual_account(world, "dave@acme.example", "dave")
    service = world.auth_service()
    refresh_token = service.login("dave", PASSWORD).refresh_token
    world.restrict(environment_id=member.environment.id)
    world.identity.refresh_tokens[refresh_token] = (member.user.id, API_CLIENT)  # were it not revoked
    with pytest.raises(errors.InvalidRefreshToken):
        service.refresh(refresh_token)


def test_a_sign_up_in_a_tenants_domain_mails_its_login_url_and_keeps_no_token(world: World) -> None:
    world.restrict()
    service = world.auth_service()
    service.sign_up(" Carol@Acme.example ", "en", REQUEST)
    [mail] = world.mailer.to("Carol@Acme.example")
    assert "https://app.example/t/acme/login" in mail.text and "#token=" not in mail.text
    assert "carol@acme.example" not in world.memory.signups


def test_a_sign_up_answers_the_same_in_a_tenants_domain(world: World) -> None:
    world.restrict()
    service = world.auth_service()
    assert service.sign_up("carol@acme.example", "nl", REQUEST) == service.sign_up(
        "x@example.nl", "nl", REQUEST
    )


def test_an_activation_link_from_before_the_restriction_makes_no_account(world: World) -> None:
    service = world.auth_service()
    service.sign_up("carol@acme.example", "nl", REQUEST)
    token = _token(world, "carol@acme.example")
    world.restrict()
    with pytest.raises(errors.LoginMethodNotAllowed):
        service.check_activation(token)
    with pytest.raises(errors.LoginMethodNotAllowed):
        _activate(service, token, username="carol")
    assert not [u for u in world.memory.users.values() if u.email_canonical == "carol@acme.example"]


# --- What a review found -------------------------------------------------------------------------
def test_an_environment_another_tenant_restricts_is_refused(world: World) -> None:
    member = _manual_account(world, "boss@acme.example", "boss")
    world.restrict(environment_id=member.environment.id)
    copied = _definition(
        slug="globex",
        provider_name="tenant-globex",
        client_id="globex-client",
        email_domains=("globex.example",),
        admins=("it@globex.example",),
        environment_id=member.environment.id,  # a tenant file copied with its environment
    )
    with pytest.raises(errors.EnvironmentTaken, match="acme"):
        world.tenant_provisioning().set_up(copied)
    assert world.memory.users[member.user.id].login_restriction == LoginRestriction(
        tenant="acme", client_id="acme-client"
    )


def test_the_environment_of_a_tenant_that_is_gone_may_be_restricted_anew(world: World) -> None:
    member = _manual_account(world, "boss@acme.example", "boss")
    provisioning = world.tenant_provisioning()
    provisioning.set_up(_definition(environment_id=member.environment.id))
    provisioning.take_down("acme")
    again = _definition(
        slug="acme2",
        provider_name="tenant-acme2",
        client_id="acme2-client",
        environment_id=member.environment.id,
    )
    assert provisioning.set_up(again).tenant.environment_id == member.environment.id
    assert world.memory.users[member.user.id].login_restriction.tenant == "acme2"  # type: ignore[union-attr]


def test_only_the_resource_that_manages_a_tenant_takes_it_down(world: World) -> None:
    provisioning = world.tenant_provisioning()
    provisioning.set_up(_definition(), managed_by="stack|LoginPolicyNew")
    assert provisioning.take_down("acme", managed_by="stack|LoginPolicyOld") is None
    assert "acme" in world.memory.tenants
    assert provisioning.take_down("acme", managed_by="stack|LoginPolicyNew") is not None


def test_the_domain_owner_decides_even_for_an_account_without_its_restriction(world: World) -> None:
    elsewhere = _manual_account(world, "bob@acme.example", "bob")
    tenant = world.restrict()
    # Say the account was never restricted (written before, or while the tenant was set up).
    world.users.restrict_login(elsewhere.user.id, None, world.clock())
    with pytest.raises(errors.LoginMethodNotAllowed):
        signed_in_user(
            world.users,
            elsewhere.user.id,
            client_id=API_CLIENT,
            email="bob@acme.example",
            terms_version=CURRENT_TERMS_VERSION,
        )
    with pytest.raises(errors.SignInRefused):
        world.sign_ins().before_password_login(elsewhere.user.id, "bob@acme.example")
    with pytest.raises(errors.SignInRefused):
        world.sign_ins().before_tokens(elsewhere.user.id, "web-client", "bob@acme.example")
    with pytest.raises(errors.LoginMethodNotAllowed):
        world.auth_service().login("BOB@acme.example", PASSWORD)
    assert tenant.slug in world.memory.tenants


def test_every_address_of_a_tenants_domain_gets_the_same_answer_at_password_login(world: World) -> None:
    _manual_account(world, "bob@acme.example", "bob")
    world.restrict()
    service = world.auth_service()
    answers = []
    for address in ("bob@acme.example", "nobody@acme.example"):
        with pytest.raises(errors.LoginMethodNotAllowed) as refused:
            service.login(address, "any password at all")
        answers.append((refused.value.code, refused.value.details))
    assert answers[0] == answers[1]  # no telling which addresses have an account
    assert world.identity.asked == []


def test_a_tenants_client_gets_tokens_only_for_its_people(world: World) -> None:
    tenant = world.restrict()
    outsider = _manual_account(world, "anna@example.nl", "anna")
    with pytest.raises(errors.SignInRefused):
        world.sign_ins().before_tokens(outsider.user.id, tenant.client_id, "anna@example.nl")
    with pytest.raises(errors.LoginMethodNotAllowed):
        signed_in_user(
            world.users,
            outsider.user.id,
            client_id=tenant.client_id,
            email="anna@example.nl",
            terms_version=CURRENT_TERMS_VERSION,
        )
    world.sign_ins().before_tokens(outsider.user.id, API_CLIENT, "anna@example.nl")


def test_an_accounts_own_environments_tenant_comes_before_a_domain_owner(world: World) -> None:
    member = _manual_account(world, "x@acme.example", "x")  # an address of acme's, in globex's environment
    globex = world.restrict(
        "globex",
        domains=("globex.example",),
        admins=("it@globex.example",),
        environment_id=member.environment.id,
    )
    provisioning = world.tenant_provisioning()
    provisioning.set_up(_definition())  # acme restricts its domains
    assert world.memory.users[member.user.id].login_restriction == globex.restriction
    provisioning.take_down("acme")
    assert world.memory.users[member.user.id].login_restriction == globex.restriction


def test_a_link_made_before_the_restriction_is_not_made_again(world: World) -> None:
    dave = _manual_account(world, "dave@acme.example", "dave")
    google = {EMAIL: "dave@acme.example", EMAIL_VERIFIED: "true", GOOGLE_HD: "acme.example"}
    _sign_in(world, "Google_g1", **google)
    assert world.links.links == {("Google", "g1"): dave.user.id}
    world.restrict(environment_id=dave.environment.id)
    world.links.links.clear()  # an operator undid the link in the user pool
    with pytest.raises(errors.SignInRefused):
        _sign_in(world, "Google_g1", **google)  # Cognito sees a first sign-in again
    assert world.links.links == {}
