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
from dataclasses import dataclass, field
from datetime import datetime

from onboarding.domain import errors
from onboarding.domain.errors import MailNotSent
from onboarding.domain.mail import tenant_ready_mail
from onboarding.domain.models import DEFAULT_LANGUAGE, Environment
from onboarding.domain.ports import Environments, Identity, Mailer, Tenants, Users
from onboarding.domain.rules import now
from onboarding.domain.tenancy import LoginRestriction, TenantDefinition, TenantLogin
from onboarding.observability import logger


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

    def set_up(self, definition: TenantDefinition, previous: TenantDefinition | None = None) -> Provisioned:
        """``EnvironmentNotFound`` (the file names an environment that does not exist),
        ``DomainTaken``, ``TenantMoved`` (a tenant cannot change its environment)."""
        moment = self.clock()
        existing = self.tenants.get(definition.slug)
        environment_id = definition.environment_id or (existing.environment_id if existing else None)
        new_environment = None
        if environment_id is None:
            new_environment = Environment(
                id=str(uuid.uuid4()), name=definition.name, created_at=moment, updated_at=moment
            )
            environment_id = new_environment.id
        elif existing is not None and existing.environment_id != environment_id:
            raise errors.TenantMoved
        tenant = TenantLogin.of(definition, environment_id)
        before = set(existing.email_domains if existing else ()) | set(
            previous.email_domains if previous else ()
        )
        released = before - tenant.email_domains
        self.tenants.save(tenant, new_environment=new_environment, released_domains=released, moment=moment)
        restricted = self._restrict(tenant, moment)
        freed = self._free(tenant, released, moment)
        if existing is None:
            self._welcome(tenant)
        logger.info(
            "tenant login set up",
            extra={"tenant": tenant.slug, "restricted": restricted, "freed": freed, "new": existing is None},
        )
        return Provisioned(tenant, new_environment is not None, restricted, freed)

    def take_down(self, slug: str) -> TenantLogin | None:
        """The tenant's record and domains; None if there is no such tenant (any more)."""
        tenant = self.tenants.get(slug)
        if tenant is None:
            return None
        self.tenants.remove(tenant)
        freed = self._free(tenant, tenant.email_domains, self.clock())
        logger.info("tenant login taken down", extra={"tenant": slug, "freed": freed})
        return tenant

    def _restrict(self, tenant: TenantLogin, moment: datetime) -> int:
        """Every member of the tenant's environment and every account with an address in its
        domains: only the tenant's app client gets tokens for them from now on."""
        restriction = tenant.restriction
        people = {
            user.id: user for d in sorted(tenant.email_domains) for user in self.users.with_email_domain(d)
        }
        for user_id in self.environments.member_ids(tenant.environment_id):
            if user_id not in people and (user := self.users.get(user_id)) is not None:
                people[user_id] = user
        changed = 0
        for user in people.values():
            if user.login_restriction != restriction:
                self.users.restrict_login(user.id, restriction, moment)
                # Tokens issued before: refresh tokens revoked now; ID tokens the API refuses.
                self.identity.sign_out(user.id)
                changed += 1
        return changed

    def _free(self, tenant: TenantLogin, domains: Iterable[str], moment: datetime) -> int:
        """Accounts outside the tenant's environment that it restricted only by an address in
        ``domains`` (which it no longer has)."""
        freed = 0
        for domain in sorted(domains):
            for user in self.users.with_email_domain(domain):
                if (
                    _restricted_by(user.login_restriction, tenant)
                    and user.environment_id != tenant.environment_id
                ):
                    self.users.restrict_login(user.id, None, moment)
                    freed += 1
        return freed

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
