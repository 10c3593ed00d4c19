"""Federated sign-in: the identity providers and the one rule that decides, at a first sign-in
through a provider, whether the new identity joins an existing account, gets an account of
its own, or is refused. Pure: the trigger reads what the rule needs and does what it decides.

The rule (reference: nOAuth and the providers' own guidance):
- a provider vouches for an address only where it is *authoritative* for that verified
  address: Google for ``@gmail.com`` or for an address in the Workspace domain of the token's
  ``hd``; Microsoft (Entra ID) only with ``xms_edov`` (the domain owner verified the address);
  Apple when ``email_verified`` is true (a string "true" or a boolean), except that a private
  relay address never links; a tenant's own IdP only for that tenant's email domains;
- only a vouched-for address may join an existing account with that address (a link), or be
  claimed for a new account; otherwise the identity gets a separate account of its own;
- an identity never joins an account of another tenant: a tenant's IdP only links or creates
  within its tenant's environment, and an address in a domain that a tenant restricts to its
  own IdP is refused through every other provider.
Values arrive as Cognito passes mapped attributes: strings (``"true"``, not ``True``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from onboarding.domain.rules import NAME_MAX_LENGTH, canonical_email, plain_text
from onboarding.domain.tenancy import LoginRestriction, TenantLogin

# The user pool attributes the providers' claims are mapped into (the CDK app and the local
# stand-in of Cognito map them; the PreSignUp trigger reads them from its event).
EMAIL = "email"
NAME = "name"
EMAIL_VERIFIED = "custom:idp_verified"  # Google's and Apple's email_verified (a custom attribute
# cannot be called email_verified: Cognito takes a schema entry of a standard name as that one)
GOOGLE_HD = "custom:google_hd"  # Google's hd: the Workspace domain of the account
MS_EDOV = "custom:ms_edov"  # Entra's xms_edov: the domain owner verified the address
APPLE_PRIVATE = "custom:apple_private"  # Apple's is_private_email
LINKING_ATTRIBUTES = (EMAIL_VERIFIED, GOOGLE_HD, MS_EDOV, APPLE_PRIVATE)

APPLE_RELAY_DOMAIN = "privaterelay.appleid.com"
_TRUE = {"true", "1"}


class ProviderKind(StrEnum):
    GOOGLE = "google"
    MICROSOFT = "microsoft"
    APPLE = "apple"
    TENANT = "tenant"  # a tenant's own OIDC or SAML IdP


@dataclass(frozen=True)
class Provider:
    id: str  # the API's name: /auth/login/{id}, identities[].provider
    kind: ProviderKind
    cognito_name: str  # the IdP's name in the user pool; federated user names are "<name>_<subject>"
    display_name: str
    # A tenant's own IdP: the tenant, with the environment it restricts and the (verified)
    # email domains, the only addresses its IdP may vouch for.
    tenant: TenantLogin | None = None


GOOGLE = Provider("google", ProviderKind.GOOGLE, "Google", "Google")
MICROSOFT = Provider("microsoft", ProviderKind.MICROSOFT, "Microsoft", "Microsoft")
APPLE = Provider("apple", ProviderKind.APPLE, "SignInWithApple", "Apple")
BUILT_IN = (GOOGLE, MICROSOFT, APPLE)


def built_in(provider_id: str) -> Provider | None:
    return next((p for p in BUILT_IN if p.id == provider_id), None)


def tenant_provider(tenant: TenantLogin) -> Provider:
    """A tenant's own IdP as a provider: its id is the tenant's slug."""
    return Provider(tenant.slug, ProviderKind.TENANT, tenant.provider_name, tenant.name, tenant)


def split_username(username: str) -> tuple[str, str] | None:
    """The provider's name and the subject of a federated user name (``Google_1234``), or None
    for a native user. Only the first ``_`` splits: subjects may contain ``_``."""
    prefix, separator, subject = username.partition("_")
    if not separator or not prefix or not subject:
        return None
    return prefix, subject


def parse_username(username: str, providers: tuple[Provider, ...] = BUILT_IN) -> tuple[Provider, str] | None:
    """The provider and subject of a federated user name (``Google_1234``), or None for a
    native user or another provider. The prefix compares case-insensitively (Cognito has been
    seen to send ``google_1234``)."""
    parts = split_username(username)
    if parts is None:
        return None
    prefix, subject = parts
    for provider in providers:
        if provider.cognito_name.lower() == prefix.lower():
            return provider, subject
    return None


def account_id(username: str) -> str:
    """The id of the account a Cognito user name signs in to. Manual accounts are created
    with their id as user name; a federated account created at a first sign-in takes its user
    name, lower-cased (the pool compares user names without case)."""
    return username.lower()


def address(attributes: Mapping[str, str]) -> str:
    """The address a provider's mapped attributes give (trimmed), or '' if none usable."""
    value = (attributes.get(EMAIL) or "").strip()
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in value):
        return ""
    return value


@dataclass(frozen=True)
class FederatedSignIn:
    provider: Provider
    subject: str
    attributes: Mapping[str, str] = field(default_factory=dict)

    @property
    def email(self) -> str:
        """The address as the provider gave it (trimmed), or '' if it gave none usable."""
        return address(self.attributes)

    @property
    def email_canonical(self) -> str:
        return canonical_email(self.email)

    @property
    def email_domain(self) -> str:
        return self.email_canonical.rpartition("@")[2]

    @property
    def name(self) -> str:
        """The provider's name claim as plain text (no control or bidi characters), bounded."""
        return plain_text(self.attributes.get(NAME) or "", NAME_MAX_LENGTH)


