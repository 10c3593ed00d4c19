"""What every signed-in route needs first: the caller's account, with the terms checked."""

from __future__ import annotations

from collections.abc import Callable

from onboarding.domain import errors
from onboarding.domain.models import Role, User
from onboarding.domain.ports import Users


def signed_in_user(
    users: Users,
    cognito_username: str,
    *,
    terms_version: str,
    require_current_terms: bool = True,
    on_found: Callable[[User], None] | None = None,
) -> User:
    """The account behind a verified token (401 without one). Until a user has accepted the
    current terms only a few routes let them through (``require_current_terms=False``).
    ``on_found`` sees the account before the terms are checked: the web edge takes the user's
    language from it, so that even that refusal speaks it."""
    user = users.get(cognito_username)
    if user is None:
        raise errors.NoAccount
    if on_found is not None:
        on_found(user)
    if require_current_terms and not user.has_accepted(terms_version):
        raise errors.TermsNotAccepted
    return user


def require_admin(user: User) -> None:
    """Only an environment's admins add, change, activate and delete its organisations."""
    if user.role is not Role.ADMIN:
        raise errors.AdminsOnly
