"""Tenants restricted to their own IdP, through the real handlers and adapters against the
emulator: the tenant provisioner driven with CloudFormation's custom resource requests (its
answers caught at a response URL), the user pool's triggers with Cognito's event shapes (and
their DynamoDB budget), the tenant's login route, and the API's check on every request."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from infra.local.aws_calls import count_aws_calls
from infra.local.events import pre_authentication_event, pre_sign_up_event, pre_token_generation_event
from onboarding.domain.linking import EMAIL, EMAIL_VERIFIED, GOOGLE_HD, SIGN_IN_REFUSED
from tests.support.events import body_of, header, trigger
from tests.support.flows import PASSWORD, call, login, mails_to, new_account, outbox
from tests.support.tenants import ResponseUrl, definition, provision, set_up


def _claims(username: str, client_id: str) -> dict[str, str]:
    return {"cognito:username": username, "token_use": "id", "aud": client_id}


def _first_sign_in(resources: Any, username: str, client_id: str, **attributes: str) -> dict[str, Any]:
    event = pre_sign_up_event(
        user_pool_id=resources.user_pool_id,
        username=username,
        client_id=client_id,
        user_attributes=attributes,
    )
    return trigger(event)


def _get_tenant(slug: str) -> Any:
    from onboarding.adapters.dynamo import Table
    from onboarding.adapters.repositories.tenants import TenantRepository
    from onboarding.settings import get_settings

    return TenantRepository(Table(get_settings().table.name)).get(slug)


# --- The tenant provisioner (CloudFormation's custom resource) ------------------------------------
def test_a_tenant_is_set_up_and_taken_down_as_its_stack_is(
    local_aws: Any, cloudformation: ResponseUrl
) -> None:
    tenant = definition()
    answer = set_up(cloudformation, tenant)
    assert answer["PhysicalResourceId"] == tenant.slug
    assert answer["Data"]["LoginPath"] == f"/t/{tenant.slug}/login"
    assert cloudformation.content_types[-1] in (None, "")  # the URL is pre-signed without one
    environment_id = answer["Data"]["EnvironmentId"]
    stored = _get_tenant(tenant.slug)
    assert stored.environment_id == environment_id and stored.client_id == tenant.client_id
    [mail] = mails_to(local_aws, tenant.admins[0])
    assert f"https://app.test.example/t/{tenant.slug}/login" in mail["text"]

    again = provision(cloudformation, "Update", tenant, physical_id=tenant.slug, old=tenant)
    assert again["Status"] == "SUCCESS" and again["Data"]["EnvironmentId"] == environment_id
    gone = provision(cloudformation, "Delete", tenant, physical_id=tenant.slug)
    assert gone["Status"] == "SUCCESS" and _get_tenant(tenant.slug) is None
    started = call("GET", f"/t/{tenant.slug}/login")
    assert started["statusCode"] == 404 and body_of(started)["error"]["code"] == "tenant_not_found"


def test_a_domain_of_another_tenant_fails_the_stack_with_a_clear_reason(
    local_aws: Any, cloudformation: ResponseUrl
) -> None:
    first = set_up(cloudformation, definition())
    owned = _get_tenant(first["PhysicalResourceId"]).email_domains
    rival = definition(domains=(*owned, "rival.example"))
    answer = provision(cloudformation, "Create", rival)
    assert answer["Status"] == "FAILED" and sorted(owned)[0] in answer["Reason"]
    assert answer["PhysicalResourceId"].startswith("not-created:")
    assert _get_tenant(rival.slug) is None
    # CloudFormation rolls back: the Delete of what was never made changes nothing.
    rollback = provision(cloudformation, "Delete", rival, physical_id=answer["PhysicalResourceId"])
    assert rollback["Status"] == "SUCCESS"
    assert _get_tenant(first["PhysicalResourceId"]).email_domains == owned


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({"slug": "Bad_Slug", "name": "X"}, "slug"),
        ({"email_domains": ["gmail.com"]}, "free-mail"),
        ({"admins": ["boss@elsewhere.example"]}, "boss@elsewhere.example"),
        ({"environment_id": "00000000-0000-0000-0000-000000000000"}, "environment"),
    ],
    ids=["slug", "free-mail", "admin-outside", "unknown-environment"],
)
def test_a_bad_tenant_fails_with_the_reason_and_makes_nothing(
    local_aws: Any, cloudformation: ResponseUrl, properties: dict[str, Any], reason: str
) -> None:
    tenant = definition().model_dump(mode="json", exclude_none=True)
    answer = provision(cloudformation, "Create", {**tenant, **properties})
    assert answer["Status"] == "FAILED" and reason in answer["Reason"].lower()
    assert _get_tenant(tenant["slug"]) is None


def test_a_tenants_slug_cannot_change_in_an_update(local_aws: Any, cloudformation: ResponseUrl) -> None:
    tenant = definition()
    set_up(cloudformation, tenant)
    renamed = definition()
    answer = provision(cloudformation, "Update", renamed, physical_id=tenant.slug, old=tenant)
    assert answer["Status"] == "FAILED" and answer["PhysicalResourceId"] == tenant.slug


# --- The triggers ---------------------------------------------------------------------------------
def test_a_tenants_idp_creates_its_people_in_its_environment_within_two_dynamodb_calls(
    local_aws: Any, cloudformation: ResponseUrl
) -> None:
    tenant = definition()
    environment_id = set_up(cloudformation, tenant)["Data"]["EnvironmentId"]
    username = f"{tenant.provider_name}_{uuid.uuid4().hex}"
    with count_aws_calls() as log:
        _first_sign_in(local_aws, username, tenant.client_id, **{EMAIL: f"carol@{tenant.email_domains[0]}"})
    assert log.by_operation() == {"dynamodb.TransactGetItems": 1, "dynamodb.TransactWriteItems": 1}
    me = call("GET", "/me", claims=_claims(username, tenant.client_id))
    assert me["statusCode"] == 200, me
    assert body_of(me)["environment"] == {"id": environment_id, "name": tenant.name, "role": "member"}
    assert body_of(me)["identities"] == [{"provider": tenant.slug}]


def test_no_other_way_into_a_tenants_domain(local_aws: Any, cloudformation: ResponseUrl) -> None:
    tenant = definition()
    set_up(cloudformation, tenant)
    other = definition()
    set_up(cloudformation, other)
    domain = tenant.email_domains[0]
    google = {EMAIL: f"eve@{domain}", EMAIL_VERIFIED: "true", GOOGLE_HD: domain}
    for username, attributes in (
        (f"Google_{uuid.uuid4().int}", google),
        (f"{other.provider_name}_{uuid.uuid4().hex}", {EMAIL: f"eve@{domain}"}),  # another tenant's IdP
        (f"{tenant.provider_name}_{uuid.uuid4().hex}", {EMAIL: "eve@bank.example"}),  # not its domain
    ):
        with pytest.raises(Exception, match=SIGN_IN_REFUSED):
            _first_sign_in(local_aws, username, local_aws.web_client_id, **attributes)
        refused = call("GET", "/me", claims=_claims(username, local_aws.web_client_id))
        assert refused["statusCode"] == 401  # no account was made


def test_password_login_and_tokens_of_other_clients_are_refused_by_the_triggers(
    local_aws: Any, cloudformation: ResponseUrl, email: str
) -> None:
    account = new_account(local_aws, email)
    tenant = definition()
    event = pre_authentication_event(
        user_pool_id=local_aws.user_pool_id,
        username=account["user"]["id"],
        client_id=local_aws.api_client_id,
        user_attributes={"email": email},
    )
    assert trigger(event) == event  # before the restriction
    set_up(cloudformation, definition(slug=tenant.slug, environment_id=account["environment"]["id"]))
    with count_aws_calls() as log, pytest.raises(Exception, match=SIGN_IN_REFUSED):
        trigger(event)
    assert log.by_operation() == {"dynamodb.TransactGetItems": 1}
    for client_id in (local_aws.api_client_id, local_aws.web_client_id):
        tokens = pre_token_generation_event(
            user_pool_id=local_aws.user_pool_id,
            username=account["user"]["id"],
            client_id=client_id,
            user_attributes={"email": email},
            trigger_source="TokenGeneration_RefreshTokens",
        )
        with pytest.raises(Exception, match=SIGN_IN_REFUSED):
            trigger(tokens)
    tokens["callerContext"]["clientId"] = tenant.client_id
    assert trigger(tokens) == tokens


# --- The API ----------------------------------------------------------------------------------------
def test_a_token_minted_before_the_restriction_stops_working_on_every_route(
    local_aws: Any, cloudformation: ResponseUrl, email: str
) -> None:
    account = new_account(local_aws, email)
    tokens = login(account["user"]["username"])
    claims = _claims(account["user"]["id"], local_aws.api_client_id)
    assert call("GET", "/environment", claims=claims)["statusCode"] == 200
    tenant = definition(environment_id=account["environment"]["id"])
    set_up(cloudformation, tenant)
    for method, path in (("GET", "/me"), ("GET", "/environment"), ("GET", "/organisations")):
        refused = call(method, path, claims=claims)
        assert refused["statusCode"] == 403, (path, refused)
        assert body_of(refused)["error"]["code"] == "login_method_not_allowed"
    environment = call("GET", "/environment", claims=_claims(account["user"]["id"], tenant.client_id))
    assert body_of(environment)["login_policy"] == {"restricted_to_idp": tenant.slug}
    refresh = call("POST", "/auth/token/refresh", body={"refresh_token": tokens["refresh_token"]})
    assert refresh["statusCode"] == 401  # revoked when the tenant was set up
    password = call("POST", "/auth/token", body={"username": email, "password": PASSWORD})
    assert password["statusCode"] == 403
    assert body_of(password)["error"]["details"] == [
        {"field": "login_url", "message": f"/t/{tenant.slug}/login"}
    ]


def test_a_tenants_login_goes_to_its_idp_through_its_own_client(
    local_aws: Any, cloudformation: ResponseUrl
) -> None:
    tenant = definition()
    set_up(cloudformation, tenant)
    started = call("GET", f"/t/{tenant.slug}/login", query={"login_hint": "carol"})
    assert started["statusCode"] == 302, started
    location = urlsplit(header(started, "Location") or "")
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["client_id"] == tenant.client_id and query["identity_provider"] == tenant.provider_name
    assert query["code_challenge_method"] == "S256" and query["login_hint"] == "carol"
    assert {"state", "nonce", "code_challenge"} <= set(query)
    assert "login_browser=" in (header(started, "Set-Cookie") or "")
    for unknown in ("nobody-here", "Bad_Slug", tenant.slug.upper()):
        missing = call("GET", f"/t/{unknown}/login")
        assert missing["statusCode"] == 404 and body_of(missing)["error"]["code"] == "tenant_not_found"


def test_a_sign_up_in_a_tenants_domain_answers_as_always_and_mails_its_login_url(
    local_aws: Any, cloudformation: ResponseUrl
) -> None:
    tenant = definition()
    set_up(cloudformation, tenant)
    address = f"new.person@{tenant.email_domains[0]}"
    before = len(outbox(local_aws))
    restricted = call("POST", "/auth/signup", body={"email": address})
    ordinary = call("POST", "/auth/signup", body={"email": f"someone-{uuid.uuid4().hex[:6]}@example.nl"})
    assert restricted["statusCode"] == ordinary["statusCode"] == 202
    assert body_of(restricted) == body_of(ordinary)
    [mail] = mails_to(local_aws, address)
    assert f"/t/{tenant.slug}/login" in mail["text"] and "#token=" not in mail["text"]
    assert len(outbox(local_aws)) == before + 2


# --- Taking down, rolling back, and the domain owner at every check -------------------------------
def _user(user_id: str) -> Any:
    from onboarding.adapters.dynamo import Table
    from onboarding.adapters.repositories.users import UserRepository
    from onboarding.settings import get_settings

    return UserRepository(Table(get_settings().table.name)).get(user_id)


def test_taking_a_tenant_down_frees_the_accounts_only_its_domain_restricted(
    local_aws: Any, cloudformation: ResponseUrl
) -> None:
    tenant = definition()
    outsider = new_account(local_aws, f"bob@{tenant.email_domains[0]}")  # before the tenant came
    set_up(cloudformation, tenant)
    assert _user(outsider["user"]["id"]).login_restriction is not None
    answer = provision(cloudformation, "Delete", tenant, physical_id=tenant.slug)
    assert answer["Status"] == "SUCCESS", answer
    assert _user(outsider["user"]["id"]).login_restriction is None
    assert (
        call("POST", "/auth/token", body={"username": outsider["user"]["username"], "password": PASSWORD})[
            "statusCode"
        ]
        == 200
    )


def test_a_domain_given_back_in_an_update_frees_its_accounts(
    local_aws: Any, cloudformation: ResponseUrl
) -> None:
    tenant = definition()
    wider = definition(slug=tenant.slug, domains=(*tenant.email_domains, f"more-{tenant.slug}.example"))
    outsider = new_account(local_aws, f"bob@more-{tenant.slug}.example")
    set_up(cloudformation, wider)
    assert _user(outsider["user"]["id"]).login_restriction is not None
    answer = provision(cloudformation, "Update", tenant, physical_id=tenant.slug, old=wider)
    assert answer["Status"] == "SUCCESS", answer
    assert _user(outsider["user"]["id"]).login_restriction is None
    assert (
        call("POST", "/auth/signup", body={"email": f"new@more-{tenant.slug}.example"})["statusCode"] == 202
    )
    assert (
        "#token=" in mails_to(local_aws, f"new@more-{tenant.slug}.example")[-1]["text"]
    )  # an ordinary sign-up


def test_a_failed_update_rolls_back_cleanly(local_aws: Any, cloudformation: ResponseUrl) -> None:
    first, second = definition(), definition()
    set_up(cloudformation, first)
    set_up(cloudformation, second)
    grabbing = definition(slug=second.slug, domains=(*second.email_domains, *first.email_domains))
    failed = provision(cloudformation, "Update", grabbing, physical_id=second.slug, old=second)
    assert failed["Status"] == "FAILED" and first.email_domains[0] in failed["Reason"]
    # CloudFormation rolls back: an Update back to the old properties, with the failed ones as old.
    rollback = provision(cloudformation, "Update", second, physical_id=second.slug, old=grabbing)
    assert rollback["Status"] == "SUCCESS", rollback
    assert _get_tenant(first.slug).email_domains == frozenset(first.email_domains)


def test_a_set_up_that_fails_half_way_is_taken_down_by_the_rollback(
    local_aws: Any, cloudformation: ResponseUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auth_api.provisioner import provisioning

    def throttled(*args: Any) -> int:
        raise RuntimeError("ThrottlingException")

    tenant = definition()
    monkeypatch.setattr(provisioning(), "_restrict", throttled)
    answer = provision(cloudformation, "Create", tenant)
    assert answer["Status"] == "FAILED" and answer["PhysicalResourceId"] == tenant.slug
    assert "log" in answer["Reason"] and "Throttling" not in answer["Reason"]
    monkeypatch.undo()
    rollback = provision(cloudformation, "Delete", tenant, physical_id=answer["PhysicalResourceId"])
    assert rollback["Status"] == "SUCCESS" and _get_tenant(tenant.slug) is None
    assert call("GET", f"/t/{tenant.slug}/login")["statusCode"] == 404


def test_a_tenant_file_copied_with_another_tenants_environment_fails(
    local_aws: Any, cloudformation: ResponseUrl, email: str
) -> None:
    account = new_account(local_aws, email)
    owner = definition(environment_id=account["environment"]["id"])
    set_up(cloudformation, owner)
    copied = definition(environment_id=account["environment"]["id"])
    answer = provision(cloudformation, "Create", copied)
    assert answer["Status"] == "FAILED" and owner.slug in answer["Reason"]
    assert _get_tenant(copied.slug) is None


def test_the_domain_owner_is_checked_on_every_request_even_for_an_unmarked_account(
    local_aws: Any, cloudformation: ResponseUrl
) -> None:
    tenant = definition()
    outsider = new_account(local_aws, f"bob@{tenant.email_domains[0]}")
    set_up(cloudformation, tenant)
    from onboarding.adapters.dynamo import Table
    from onboarding.adapters.repositories.users import UserRepository
    from onboarding.domain.rules import now
    from onboarding.settings import get_settings

    # Say the account was never marked (written while the tenant was set up).
    UserRepository(Table(get_settings().table.name)).restrict_login(outsider["user"]["id"], None, now())
    claims = {
        **_claims(outsider["user"]["id"], local_aws.api_client_id),
        "email": f"bob@{tenant.email_domains[0]}",
    }
    with count_aws_calls() as log:
        refused = call("GET", "/me", claims=claims)
    assert refused["statusCode"] == 403 and body_of(refused)["error"]["code"] == "login_method_not_allowed"
    assert log.by_operation() == {"dynamodb.TransactGetItems": 1}  # still one round trip
