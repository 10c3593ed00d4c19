"""The user pool's triggers, as logic: what a first federated sign-in does (link, a new
account, or refuse; ``onboarding.domain.linking`` decides) and the check before any token is
issued. Nothing here knows of trigger events; ``triggers`` adapts them.

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

from onboarding.accounts import signed_in_user
from onboarding.domain import errors
from onboarding.domain.linking import (
    Decision,
    FederatedSignIn,
    Outcome,
    Provider,
    account_id,
    decide,
    parse_username,
)
from onboarding.domain.models import DEFAULT_LANGUAGE, Environment, FederatedIdentity, Role, User
from onboarding.domain.ports import FederatedIdentities, IdentityLinks, Users
from onboarding.domain.rules import now, plain_text
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
        parsed = parse_username(username, self.providers)
        if parsed is None:
            logger.warning("sign-in through a provider this platform does not know")
            raise errors.SignInRefused
        provider, subject = parsed
        sign_in = FederatedSignIn(provider, subject, attributes)
        known, existing, policy = self.identities.find(provider.id, subject, sign_in.email_canonical)
        if known is not None:
            self._repeat(user_pool_id, provider, known)
            return None
        decision = decide(sign_in, existing, policy)
        logger.info(
            "first sign-in through a provider",
            extra={"provider": provider.id, "outcome": decision.outcome.value, "reason": decision.reason},
        )
        try:
            self._carry_out(user_pool_id, username, sign_in, decision)
        except errors.AddressTaken:
            # Another first sign-in with this address won the race: decide again, once.
            known, existing, policy = self.identities.find(provider.id, subject, sign_in.email_canonical)
            decision = decide(sign_in, existing, policy)
            self._carry_out(user_pool_id, username, sign_in, decision)
        metrics.add_metric(name=f"FederatedSignIn_{decision.outcome.value}", unit="Count", value=1)
        return decision

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
            with contextlib.suppress(errors.IdentityTaken):  # a concurrent attempt recorded it
                self.identities.link(identity)  # (the Cognito link below is idempotent)
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
        a tenant's IdP, a member of the tenant's environment. No terms yet: the API asks."""
        joins = decision.environment_id
        user = User(
            id=account_id(username),
            username=username,
            email=sign_in.email,
            email_canonical=sign_in.email_canonical,
            name=sign_in.name,
            language=DEFAULT_LANGUAGE,
            environment_id=joins or str(uuid.uuid4()),
            role=Role.MEMBER if joins else Role.ADMIN,
            terms=None,
            identities=[sign_in.provider.id],
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

    def _repeat(self, user_pool_id: str, provider: Provider, known: FederatedIdentity) -> None:
        """A retried (or repeated) first sign-in: what was recorded stands; make sure the
        Cognito link exists too (the record is written before the link is made)."""
        logger.info("first sign-in repeated", extra={"provider": provider.id, "how": known.how})
        if known.how == "linked":
            self.links.link(user_pool_id, known.user_id, provider.cognito_name, known.subject)

    def before_tokens(self, username: str) -> None:
        """Before Cognito issues tokens (every sign-in and every refresh): only logins with an
        account on the platform get tokens. ``SignInRefused``."""
        try:
            signed_in_user(self.users, username, terms_version="", require_current_terms=False)
        except errors.Unauthorized as exc:
            logger.warning("tokens refused: the login has no account")
            raise errors.SignInRefused from exc
