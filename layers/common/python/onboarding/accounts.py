"""What every signed-in route needs first: the caller's account, with the terms checked."""

from __future__ import annotations

from onboarding.domain import errors
from onboarding.domain.linking import account_id
from onboarding.domain.models import Role, User
from onboarding.domain.ports import Users


def signed_in_user(
    users: Users, cognito_username: str, *, terms_version: str, require_current_terms: bool = True
) -> User:
    """The account behind a verified token (a manual account's id is its Cognito user name;
    a federated one's is its user name lower-cased, see ``linking.account_id``). Until a user
    has accepted the current terms only a few routes let them through
    (``require_current_terms=False``)."""
    user = users.get(account_id(cognito_username))
    if user is None:
        raise errors.Unauthorized("This login has no account.")
    if require_current_terms and not user.has_accepted(terms_version):
        raise errors.TermsNotAccepted
    return user


def require_admin(user: User) -> None:
    """Only an environment's admins add, change, activate and delete its organisations."""
    if user.role is not Role.ADMIN:
        raise errors.Forbidden("Only an admin of your environment may do this.")
