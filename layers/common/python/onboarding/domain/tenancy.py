"""Tenants restricted to their own identity provider: what the platform knows of one at run
time, and the one rule every layer applies before letting one of its people in.

A restricted tenant is an ops change (a tenant file and its stack): an environment, an
identity provider in the user pool, an app client that offers only that provider, the email
domains the provider may vouch for, and the emails of its first admins. Its people (the
members of its environment, and everyone with an address in its domains) get tokens only
through that one app client, and every layer checks it:
- sign-up and PreSignUp keep the tenant's domains away from every other way in
  (``linking.decide``);
- PreAuthentication refuses them a password login;
- PreTokenGeneration refuses tokens for any other app client, at every sign-in and refresh;
- the API refuses a token of any other app client on every request, so a token minted
  before the restriction stops working at once.
An account carries its restriction (``LoginRestriction``: the tenant and its client), so each
of these checks is a look at the account, which every one of them reads anyway.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from onboarding.domain.rules import canonical_email

# A tenant's slug is its URL (/t/<slug>/login) and, prefixed, its identity provider's name in
# the user pool. Cognito allows 32 characters and no "_" in a provider name (federated user
# names are "<provider>_<subject>"), which leaves 25 for the slug.
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,23}[a-z0-9])?$"
PROVIDER_PREFIX = "tenant-"
# Names the API already gives a meaning (provider ids, route words).
RESERVED_SLUGS = frozenset(
    {"google", "microsoft", "apple", "email", "cognito", "local", "admin", "api", "login", "www"}
)
# A tenant's IdP vouches for every address of its domains: never for a domain where anyone
# can get an address (the reference: free-mail domains are never claimable).
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "privaterelay.appleid.com",
        "yahoo.com",
        "ymail.com",
        "aol.com",
        "gmx.com",
        "gmx.net",
        "gmx.de",
        "web.de",
        "proton.me",
        "protonmail.com",
        "zoho.com",
        "mail.com",
        "hotmail.nl",
        "live.nl",
        "outlook.nl",
        "ziggo.nl",
        "kpnmail.nl",
        "planet.nl",
        "home.nl",
        "hetnet.nl",
        "xs4all.nl",
        "casema.nl",
        "upcmail.nl",
        "telfort.nl",
        "chello.nl",
        "quicknet.nl",
        "tele2.nl",
        "hotmail.co.uk",
        "hotmail.be",
        "hotmail.de",
        "hotmail.fr",
        "outlook.be",
        "outlook.de",
        "live.be",
        "live.co.uk",
        "yahoo.co.uk",
        "yahoo.de",
        "yahoo.fr",
        "t-online.de",
        "gmx.at",
        "gmx.ch",
        "pm.me",
        "tutanota.com",
        "tuta.io",
        "fastmail.com",
        "mail.ru",
        "yandex.com",
        "yandex.ru",
        "qq.com",
        "163.com",
        "telenet.be",
        "skynet.be",
        "orange.fr",
        "free.fr",
        "laposte.net",
    }
)
# "co.uk" and the like: a public suffix, under which anyone registers a domain.
_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go"})
MAX_DOMAINS = 40  # a tenant's record, domains and client are written in one transaction
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def provider_name(slug: str) -> str:
    """The tenant's identity provider's name in the user pool."""
    return f"{PROVIDER_PREFIX}{slug}"


def slug_of_provider(name: str) -> str | None:
    """The slug of a tenant provider's name (any case: Cognito has been seen to lower-case
    the prefix of a federated user name), or None for another provider."""
    if name[: len(PROVIDER_PREFIX)].lower() != PROVIDER_PREFIX:
        return None
    slug = name[len(PROVIDER_PREFIX) :].lower()
    return slug if re.fullmatch(SLUG_PATTERN, slug) else None


def login_path(slug: str) -> str:
    """Where a tenant's people start to log in (``GET /t/{tenant}/login``)."""
    return f"/t/{slug}/login"


def _domain(value: str) -> str:
    domain = value.strip().lower().rstrip(".")
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError("not a domain name (ASCII; write an internationalised one as xn--...)")
    if labels[-1].isdigit():
        raise ValueError("not a domain name")
    if domain in FREE_MAIL_DOMAINS:
        raise ValueError("a free-mail domain: anyone can have an address there")
    if len(labels) == 2 and labels[0] in _SECOND_LEVEL and len(labels[1]) == 2:
        raise ValueError("a public suffix: anyone can register a domain under it")
    return domain


