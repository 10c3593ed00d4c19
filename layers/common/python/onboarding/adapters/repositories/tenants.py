"""Restricted tenants: a tenant's login (its IdP, app client, domains, admins) and the email
domains it owns.

Item layout (pk / sk):
  TENANT#<slug>         / TENANT   the tenant's login: name, environment, the IdP's name in the
                                   user pool, the app client that offers only that IdP, email
                                   domains, first admins, and the CloudFormation resource that
                                   manages it (stack and logical id)
  DOMAIN#<email domain> / DOMAIN   who owns the domain: the tenant (``provider`` is its slug, the
                                   API's provider id), its environment and its app client. One
                                   owner per domain: written only where no other tenant has it
  CLIENT#<app client id> / CLIENT  the tenant whose own app client this is
Written by the tenant provisioner (a tenant's stack, or ``make dev``), in one transaction with
the environment the tenant restricts; read by the login routes (``TENANT#``), by every first
federated sign-in and sign-up (``DOMAIN#``, see ``identities`` and ``signups``), and with the
account at every login check (``DOMAIN#`` and ``CLIENT#``, see ``users.signing_in``).
"""

from __future__ import annotations

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
from onboarding.domain.linking import DomainPolicy
from onboarding.domain.models import Environment
from onboarding.domain.tenancy import TenantLogin

TENANT_SK = "TENANT"
DOMAIN_SK = "DOMAIN"
CLIENT_SK = "CLIENT"
_OWNED = "attribute_not_exists(pk) OR #tenant = :slug"


def tenant_key(slug: str) -> tuple[str, str]:
    return f"TENANT#{slug}", TENANT_SK


def domain_key(domain: str) -> tuple[str, str]:
    return f"DOMAIN#{domain}", DOMAIN_SK


def client_key(client_id: str) -> tuple[str, str]:
    return f"CLIENT#{client_id}", CLIENT_SK


def domain_policy(item: dict[str, Any]) -> DomainPolicy:
    return DomainPolicy(item["environment_id"], item["provider"], item.get("client_id", ""))


def tenant_from_item(item: dict[str, Any]) -> TenantLogin:
    return TenantLogin(
        slug=item["slug"],
        name=item["name"],
        environment_id=item["environment_id"],
        provider_name=item["provider_name"],
        client_id=item["client_id"],
        email_domains=frozenset(item.get("email_domains") or ()),
        admins=frozenset(item.get("admins") or ()),
        managed_by=item.get("managed_by", ""),
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
            "managed_by": tenant.managed_by,
            "updated_at": moment.isoformat(),
        },
        # A tenant restricts one environment for good: never re-point an existing tenant.
        condition="attribute_not_exists(pk) OR environment_id = :environment",
        values={":environment": tenant.environment_id},
    )


def _owned(slug: str) -> dict[str, Any]:
    return {"condition": _OWNED, "names": {"#tenant": "tenant"}, "values": {":slug": slug}}


def _domain_put(tenant: TenantLogin, domain: str) -> Put:
    pk, sk = domain_key(domain)
    item = {
        "pk": pk,
        "sk": sk,
        "type": "domain",
        "domain": domain,
        "tenant": tenant.slug,
        "provider": tenant.slug,
        "environment_id": tenant.environment_id,
        "client_id": tenant.client_id,
    }
    return Put(item, **_owned(tenant.slug))


def _client_put(tenant: TenantLogin) -> Put:
    pk, sk = client_key(tenant.client_id)
    return Put({"pk": pk, "sk": sk, "type": "tenant_client", "tenant": tenant.slug}, **_owned(tenant.slug))


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
        stored: TenantLogin | None,
        new_environment: Environment | None,
        environment_owner: str | None,
        moment: datetime,
    ) -> None:
        """The tenant, its domains and its client (taken only where no other tenant has them;
        what ``stored``, the tenant's record so far, had and it no longer has is given back),
        and its environment restricted to it (``new_environment`` is created; an existing one
        only if no tenant but ``environment_owner``, a tenant that is gone, restricts it), all at
        once. ``DomainTaken``; ``EnvironmentTaken``; ``TenantMoved`` (the tenant exists with
        another environment)."""
        writes: dict[str, Write] = {"tenant": _tenant_put(tenant, moment), "client": _client_put(tenant)}
        for domain in sorted(tenant.email_domains):
            writes[f"domain:{domain}"] = _domain_put(tenant, domain)
        if stored is not None:
            for domain in sorted(stored.email_domains - tenant.email_domains):
                writes[f"release:{domain}"] = Delete(*domain_key(domain), **_owned(tenant.slug))
            if stored.client_id != tenant.client_id:
                writes["old_client"] = Delete(*client_key(stored.client_id), **_owned(tenant.slug))
        if new_environment is not None:
            writes["environment"] = environments.environment_put(
                new_environment.model_copy(update={"restricted_to_idp": tenant.slug})
            )
        else:
            writes["environment"] = Update(
                environments.environment_pk(tenant.environment_id),
                environments.ENVIRONMENT_SK,
                "SET restricted_to_idp = :slug, updated_at = :at",
                values={
                    ":slug": tenant.slug,
                    ":at": moment.isoformat(),
                    ":gone": environment_owner or tenant.slug,
                },
                # Never another tenant's environment (a tenant file copied with its id).
                condition=(
                    f"{EXISTS} AND (attribute_not_exists(restricted_to_idp) OR restricted_to_idp = :slug"
                    " OR restricted_to_idp = :gone)"
                ),
            )
        try:
            self.table.transact(writes)
        except TransactionCancelled as cancelled:
            taken = sorted(n.partition(":")[2] for n in cancelled.failed if n.startswith("domain:"))
            if taken:
                raise errors.DomainTaken(taken) from cancelled
            if cancelled.failed_on("environment"):
                raise errors.EnvironmentTaken from cancelled
            if cancelled.failed_on("tenant"):
                raise errors.TenantMoved from cancelled
            if cancelled.failed_on("client"):
                raise errors.DomainTaken([f"(the app client {tenant.client_id})"]) from cancelled
            raise

    def remove(self, tenant: TenantLogin) -> None:
        """The tenant, its client and the domains it owns (a domain another tenant owns
        meanwhile stays theirs). Its environment stays restricted: without the tenant's IdP
        nobody gets in, and nothing of the environment is lost."""
        writes: dict[str, Write] = {
            "tenant": Delete(*tenant_key(tenant.slug)),
            "client": Delete(*client_key(tenant.client_id)),
        }
        for domain in sorted(tenant.email_domains):
            writes[f"release:{domain}"] = Delete(*domain_key(domain), **_owned(tenant.slug))
        try:
            self.table.transact(writes)
        except TransactionCancelled as cancelled:
            # A domain taken over by another tenant meanwhile: release only the rest.
            kept = {n for n in cancelled.failed if n.startswith("release:")}
            if not kept:
                raise
            self.table.transact({k: w for k, w in writes.items() if k not in kept})
