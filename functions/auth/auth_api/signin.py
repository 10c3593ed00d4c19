"""The user pool's triggers, as logic: what a first federated sign-in does (link, a new
account, or refuse; ``onboarding.domain.linking`` decides), the check before a password login,
and the check before any token is issued (``onboarding.domain.tenancy``: a tenant's people get
tokens only through its own app client). Nothing here knows of trigger events; ``triggers``
adapts them.

Cognito retries a trigger that fails or takes longer than 5 seconds, so every step is
idempotent: the identity's item is written in the same transaction as what the sign-in does,
and a retry that finds it repeats only the Cognito link (which tolerates an existing link).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from onboarding.accounts import restriction_of, signed_in_user
from onboarding.domain import errors
from onboarding.domain.linking import (
    Decision,
    FederatedSignIn,
    Outcome,
    Provider,
    account_id,
    address,
    decide,
    parse_username,
    split_username,
    tenant_provider,
)
from onboarding.domain.models import DEFAULT_LANGUAGE, Environment, FederatedIdentity, Role, User
from onboarding.domain.ports import FederatedIdentities, IdentityLinks, SignInFacts, Users
from onboarding.domain.rules import canonical_email, now, plain_text
from onboarding.domain.tenancy import slug_of_provider
from onboarding.observability import logger, metrics


@dataclass
class FederatedSignIns:
    identities: FederatedIdentities
    links: IdentityLinks
    users: Users
    providers: tuple[Provider, ...]
    clock: Callable[[], datetime] = field(default=now)

    def pre_sign_up(
        self, *, user_pool_id: str, username: str, attributes: Mapping[str, str]
    ) -> Decision | None:
        """A first sign-in through a provider (``username`` is ``<provider>_<subject>``).
        Returns what was decided (None for a retry of an earlier sign-in). ``SignInRefused``;
        ``IdentityUnavailable`` if the link cannot be made now."""
        provider, subject, facts = self._facts(username, canonical_email(address(attributes)))
        sign_in = FederatedSignIn(provider, subject, attributes)
        if facts.identity is not None:
            self._repeat(user_pool_id, provider, facts)
            return None
        decision = decide(sign_in, facts.existing, facts.policy)
        logger.info(
            "first sign-in through a provider",
            extra={"provider": provider.id, "outcome": decision.outcome.value, "reason": decision.reason},
        )
        try:
            self._carry_out(user_pool_id, username, sign_in, decision)
        except errors.AddressTaken:
            # Another first sign-in with this address won the race: decide again, once.
            _, _, facts = self._facts(username, sign_in.email_canonical)
            decision = decide(sign_in, facts.existing, facts.policy)
            self._carry_out(user_pool_id, username, sign_in, decision)
        metrics.add_metric(name=f"FederatedSignIn_{decision.outcome.value}", unit="Count", value=1)
        return decision

    def _facts(self, username: str, email_canonical: str) -> tuple[Provider, str, SignInFacts]:
        """The provider of a federated user name, its subject, and what the sign-in decides
        on (one read). A tenant's IdP (``tenant-<slug>_<subject>``) is known by its tenant's
        record, read with the rest; a provider nobody configured is refused."""
        parts = split_username(username)
        slug = slug_of_provider(parts[0]) if parts else None
        if parts is not None and slug is not None:
            facts = self.identities.find(slug, parts[1], email_canonical, tenant=slug)
            if facts.tenant is not None:
                return tenant_provider(facts.tenant), parts[1], facts
            logger.warning("sign-in through the IdP of a tenant that is not (or no longer) configured")
            raise errors.SignInRefused
        parsed = parse_username(username, self.providers)
        if parsed is None:
            logger.warning("sign-in through a provider this platform does not know")
            raise errors.SignInRefused
        provider, subject = parsed
        return provider, subject, self.identities.find(provider.id, subject, email_canonical)

    def _carry_out(
        self, user_pool_id: str, username: str, sign_in: FederatedSignIn, decision: Decision
    ) -> None:
        provider, moment = sign_in.provider, self.clock()
        if decision.outcome is Outcome.REFUSE:
            raise errors.SignInRefused
        if decision.outcome is Outcome.LINK:
            assert decision.account is not None
            identity = FederatedIdentity(
                provider=provider.id,
                subject=sign_in.subject,
                user_id=decision.account.user_id,
                environment_id=decision.account.environment_id,
                how="linked",
                at=moment,
            )
            restriction = provider.tenant.restriction if provider.tenant else None
            with contextlib.suppress(errors.IdentityTaken):  # a concurrent attempt recorded it
                self.identities.link(identity, restriction=restriction)  # (the Cognito link is idempotent)
            self.links.link(user_pool_id, identity.user_id, provider.cognito_name, sign_in.subject)
            return
        user, environment = self._new_account(username, sign_in, decision, moment)
        identity = FederatedIdentity(
            provider=provider.id,
            subject=sign_in.subject,
            user_id=user.id,
            environment_id=user.environment_id,
            how="created",
            at=moment,
        )
        with contextlib.suppress(errors.IdentityTaken):  # a concurrent attempt created it
            self.identities.create_account(identity, user, environment, claim_email=decision.claims_email)

    @staticmethod
    def _new_account(
        username: str, sign_in: FederatedSignIn, decision: Decision, moment: datetime
    ) -> tuple[User, Environment | None]:
        """The account of a first sign-in: in its own new environment (as its admin), or, for
        a tenant's IdP, in the tenant's environment (its admin if the tenant names the address
        among its first admins, else a member), restricted to the tenant's login. No terms yet:
        the API asks."""
        joins = decision.environment_id
        tenant = sign_in.provider.tenant
        admin = not joins or (tenant is not None and sign_in.email_canonical in tenant.admins)
        user = User(
            id=account_id(username),
            username=username,
            email=sign_in.email,
            email_canonical=sign_in.email_canonical,
            name=sign_in.name,
            language=DEFAULT_LANGUAGE,
            environment_id=joins or str(uuid.uuid4()),
            role=Role.ADMIN if admin else Role.MEMBER,
            terms=None,
            identities=[sign_in.provider.id],
            login_restriction=tenant.restriction if tenant else None,
            created_at=moment,
            updated_at=moment,
        )
        if joins:
            return user, None
        owner = sign_in.name or sign_in.email or sign_in.provider.display_name
        environment = Environment(
            id=user.environment_id,
            name=plain_text(f"Omgeving van {owner}", 100),
            created_at=moment,
            updated_at=moment,
        )
        return user, environment

    def _repeat(self, user_pool_id: str, provider: Provider, facts: SignInFacts) -> None:
        """A retried (or repeated) first sign-in: what was recorded stands; make sure the
        Cognito link exists too (the record is written before the link is made), unless the
        link may no longer be made: the address's domain went to a tenant restricted to
        another IdP, or the account is restricted to another tenant's IdP meanwhile (a link
        undone by an operator is never made again this way). ``SignInRefused``."""
        known = facts.identity
        assert known is not None
        logger.info("first sign-in repeated", extra={"provider": provider.id, "how": known.how})
        if known.how != "linked":
            return
        if facts.policy is not None and facts.policy.provider_id != provider.id:
            raise errors.SignInRefused
        account = self.users.get(known.user_id)
        restriction = account.login_restriction if account else None
        if restriction is not None and restriction.tenant != provider.id:
            raise errors.SignInRefused
        self.links.link(user_pool_id, known.user_id, provider.cognito_name, known.subject)

    def before_tokens(self, username: str, client_id: str | None, email: str = "") -> None:
        """Before Cognito issues tokens (every sign-in and every refresh): only logins with an
        account on the platform get tokens, a restricted tenant's people only for its own app
        client, and a tenant's client only its people. One round trip. ``SignInRefused``."""
        try:
            signed_in_user(
                self.users,
                username,
                client_id=client_id,
                email=email,
                terms_version="",
                require_current_terms=False,
            )
        except errors.Unauthorized as exc:
            logger.warning("tokens refused: the login has no account")
            raise errors.SignInRefused from exc
        except errors.LoginMethodNotAllowed as exc:
            logger.info("tokens refused: the account logs in only through its tenant's IdP")
            raise errors.SignInRefused from exc

    def before_password_login(self, username: str, email: str = "") -> None:
        """Before Cognito checks a password: a restricted tenant's people never log in with
        one (their tenant's IdP is the only way in). One round trip. ``SignInRefused``."""
        signing_in = self.users.signing_in(account_id(username), canonical_email(email), None)
        if signing_in.user is not None and restriction_of(signing_in) is not None:
            logger.info("password login refused: the account logs in only through its tenant's IdP")
            raise errors.SignInRefused