def _true(value: object) -> bool:
    """A claim that says yes: ``true``, ``"true"`` (Apple), ``"1"`` (seen for xms_edov)."""
    return value is True or str(value).strip().lower() in _TRUE


@dataclass(frozen=True)
class Trust:
    """Whether the provider vouches for the address (verified and authoritative), and whether
    the address may join an existing account."""

    vouched: bool
    may_link: bool
    reason: str


def _google(sign_in: FederatedSignIn) -> Trust:
    """Authoritative for @gmail.com, and for a Workspace domain named by the token's ``hd``."""
    if not _true(sign_in.attributes.get(EMAIL_VERIFIED)):
        return Trust(False, False, "google_unverified")
    domain, hd = sign_in.email_domain, (sign_in.attributes.get(GOOGLE_HD) or "").strip().lower()
    if domain == "gmail.com":
        return Trust(True, True, "google_gmail")
    if hd and hd == domain:
        return Trust(True, True, "google_hd")
    return Trust(False, False, "google_not_authoritative")


def _microsoft(sign_in: FederatedSignIn) -> Trust:
    """Entra never sends email_verified for work accounts; only xms_edov says the domain's
    owner verified the address (without it: nOAuth)."""
    if _true(sign_in.attributes.get(MS_EDOV)):
        return Trust(True, True, "microsoft_edov")
    return Trust(False, False, "microsoft_no_edov")


def _apple(sign_in: FederatedSignIn) -> Trust:
    if not _true(sign_in.attributes.get(EMAIL_VERIFIED)):
        return Trust(False, False, "apple_unverified")
    if _true(sign_in.attributes.get(APPLE_PRIVATE)) or sign_in.email_domain == APPLE_RELAY_DOMAIN:
        # Apple verified the relay address, but it never belongs to an existing account.
        return Trust(True, False, "apple_private_relay")
    return Trust(True, True, "apple_verified")


def _tenant(sign_in: FederatedSignIn) -> Trust:
    """A tenant's IdP vouches only for its own tenant's domains."""
    tenant = sign_in.provider.tenant
    if tenant is not None and sign_in.email_domain in tenant.email_domains:
        return Trust(True, True, "tenant_domain")
    return Trust(False, False, "tenant_foreign_domain")


_TRUST = {
    ProviderKind.GOOGLE: _google,
    ProviderKind.MICROSOFT: _microsoft,
    ProviderKind.APPLE: _apple,
    ProviderKind.TENANT: _tenant,
}


def trust(sign_in: FederatedSignIn) -> Trust:
    if not sign_in.email:
        return Trust(False, False, "no_email")
    return _TRUST[sign_in.provider.kind](sign_in)


@dataclass(frozen=True)
class ExistingAccount:
    """The account that holds an address (only vouched-for addresses are ever held)."""

    user_id: str
    environment_id: str


@dataclass(frozen=True)
class DomainPolicy:
    """An email domain whose people may only sign in through their tenant's own IdP: the
    tenant (its slug is its IdP's provider id), its environment and its app client."""

    environment_id: str
    provider_id: str
    client_id: str = ""

    @property
    def restriction(self) -> LoginRestriction:
        return LoginRestriction(tenant=self.provider_id, client_id=self.client_id)


class Outcome(StrEnum):
    LINK = "link"  # the identity joins the existing account with this address
    NEW_ACCOUNT = "new_account"  # no account has the address: a new account
    SEPARATE_ACCOUNT = "separate_account"  # an account has it, the provider is not trusted: no link
    REFUSE = "refuse"  # never into another tenant's account, nor past a tenant's restriction


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    account: ExistingAccount | None = None  # LINK: the account to join
    claims_email: bool = False  # NEW_ACCOUNT: the account holds the (vouched-for) address
    environment_id: str | None = None  # a new account joins this environment (None: its own)


def decide(
    sign_in: FederatedSignIn, existing: ExistingAccount | None, policy: DomainPolicy | None = None
) -> Decision:
    """What a first sign-in through ``sign_in.provider`` does. ``existing`` is the account that
    holds the sign-in's canonical address, ``policy`` the restriction of its domain, if any."""
    vouched = trust(sign_in)
    if policy is not None and policy.provider_id != sign_in.provider.id:
        return Decision(Outcome.REFUSE, "domain_restricted_to_tenant_idp")
    if sign_in.provider.tenant is not None:
        return _decide_for_tenant(sign_in.provider.tenant, vouched, existing)
    if existing is None:
        return Decision(Outcome.NEW_ACCOUNT, vouched.reason, claims_email=vouched.vouched)
    if vouched.may_link:
        return Decision(Outcome.LINK, vouched.reason, account=existing)
    return Decision(Outcome.SEPARATE_ACCOUNT, vouched.reason)


def _decide_for_tenant(tenant: TenantLogin, vouched: Trust, existing: ExistingAccount | None) -> Decision:
    """A tenant's IdP links or creates only within its domains and its environment."""
    if not vouched.vouched:
        return Decision(Outcome.REFUSE, vouched.reason)
    if existing is None:
        return Decision(
            Outcome.NEW_ACCOUNT, vouched.reason, claims_email=True, environment_id=tenant.environment_id
        )
    if existing.environment_id != tenant.environment_id:
        return Decision(Outcome.REFUSE, "account_of_another_tenant")
    return Decision(Outcome.LINK, vouched.reason, account=existing)


# What a trigger tells Cognito when it stops a sign-in: Cognito shows it to the browser (as
# ``error_description=PreSignUp failed with error <message>``), so it is generic; the login
# callback recognises these two and tells the app which of its own codes applies.
SIGN_IN_REFUSED = "Sign-in is not allowed."
SIGN_IN_FAILED = "Sign-in could not be completed; try again."
