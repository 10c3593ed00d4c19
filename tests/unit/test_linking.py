"""The linking rule (``onboarding.domain.linking``): the issue's table, case by case, plus the
rules around it (canonical addresses, claim types, tenant IdPs)."""

from __future__ import annotations

from typing import Any

import pytest

from onboarding.domain.linking import (
    APPLE,
    APPLE_PRIVATE,
    EMAIL,
    EMAIL_VERIFIED,
    GOOGLE,
    GOOGLE_HD,
    MICROSOFT,
    MS_EDOV,
    DomainPolicy,
    ExistingAccount,
    FederatedSignIn,
    Outcome,
    Provider,
    account_id,
    decide,
    parse_username,
    tenant_provider,
    trust,
)
from onboarding.domain.tenancy import TenantLogin

ACCOUNT = ExistingAccount(user_id="u-1", environment_id="env-1")


def sign_in(provider: Provider, email: str, **attributes: str) -> FederatedSignIn:
    return FederatedSignIn(provider, "subject-1", {EMAIL: email, **attributes})


# The table: provider, email claims, account with that email, outcome.
TABLE: list[tuple[str, FederatedSignIn, ExistingAccount | None, Outcome]] = [
    (
        "google gmail verified",
        sign_in(GOOGLE, "anna@gmail.com", **{EMAIL_VERIFIED: "true"}),
        ACCOUNT,
        Outcome.LINK,
    ),
    (
        "google hd equals the domain",
        sign_in(GOOGLE, "anna@example.nl", **{EMAIL_VERIFIED: "true", GOOGLE_HD: "example.nl"}),
        ACCOUNT,
        Outcome.LINK,
    ),
    (
        "google other domain, no hd",
        sign_in(GOOGLE, "anna@example.nl", **{EMAIL_VERIFIED: "true"}),
        ACCOUNT,
        Outcome.SEPARATE_ACCOUNT,
    ),
    (
        "google not verified",
        sign_in(GOOGLE, "anna@gmail.com", **{EMAIL_VERIFIED: "false"}),
        ACCOUNT,
        Outcome.SEPARATE_ACCOUNT,
    ),
    (
        "apple email_verified the string true",
        sign_in(APPLE, "anna@icloud.com", **{EMAIL_VERIFIED: "true"}),
        ACCOUNT,
        Outcome.LINK,
    ),
    (
        "apple private relay, no account",
        sign_in(APPLE, "x1y2@privaterelay.appleid.com", **{EMAIL_VERIFIED: "true", APPLE_PRIVATE: "true"}),
        None,
        Outcome.NEW_ACCOUNT,
    ),
    (
        "microsoft without xms_edov (nOAuth)",
        sign_in(MICROSOFT, "anna@example.nl"),
        ACCOUNT,
        Outcome.SEPARATE_ACCOUNT,
    ),
    (
        "microsoft xms_edov true",
        sign_in(MICROSOFT, "anna@example.nl", **{MS_EDOV: "true"}),
        ACCOUNT,
        Outcome.LINK,
    ),
    (
        "the address in another case and with spaces",
        sign_in(GOOGLE, "  Anna@GMAIL.com ", **{EMAIL_VERIFIED: "true"}),
        ACCOUNT,
        Outcome.LINK,
    ),
    (
        "verified, no account: a new account",
        sign_in(GOOGLE, "anna@gmail.com", **{EMAIL_VERIFIED: "true"}),
        None,
        Outcome.NEW_ACCOUNT,
    ),
]


@pytest.mark.parametrize(("case", "given", "existing", "outcome"), TABLE, ids=[row[0] for row in TABLE])
def test_the_linking_table(
    case: str, given: FederatedSignIn, existing: ExistingAccount | None, outcome: Outcome
) -> None:
    decision = decide(given, existing)
    assert decision.outcome is outcome
    assert decision.account == (existing if outcome is Outcome.LINK else None)


def test_a_new_account_holds_its_address_only_when_the_provider_vouched_for_it() -> None:
    vouched = decide(sign_in(GOOGLE, "anna@gmail.com", **{EMAIL_VERIFIED: "true"}), None)
    unverified = decide(sign_in(MICROSOFT, "ceo@example.nl"), None)  # anyone's Entra tenant can claim this
    assert vouched.claims_email and not unverified.claims_email
    assert vouched.environment_id is None  # its own new environment


def test_the_canonical_address_is_trimmed_and_lower_cased() -> None:
    given = sign_in(GOOGLE, "  Anna@Example.NL ", **{EMAIL_VERIFIED: "true", GOOGLE_HD: "EXAMPLE.nl"})
    assert given.email == "Anna@Example.NL" and given.email_canonical == "anna@example.nl"
    assert trust(given).vouched  # hd compares canonically too


@pytest.mark.parametrize("value", ["true", "True", "1", " true "])
def test_xms_edov_is_accepted_as_the_values_entra_sends(value: str) -> None:
    assert decide(sign_in(MICROSOFT, "anna@example.nl", **{MS_EDOV: value}), ACCOUNT).outcome is Outcome.LINK