def _email(value: str) -> str:
    email = canonical_email(value)
    local, at, domain = email.rpartition("@")
    if not at or not local or not email.isascii() or any(c.isspace() for c in email):
        raise ValueError("not an email address")
    _domain(domain)
    return email


def _slug(value: str) -> str:
    if not re.fullmatch(SLUG_PATTERN, value):
        raise ValueError("1-25 lower-case letters, digits and '-', not starting or ending with '-'")
    if value in RESERVED_SLUGS:
        raise ValueError(f"{value!r} is reserved")
    return value


def check_domains_and_admins(admins: tuple[str, ...], email_domains: tuple[str, ...]) -> None:
    """Each domain once; and only the tenant's own IdP lets its people in, vouching only for
    its domains, so an admin elsewhere could never log in. ``ValueError``."""
    if len(set(email_domains)) != len(email_domains):
        raise ValueError("email_domains: a domain is given twice")
    outside = [a for a in admins if a.rpartition("@")[2] not in email_domains]
    if outside:
        raise ValueError(f"admins: {', '.join(outside)} not in the tenant's email_domains")


Slug = Annotated[str, AfterValidator(_slug)]
EmailDomain = Annotated[str, StringConstraints(max_length=253), AfterValidator(_domain)]
AdminEmail = Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)]
TenantName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# A tenant file's fields and the provisioner's input alike (``infra.tenants``, ``TenantDefinition``).
EmailDomains = Annotated[tuple[EmailDomain, ...], Field(min_length=1, max_length=MAX_DOMAINS)]
Admins = Annotated[tuple[AdminEmail, ...], Field(min_length=1, max_length=50)]
EnvironmentId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")]


class LoginRestriction(BaseModel):
    """What an account of a restricted tenant carries: the tenant, and the one app client
    that may get tokens for it (its client offers only the tenant's own IdP)."""

    model_config = ConfigDict(frozen=True)
    tenant: str
    client_id: str

    def allows(self, client_id: str | None) -> bool:
        return bool(client_id) and client_id == self.client_id


def login_allowed(
    restriction: LoginRestriction | None, client_id: str | None, client_tenant: str | None
) -> bool:
    """Whether tokens of ``client_id`` (a tenant's own client if ``client_tenant`` names its
    tenant) may sign in to an account with this ``restriction`` (see ``effective``): a
    restricted tenant's people only through its own client, and a tenant's client only its
    own people."""
    if restriction is None:
        return client_tenant is None
    return restriction.allows(client_id)


def effective(account: LoginRestriction | None, domain: LoginRestriction | None) -> LoginRestriction | None:
    """An account's restriction: its own (that of its environment's tenant, written on the
    account), else that of the tenant that owns its address's domain (read at every check, so
    no account with such an address is ever missed)."""
    return account or domain


class TenantDefinition(BaseModel):
    """A restricted tenant as ops define it and its stack hands it to the platform (the
    tenant provisioner's input): which environment (an existing one, or a new one), which IdP
    and app client, which email domains, which first admins."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    slug: Slug
    name: TenantName
    environment_id: EnvironmentId | None = None
    provider_name: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    email_domains: EmailDomains
    admins: Admins

    @model_validator(mode="after")
    def _consistent(self) -> TenantDefinition:
        if self.provider_name != provider_name(self.slug):
            raise ValueError(f"provider_name must be {provider_name(self.slug)!r}")
        check_domains_and_admins(self.admins, self.email_domains)
        return self


class TenantLogin(BaseModel):
    """A restricted tenant at run time: its definition, with the environment it restricts."""

    model_config = ConfigDict(frozen=True)
    slug: str
    name: str
    environment_id: str
    provider_name: str
    client_id: str
    email_domains: frozenset[str]
    admins: frozenset[str]
    managed_by: str = ""  # the CloudFormation resource that set it up (stack, logical id)

    @property
    def restriction(self) -> LoginRestriction:
        return LoginRestriction(tenant=self.slug, client_id=self.client_id)

    @property
    def login_path(self) -> str:
        return login_path(self.slug)

    @classmethod
    def of(cls, definition: TenantDefinition, environment_id: str, managed_by: str = "") -> TenantLogin:
        return cls(
            managed_by=managed_by,
            slug=definition.slug,
            name=definition.name,
            environment_id=environment_id,
            provider_name=definition.provider_name,
            client_id=definition.client_id,
            email_domains=frozenset(definition.email_domains),
            admins=frozenset(definition.admins),
        )
