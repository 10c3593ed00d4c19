"""What every signed-in route needs first: the caller's account, with its login policy and
the terms checked."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from onboarding.domain import errors
from onboarding.domain.linking import account_id
from onboarding.domain.models import Role, User
from onboarding.domain.ports import SigningIn, Users
from onboarding.domain.rules import canonical_email
from onboarding.domain.tenancy import LoginRestriction, effective, login_allowed, login_path
from onboarding.settings import get_settings
from onboarding.web.caller import Caller, caller_from_event
from onboarding.web.language import speak

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver


def restriction_of(signing_in: SigningIn) -> LoginRestriction | None:
    """The account's login restriction: its environment's tenant's, else its domain owner's."""
    owner = signing_in.domain_owner
    own = signing_in.user.login_restriction if signing_in.user else None
    return effective(own, owner.restriction if owner else None)


def check_login(signing_in: SigningIn, client_id: str | None) -> None:
    """``LoginMethodNotAllowed`` (with the tenant's login URL) unless tokens of ``client_id``
    may sign in to this account (``tenancy.login_allowed``)."""
    restriction = restriction_of(signing_in)
    if not login_allowed(restriction, client_id, signing_in.client_tenant):
        if restriction is None:
            raise errors.LoginMethodNotAllowed
        raise errors.LoginMethodNotAllowed.through(login_path(restriction.tenant))


def signed_in_user(
    users: Users,
    cognito_username: str,
    *,
    client_id: str | None,
    email: str | None = None,
    terms_version: str,
    require_current_terms: bool = True,
    on_found: Callable[[User], None] | None = None,
) -> User:
    """The account behind a verified token (401 without one; a manual account's id is its
    Cognito user name, a federated one's is its user name lower-cased, see
    ``linking.account_id``), if the token's app client (``client_id``: an ID token's ``aud``)
    may sign in to it: a restricted tenant's people (its environment's members, and every
    address of its domains: ``email`` is the token's) only through the tenant's own client, and
    that client only them (403 ``login_method_not_allowed``; so a token minted before the
    restriction stops working). One round trip.
    Until a user has accepted the current terms only a few routes let them through
    (``require_current_terms=False``). ``on_found`` sees the account before the terms are
    checked: the web edge takes the user's language from it, so that even that refusal speaks
    it."""
    signing_in = users.signing_in(account_id(cognito_username), canonical_email(email or ""), client_id)
    user = signing_in.user
    if user is None:
        raise errors.NoAccount
    if on_found is not None:
        on_found(user)
    check_login(signing_in, client_id)
    if require_current_terms and not user.has_accepted(terms_version):
        raise errors.TermsNotAccepted
    return user


def require_admin(user: User) -> None:
    """Only an environment's admins add, change, activate and delete its organisations."""
    if user.role is not Role.ADMIN:
        raise errors.AdminsOnly


class SignedIn:
    """The caller of a route's current request, for the routes of one resolver: their
    account (with the terms checked, and their language for the answer) and the operators'
    check."""

    def __init__(self, app: APIGatewayRestResolver, users: Callable[[], Users]) -> None:
        self.app = app
        self.users = users  # built on first use

    def caller(self) -> Caller:
        return caller_from_event(self.app.current_event)

    def user(self) -> User:
        caller = self.caller()
        return signed_in_user(
            self.users(),
            caller.username,
            client_id=caller.client_id,
            email=caller.email,
            terms_version=get_settings().terms.version,
            on_found=lambda user: speak(self.app, user.language),
        )

    def operator(self) -> User:
        """Operators' routes answer 403 to anyone else: after the account (a token without one
        is 401, as on every route), before anything else."""
        user = self.user()
        if not self.caller().in_group(get_settings().identity.operators_group):
            raise errors.OperatorsOnly
        return user
