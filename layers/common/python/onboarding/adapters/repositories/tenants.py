"""Restricted tenants: a tenant's login (its IdP, app client, domains, admins) and the email
domains it owns.

Item layout (pk / sk):
  TENANT#<slug>         / TENANT   the tenant's login: name, environment, the IdP's name in the
                                   user pool, the app client that offers only that IdP, email
                                   domains, first admins
  DOMAIN#<email domain> / DOMAIN   who owns the domain: the tenant (``provider`` is its slug, the
                                   API's provider id) and its environment. One owner per domain:
                                   written only where no other tenant has it
Written by the tenant provisioner (a tenant's stack, or ``make dev``), in one transaction with
the environment the tenant restricts; read by the login routes (``TENANT#``) and by every
first federated sign-in and sign-up (``DOMAIN#``, see ``identities`` and ``signups``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from onboarding.adapters.dynamo import (
    EXISTS,
    Delete,
    Put,
    Table,
    TransactionCancelled,
    Update,
    Write,
)
from onboarding.adapters.repositories import environments
from onboarding.domain import errors
from onboarding.domain.models import Environment
from onboarding.domain.tenancy import TenantLogin

TENANT_SK = "TENANT"
DOMAIN_SK = "DOMAIN"
_OWNED = "attribute_not_exists(pk) OR #tenant = :slug"


def tenant_key(slug: str) -> tuple[str, str]:
    return f"TENANT#{slug}", TENANT_SK


def domain_key(domain: str) -> tuple[str, str]:
    return f"DOMAIN#{domain}", DOMAIN_SK


def tenant_from_item(item: dict[str, Any]) -> TenantLogin:
    return TenantLogin(
        slug=item["slug"],
        name=item["name"],
        environment_id=item["environment_id"],
        provider_name=item["provider_name"],
        client_id=item["client_id"],
        email_domains=frozenset(item.get("email_domains") or ()),
        admins=frozenset(item.get("admins") or ()),
    )


def _tenant_put(tenant: TenantLogin, moment: datetime) -> Put:
    pk, sk = tenant_key(tenant.slug)
    return Put(
        {
            "pk": pk,
            "sk": sk,
            "type": "tenant",
            "slug": tenant.slug,
            "name": tenant.name,
            "environment_id": tenant.environment_id,
            "provider_name": tenant.provider_name,
            "client_id": tenant.client_id,
            "email_domains": sorted(tenant.email_domains),
            "admins": sorted(tenant.admins),
            "updated_at": moment.isoformat(),
        },
        # A tenant restricts one environment for good: never re-point an existing tenant.
        condition="attribute_not_exists(pk) OR environment_id = :environment",
        values={":environment": tenant.environment_id},
    )


def _domain_put(tenant: TenantLogin, domain: str) -> Put:
    pk, sk = domain_key(domain)
    return Put(
        {
            "pk": pk,
            "sk": sk,
            "type": "domain",
            "domain": domain,
            "tenant": tenant.slug,
            "provider": tenant.slug,
            "environment_id": tenant.environment_id,
        },
        condition=_OWNED,
        names={"#tenant": "tenant"},
        values={":slug": tenant.slug},
    )


def _domain_release(slug: str, domain: str) -> Delete:
    return Delete(*domain_key(domain), condition=_OWNED, names={"#tenant": "tenant"}, values={":slug": slug})


class TenantRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, slug: str) -> TenantLogin | None:
        item = self.table.get(*tenant_key(slug))
        return tenant_from_item(item) if item else None

    def save(
        self,
        tenant: TenantLogin,
        *,
        new_environment: Environment | None,
        released_domains: Iterable[str],
        moment: datetime,
    ) -> None:
        """The tenant, its domains (taken only where no other tenant has them; ``released``
        given back) and its environment restricted to it (``new_environment`` is created), all
        at once. ``DomainTaken``; ``EnvironmentNotFound``; ``TenantMoved`` (the tenant exists
        with another environment)."""
        writes: dict[str, Write] = {"tenant": _tenant_put(tenant, moment)}
        for domain in sorted(tenant.email_domains):
            writes[f"domain:{domain}"] = _domain_put(tenant, domain)
        for domain in sorted(set(released_domains) - tenant.email_domains):
            writes[f"release:{domain}"] = _domain_release(tenant.slug, domain)
        if new_environment is not None:
            writes["environment"] = environments.environment_put(
                new_environment.model_copy(update={"restricted_to_idp": tenant.slug})
            )
        else:
            writes["environment"] = Update(
                environments.environment_pk(tenant.environment_id),
                environments.ENVIRONMENT_SK,
                "SET restricted_to_idp = :slug, updated_at = :at",
                values={":slug": tenant.slug, ":at": moment.isoformat()},
                condition=EXISTS,
            )
        try:
            self.table.transact(writes)
        except TransactionCancelled as cancelled:
            taken = sorted(n.partition(":")[2] for n in cancelled.failed if n.startswith("domain:"))
            if taken:
                raise errors.DomainTaken(taken) from cancelled
            if cancelled.failed_on("environment"):
                raise errors.EnvironmentNotFound from cancelled
            if cancelled.failed_on("tenant"):
                raise errors.TenantMoved from cancelled
            raise

    def remove(self, tenant: TenantLogin) -> None:
        """The tenant and the domains it owns (a domain another tenant owns meanwhile stays
        theirs). Its environment stays restricted: without the tenant's IdP nobody gets in,
        and nothing of the environment is lost."""
        writes: dict[str, Write] = {"tenant": Delete(*tenant_key(tenant.slug))}
        for domain in sorted(tenant.email_domains):
            writes[f"release:{domain}"] = _domain_release(tenant.slug, domain)
        try:
            self.table.transact(writes)
        except TransactionCancelled as cancelled:
            # A domain taken over by another tenant meanwhile: release only the rest.
            kept = {n.partition(":")[2] for n in cancelled.failed if n.startswith("release:")}
            if not kept:
                raise
            self.table.transact({k: w for k, w in writes.items() if k.partition(":")[2] not in kept})
