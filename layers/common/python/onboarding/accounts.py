"""What every signed-in route needs first: the caller's account, with the terms checked."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from onboarding.domain import errors
from onboarding.domain.models import Role, User
from onboarding.domain.ports import Users
from onboarding.settings import get_settings
from onboarding.web.caller import Caller, caller_from_event

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver


def signed_in_user(
    users: Users, cognito_username: str, *, terms_version: str, require_current_terms: bool = True
) -> User:
    """The account behind a verified token. Until a user has accepted the current terms only
    a few routes let them through (``require_current_terms=False``)."""
    user = users.get(cognito_username)
    if user is None:
        raise errors.Unauthorized("This login has no account.")
    if require_current_terms and not user.has_accepted(terms_version):
        raise errors.TermsNotAccepted
    return user


def require_admin(user: User) -> None:
    """Only an environment's admins add, change, activate and delete its organisations."""
    if user.role is not Role.ADMIN:
        raise errors.Forbidden("Only an admin of your environment may do this.")


class SignedIn:
    """The caller of a route's current request, for the routes of one resolver: their
    account (with the terms checked) and the operators' check."""

    def __init__(self, app: APIGatewayRestResolver, users: Callable[[], Users]) -> None:
        self.app = app
        self.users = users  # built on first use

    def caller(self) -> Caller:
        return caller_from_event(self.app.current_event)

    def user(self) -> User:
        return signed_in_user(
            self.users(), self.caller().username, terms_version=get_settings().terms.version
        )

    def operator(self) -> User:
        """Operators' routes answer 403 to anyone else, before anything else."""
        if not self.caller().in_group(get_settings().identity.operators_group):
            raise errors.Forbidden("Only platform operators may do this.")
        return self.user()