@pytest.mark.parametrize("value", ["false", "0", "", "yes"])
def test_anything_else_for_xms_edov_is_no(value: str) -> None:
    assert (
        decide(sign_in(MICROSOFT, "anna@example.nl", **{MS_EDOV: value}), ACCOUNT).outcome
        is Outcome.SEPARATE_ACCOUNT
    )


def test_google_hd_of_another_domain_does_not_vouch() -> None:
    given = sign_in(GOOGLE, "ceo@bank.example", **{EMAIL_VERIFIED: "true", GOOGLE_HD: "attacker.example"})
    assert decide(given, ACCOUNT).outcome is Outcome.SEPARATE_ACCOUNT


def test_an_apple_relay_address_never_links_even_if_an_account_has_it() -> None:
    by_flag = sign_in(APPLE, "x@icloud.com", **{EMAIL_VERIFIED: "true", APPLE_PRIVATE: "true"})
    by_domain = sign_in(APPLE, "x@privaterelay.appleid.com", **{EMAIL_VERIFIED: "true"})
    assert decide(by_flag, ACCOUNT).outcome is decide(by_domain, ACCOUNT).outcome is Outcome.SEPARATE_ACCOUNT


def test_apple_unverified_does_not_link() -> None:
    assert decide(sign_in(APPLE, "anna@icloud.com"), ACCOUNT).outcome is Outcome.SEPARATE_ACCOUNT


@pytest.mark.parametrize("email", ["", "   ", "no-at-sign", "two words@example.nl", "a@nodot"])
def test_without_a_usable_address_there_is_no_link_and_no_claim(email: str) -> None:
    decision = decide(sign_in(GOOGLE, email, **{EMAIL_VERIFIED: "true"}), ACCOUNT)
    assert decision.outcome in {Outcome.SEPARATE_ACCOUNT, Outcome.NEW_ACCOUNT} and not decision.claims_email


# --- Tenants' own IdPs (decided with the same rule) ----------------------------------------------
ACME = tenant_provider(
    TenantLogin(
        slug="acme",
        name="Acme",
        environment_id="env-acme",
        provider_name="tenant-acme",
        client_id="acme-client",
        email_domains=frozenset({"acme.example"}),
        admins=frozenset({"it@acme.example"}),
    )
)


def test_a_tenant_idp_creates_members_of_its_own_environment() -> None:
    decision = decide(sign_in(ACME, "bob@acme.example"), None)
    assert (
        decision.outcome is Outcome.NEW_ACCOUNT
        and decision.environment_id == "env-acme"
        and decision.claims_email
    )


def test_a_tenant_idp_links_within_its_environment() -> None:
    mine = ExistingAccount("u-bob", "env-acme")
    assert decide(sign_in(ACME, "bob@acme.example"), mine).outcome is Outcome.LINK


def test_a_tenant_idp_never_links_into_another_tenants_account() -> None:
    assert decide(sign_in(ACME, "bob@acme.example"), ACCOUNT).outcome is Outcome.REFUSE


def test_a_tenant_idp_cannot_vouch_for_another_domain() -> None:
    assert decide(sign_in(ACME, "ceo@bank.example"), None).outcome is Outcome.REFUSE
    assert decide(sign_in(ACME, "ceo@bank.example"), ACCOUNT).outcome is Outcome.REFUSE


@pytest.mark.parametrize(
    "given",
    [
        sign_in(GOOGLE, "bob@acme.example", **{EMAIL_VERIFIED: "true", GOOGLE_HD: "acme.example"}),
        sign_in(MICROSOFT, "bob@acme.example", **{MS_EDOV: "true"}),
        sign_in(APPLE, "bob@acme.example", **{EMAIL_VERIFIED: "true"}),
    ],
    ids=["google", "microsoft", "apple"],
)
def test_a_restricted_domain_is_refused_through_every_other_provider(given: FederatedSignIn) -> None:
    policy = DomainPolicy(environment_id="env-acme", provider_id="acme")
    assert decide(given, None, policy).outcome is Outcome.REFUSE
    assert decide(sign_in(ACME, "bob@acme.example"), None, policy).outcome is Outcome.NEW_ACCOUNT


# --- User names ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("Google_110169484474386276334", ("google", "110169484474386276334")),
        ("google_110169484474386276334", ("google", "110169484474386276334")),  # seen lower-cased
        ("SignInWithApple_001234.abc_def", ("apple", "001234.abc_def")),  # split once only
        (
            "Microsoft_72f988bf-86f1-41af-91ab-2d7cd011db47.11111111",
            ("microsoft", "72f988bf-86f1-41af-91ab-2d7cd011db47.11111111"),
        ),
        ("6d0932b3-67f1-45e2-87cb-487f6b21e43b", None),  # a manual account
        ("Facebook_123", None),  # not a provider of this platform
        ("Google_", None),
    ],
)
def test_federated_user_names(username: str, expected: Any) -> None:
    parsed = parse_username(username)
    assert (parsed[0].id, parsed[1]) == expected if parsed else expected is None


def test_a_federated_account_is_its_user_name_lower_cased() -> None:
    assert account_id("Google_123") == account_id("google_123") == "google_123"
