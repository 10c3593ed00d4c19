"""Federated identities: which account a provider's identity signs in to, and the accounts a
first federated sign-in creates.

Item layout (pk / sk):
  IDENTITY#<provider>#<subject> / IDENTITY   the account (user, environment) the identity signs
                                             in to, and how: ``created`` at its first sign-in or
                                             ``linked`` to an existing account
Read here with them: the owner of the address's domain (``DOMAIN#``) and, for a tenant's own
IdP, the tenant (``TENANT#``), both written by the tenant provisioner (``tenants``).
A first sign-in writes its identity item in the same transaction as what it does (the new
account with its environment, or the link), so a retried trigger finds the item and repeats
nothing. An account created here holds its address (the ``EMAIL#`` sentinel of ``users``) only
when the provider vouched for it, so an unverified claim never blocks or captures an address.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onboarding.adapters.dynamo import (
    EXISTS,
    NOT_EXISTS,
    Check,
    Put,
    Table,
    TransactionCancelled,
    Update,
    Write,
)
from onboarding.adapters.repositories import environments, tenants, users
from onboarding.domain import errors
from onboarding.domain.linking import ExistingAccount
from onboarding.domain.models import Environment, FederatedIdentity, User
from onboarding.domain.ports import SignInFacts
from onboarding.domain.tenancy import LoginRestriction

IDENTITY_SK = "IDENTITY"


def _identity_pk(provider: str, subject: str) -> str:
    return f"IDENTITY#{provider}#{subject}"


def identity_put(identity: FederatedIdentity) -> Put:
    return Put(
        {
            "pk": _identity_pk(identity.provider, identity.subject),
            "sk": IDENTITY_SK,
            "type": "identity",
            "provider": identity.provider,
            "subject": identity.subject,
            "user_id": identity.user_id,
            "environment_id": identity.environment_id,
            "how": identity.how,
            "at": identity.at.isoformat(),
        },
        condition=NOT_EXISTS,
    )


def _identity(item: dict[str, Any]) -> FederatedIdentity:
    return FederatedIdentity(
        provider=item["provider"],
        subject=item["subject"],
        user_id=item["user_id"],
        environment_id=item["environment_id"],
        how=item["how"],
        at=datetime.fromisoformat(item["at"]),
    )


class IdentityRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def find(
        self, provider: str, subject: str, email_canonical: str, *, tenant: str | None = None
    ) -> SignInFacts:
        """Everything a first sign-in decides on, in one consistent round trip: the identity's
        own item, the account holding the address, the owner of its domain, and the tenant."""
        named = {"identity": (_identity_pk(provider, subject), IDENTITY_SK)}
        if tenant:
            named["tenant"] = tenants.tenant_key(tenant)
        if email_canonical:
            named["email"] = users.email_taken(email_canonical)
            named["domain"] = tenants.domain_key(email_canonical.rpartition("@")[2])
        found = dict(zip(named, self.table.get_many(list(named.values())), strict=True))
        identity, email, domain, owner = (found.get(k) for k in ("identity", "email", "domain", "tenant"))
        return SignInFacts(
            identity=_identity(identity) if identity else None,
            existing=ExistingAccount(email["user_id"], email["environment_id"]) if email else None,
            policy=tenants.domain_policy(domain) if domain else None,
            tenant=tenants.tenant_from_item(owner) if owner else None,
        )

    def get(self, provider: str, subject: str) -> FederatedIdentity | None:
        item = self.table.get(_identity_pk(provider, subject), IDENTITY_SK)
        return _identity(item) if item else None

    def create_account(
        self,
        identity: FederatedIdentity,
        user: User,
        environment: Environment | None,
        *,
        claim_email: bool,
    ) -> None:
        """The identity's new account, at once: the user (holding the address if
        ``claim_email``), its own new ``environment`` (or membership of the existing one the
        identity's item names) and the identity's item. ``IdentityTaken`` or ``AddressTaken``."""
        writes: dict[str, Write] = {
            "identity": identity_put(identity),
            "user": users.profile_put(user),
            "member": environments.member_put(user.environment_id, user),
        }
        if claim_email:
            writes["email"] = users.email_claim(user)
        if environment is not None:
            writes["environment"] = environments.environment_put(environment)
        self._write(writes)

    def link(self, identity: FederatedIdentity, *, restriction: LoginRestriction | None = None) -> None:
        """Record that the identity signs in to an existing account: its item, and its
        provider among the user's identities (a tenant's IdP also sets the account's
        ``restriction``). ``IdentityTaken``; ``UserNotFound``."""
        pk, sk = users.profile_key(identity.user_id)
        restrict = ", login_restriction = :restriction" if restriction else ""
        values: dict[str, Any] = {":restriction": restriction.model_dump()} if restriction else {}
        try:
            self._write(
                {
                    "identity": identity_put(identity),
                    "user": Update(
                        pk,
                        sk,
                        "SET identities = list_append(if_not_exists(identities, :none), :provider)"
                        + restrict,
                        values={
                            ":none": [],
                            ":provider": [identity.provider],
                            ":p": identity.provider,
                            **values,
                        },
                        condition=f"{EXISTS} AND NOT contains(identities, :p)",
                    ),
                }
            )
        except errors.UserNotFound:
            # Or the user already lists this provider (a second identity of one provider).
            user: Write = (
                Update(pk, sk, "SET login_restriction = :restriction", values=values, condition=EXISTS)
                if restriction
                else Check(pk, sk, condition=EXISTS)
            )
            self._write({"identity": identity_put(identity), "user": user})

    def _write(self, writes: dict[str, Write]) -> None:
        try:
            self.table.transact(writes)
        except TransactionCancelled as cancelled:
            if cancelled.failed_on("identity"):
                raise errors.IdentityTaken from cancelled
            if cancelled.failed_on("email"):
                raise errors.AddressTaken from cancelled
            if cancelled.failed_on("user"):
                raise errors.UserNotFound from cancelled
            raise
