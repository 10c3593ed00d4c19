"""Setting up and taking down a restricted tenant's login: plain logic over the repositories
(the tenant provisioner adapts CloudFormation's requests to these calls).

Setting up (a tenant's stack is created or changed):
1. the tenant's environment: the one its file names, or, the first time, a new one;
2. at once (one transaction): the tenant's record, its email domains (never one that another
   tenant owns), the environment restricted to it, and the domains it no longer has given back;
3. its people restricted to its own app client: every member of its environment, and every
   account with an address in its domains (wherever it is: the domain's owner decides how its
   addresses log in), each signed out everywhere (their refresh tokens revoked);
4. the first time, a mail to its first admins with the login URL.
Taking down (its stack is deleted) removes the record and the domains: the login URL answers
404 and the IdP, with its app client, is gone with the stack. The environment stays restricted
and keeps everything in it: nobody gets in without the tenant's IdP, and nothing is lost
(setting the tenant up again opens it again). Accounts elsewhere that were restricted only by
their address are freed.

Every step is idempotent: CloudFormation may send a request again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from onboarding.domain import errors
from onboarding.domain.errors import MailNotSent
from onboarding.domain.mail import tenant_ready_mail
from onboarding.domain.models import DEFAULT_LANGUAGE, Environment, User
from onboarding.domain.ports import Environments, Identity, Mailer, Tenants, Users
from onboarding.domain.rules import now
from onboarding.domain.tenancy import LoginRestriction, TenantDefinition, TenantLogin
from onboarding.observability import logger

# Accounts restricted (and signed out) at once: a tenant can have thousands, and each takes a
# DynamoDB write and a Cognito call; Cognito's admin API allows some 25 a second.
PARALLEL = 8


@dataclass(frozen=True)
class Provisioned:
    tenant: TenantLogin
    created_environment: bool
    restricted: int  # accounts that got the tenant's restriction now
    freed: int  # accounts restricted only by a domain the tenant gave back


@dataclass
class TenantProvisioning:
    tenants: Tenants
    users: Users
    environments: Environments
    identity: Identity
    mailer: Mailer
    public_url: str
    clock: Callable[[], datetime] = field(default=now)

    def set_up(self, definition: TenantDefinition, *, managed_by: str = "") -> Provisioned:
        """``EnvironmentNotFound`` (the file names an environment that does not exist),
        ``EnvironmentTaken`` (another tenant restricts it), ``DomainTaken``, ``TenantMoved`` (a
        tenant cannot change its environment). ``managed_by`` names the CloudFormation resource
        that asks (it becomes the tenant's; only it takes the tenant down)."""
        moment = self.clock()
        stored = self.tenants.get(definition.slug)
        environment_id = definition.environment_id or (stored.environment_id if stored else None)
        new_environment, owner = None, None
        if environment_id is None:
            new_environment = Environment(
                id=str(uuid.uuid4()), name=definition.name, created_at=moment, updated_at=moment
            )
            environment_id = new_environment.id
        elif stored is not None and stored.environment_id != environment_id:
            raise errors.TenantMoved
        else:
            owner = self._environment_owner(definition.slug, environment_id)
        tenant = TenantLogin.of(
            definition, environment_id, managed_by or (stored.managed_by if stored else "")
        )
        self.tenants.save(
            tenant, stored=stored, new_environment=new_environment, environment_owner=owner, moment=moment
        )
        released = stored.email_domains - tenant.email_domains if stored else frozenset()
        restricted = self._restrict(tenant, moment)
        freed = self._free(tenant, released, moment)
        if stored is None:
            self._welcome(tenant)
        logger.info(
            "tenant login set up",
            extra={"tenant": tenant.slug, "restricted": restricted, "freed": freed, "new": stored is None},
        )
        return Provisioned(tenant, new_environment is not None, restricted, freed)

    def _environment_owner(self, slug: str, environment_id: str) -> str | None:
        """The tenant an existing environment is restricted to now, if that tenant is gone
        (its stack deleted): the environment may be restricted anew. ``EnvironmentNotFound``;
        ``EnvironmentTaken`` if a tenant that exists restricts it."""
        environment = self.environments.get(environment_id)
        if environment is None:
            raise errors.EnvironmentNotFound
        owner = environment.restricted_to_idp
        if owner and owner != slug and self.tenants.get(owner) is not None:
            raise errors.EnvironmentTaken.by(owner)
        return owner

    def take_down(self, slug: str, *, managed_by: str = "") -> TenantLogin | None:
        """The tenant's record, client and domains; None if there is no such tenant (any more),
        or another resource (``managed_by``) manages it now."""
        tenant = self.tenants.get(slug)
        if tenant is None:
            return None
        if managed_by and tenant.managed_by and tenant.managed_by != managed_by:
            logger.warning("tenant not taken down: another resource manages it", extra={"tenant": slug})
            return None
        self.tenants.remove(tenant)
        freed = self._free(tenant, tenant.email_domains, self.clock())
        logger.info("tenant login taken down", extra={"tenant": slug, "freed": freed})
        return tenant

    def _restrict(self, tenant: TenantLogin, moment: datetime) -> int:
        """Every member of the tenant's environment and every account with an address in its
        domains: only the tenant's app client gets tokens for them from now on. An account
        elsewhere that another tenant's environment restricts keeps that restriction (its
        environment's tenant comes first). Several accounts at once: a tenant can be large."""
        members = set(self.environments.member_ids(tenant.environment_id))
        people = {u.id: u for d in sorted(tenant.email_domains) for u in self.users.with_email_domain(d)}
        for user_id in members - set(people):
            if (user := self.users.get(user_id)) is not None:
                people[user_id] = user
        restriction = tenant.restriction
        changing = [
            user
            for user in people.values()
            if user.login_restriction != restriction
            and (user.id in members or not _restricted_elsewhere(user.login_restriction, tenant))
        ]

        def restrict(user: User) -> None:
            self.users.restrict_login(user.id, restriction, moment)
            # Tokens issued before: refresh tokens revoked now; ID tokens the API refuses.
            self.identity.sign_out(user.id)

        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            list(pool.map(restrict, changing))
        return len(changing)

    def _free(self, tenant: TenantLogin, domains: Iterable[str], moment: datetime) -> int:
        """Accounts outside the tenant's environment that it restricted only by an address in
        ``domains`` (which it no longer has): what restricts them now is their own
        environment's tenant, if any (``_environment_restriction``), else nothing."""
        freed = 0
        for domain in sorted(domains):
            for user in self.users.with_email_domain(domain):
                if user.environment_id == tenant.environment_id or not _restricted_by(
                    user.login_restriction, tenant
                ):
                    continue
                self.users.restrict_login(user.id, self._environment_restriction(user.environment_id), moment)
                freed += 1
        return freed

    def _environment_restriction(self, environment_id: str) -> LoginRestriction | None:
        """The restriction of an environment's members: its tenant's; for a tenant that is
        gone, one that no client satisfies (nobody gets in, as for its other members)."""
        environment = self.environments.get(environment_id)
        owner = environment.restricted_to_idp if environment else None
        if not owner:
            return None
        tenant = self.tenants.get(owner)
        return tenant.restriction if tenant else LoginRestriction(tenant=owner, client_id="")

    def _welcome(self, tenant: TenantLogin) -> None:
        """The first admins learn where to log in; a lost mail does not undo the set-up."""
        login_url = f"{self.public_url}{tenant.login_path}"
        for admin in sorted(tenant.admins):
            try:
                self.mailer.send(tenant_ready_mail(admin, DEFAULT_LANGUAGE, login_url, tenant.name))
            except MailNotSent as exc:
                logger.warning(
                    "tenant admin mail not sent", extra={"tenant": tenant.slug, "reason": str(exc)}
                )


def _restricted_by(restriction: LoginRestriction | None, tenant: TenantLogin) -> bool:
    return restriction is not None and restriction.tenant == tenant.slug


def _restricted_elsewhere(restriction: LoginRestriction | None, tenant: TenantLogin) -> bool:
    return restriction is not None and restriction.tenant != tenant.slug
