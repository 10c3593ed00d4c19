"""Users: the profile, the evidence of accepting the terms, and the sentinels that keep
usernames and emails unique on the whole platform.

Item layout (pk / sk):
  USER#<user id>            / USER             the profile (environment, role, terms, identities,
                                               the login restriction of a tenant restricted to its
                                               own IdP); ``email_domain`` keys the index of users
                                               by the domain of their address
  USER#<user id>            / TERMS#<version>  evidence of accepting a version of the terms;
                                               append-only (time, IP, user agent, locale, URL)
  USERNAME#<lower username> / USERNAME         sentinel: the username is taken (user, environment)
  EMAIL#<canonical email>   / EMAIL            sentinel: the email has an account (user, environment)
A login check reads the profile with the owner of its address's domain and the tenant of the
token's app client (``tenants``), in one round trip (``signing_in``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onboarding.adapters.dynamo import (
    EMAIL_DOMAIN_INDEX,
    EMAIL_DOMAIN_INDEX_KEY,
    EXISTS,
    NOT_EXISTS,
    ConditionFailed,
    Delete,
    Put,
    Table,
    Update,
)
from onboarding.adapters.repositories import tenants
from onboarding.domain import errors
from onboarding.domain.models import Notifications, Role, TermsAcceptance, User
from onboarding.domain.ports import AccountRef, SigningIn
from onboarding.domain.rules import canonical_email, canonical_username, rfc3339
from onboarding.domain.tenancy import LoginRestriction


def _profile_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def profile_key(user_id: str) -> tuple[str, str]:
    """The key of a user's profile item (for writes of other repositories' transactions)."""
    return _profile_pk(user_id), "USER"


def _username_pk(username: str) -> str:
    return f"USERNAME#{canonical_username(username)}"


def _email_pk(email_canonical: str) -> str:
    return f"EMAIL#{email_canonical}"


# --- Items, for this repository and for transactions of others ------------------------------
def profile_put(user: User) -> Put:
    return Put(
        {
            "pk": _profile_pk(user.id),
            "sk": "USER",
            "type": "user",
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "email_canonical": user.email_canonical,
            "name": user.name,
            "language": user.language,
            "environment_id": user.environment_id,
            "role": user.role.value,
            "identities": user.identities,
            EMAIL_DOMAIN_INDEX_KEY: email_domain(user.email_canonical),
            "login_restriction": user.login_restriction.model_dump() if user.login_restriction else None,
            "notifications": user.notifications.model_dump(),
            "terms_version": user.terms.version if user.terms else None,
            "terms_accepted_at": user.terms.accepted_at.isoformat() if user.terms else None,
            "created_at": user.created_at.isoformat(),
            "updated_at": user.updated_at.isoformat(),
        },
        condition=NOT_EXISTS,
    )


def email_domain(email_canonical: str) -> str:
    return email_canonical.rpartition("@")[2] or "-"  # an index key may not be empty


def terms_evidence_put(user: User, evidence: dict[str, Any]) -> Put:
    """Append-only proof of acceptance: version, time, and where it came from."""
    assert user.terms is not None
    return Put(
        {
            "pk": _profile_pk(user.id),
            "sk": f"TERMS#{user.terms.version}",
            "type": "terms_acceptance",
            "version": user.terms.version,
            "accepted_at": rfc3339(user.terms.accepted_at),
            **evidence,
        }
    )


def _sentinel(pk: str, sk: str, user: User) -> Put:
    return Put(
        {"pk": pk, "sk": sk, "user_id": user.id, "environment_id": user.environment_id}, condition=NOT_EXISTS
    )


def username_claim(user: User) -> Put:
    return _sentinel(_username_pk(user.username), "USERNAME", user)


def email_claim(user: User) -> Put:
    return _sentinel(_email_pk(user.email_canonical), "EMAIL", user)


def email_taken(email_canonical: str) -> tuple[str, str]:
    """The key whose absence says that an email has no account (for condition checks)."""
    return _email_pk(email_canonical), "EMAIL"


def removal(user: User) -> dict[str, Delete]:
    """Everything ``profile_put``, the claims and the evidence wrote, to take it back."""
    deletes = {
        "username": Delete(_username_pk(user.username), "USERNAME"),
        "email": Delete(_email_pk(user.email_canonical), "EMAIL"),
        "user": Delete(_profile_pk(user.id), "USER"),
    }
    if user.terms:
        deletes["terms"] = Delete(_profile_pk(user.id), f"TERMS#{user.terms.version}")
    return deletes


def user_from_item(item: dict[str, Any]) -> User:
    terms = None
    if item.get("terms_version"):
        terms = TermsAcceptance(
            version=item["terms_version"], accepted_at=datetime.fromisoformat(item["terms_accepted_at"])
        )
    return User(
        id=item["id"],
        username=item["username"],
        email=item["email"],
        email_canonical=item["email_canonical"],
        name=item.get("name", ""),
        language=item.get("language", "nl"),
        environment_id=item["environment_id"],
        role=item["role"],
        terms=terms,
        notifications=Notifications(**item.get("notifications", {})),
        identities=item.get("identities", ["email"]),
        login_restriction=LoginRestriction(**item["login_restriction"])
        if item.get("login_restriction")
        else None,
        created_at=datetime.fromisoformat(item["created_at"]),
        updated_at=datetime.fromisoformat(item["updated_at"]),
    )


class UserRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, user_id: str) -> User | None:
        item = self.table.get(_profile_pk(user_id), "USER")
        return user_from_item(item) if item else None

    def find_login(self, login: str, *, is_email: bool) -> AccountRef | None:
        """Who a username or email belongs to (one GetItem on a sentinel)."""
        pk, sk = (_email_pk(login), "EMAIL") if is_email else (_username_pk(login), "USERNAME")
        item = self.table.get(pk, sk)
        return AccountRef(item["user_id"], item["environment_id"]) if item else None

    def update_profile(self, user_id: str, changes: dict[str, Any], moment: datetime) -> User:
        names = {f"#{k}": k for k in changes} | {"#updated_at": "updated_at"}
        values = {f":{k}": v for k, v in changes.items()} | {":updated_at": moment.isoformat()}
        return self._update(
            user_id,
            "SET " + ", ".join(f"#{k} = :{k}" for k in [*changes, "updated_at"]),
            names,
            values,
        )

    def with_email_domain(self, domain: str) -> list[User]:
        """Every user whose address is in ``domain`` (the tenant provisioner's question)."""
        items = self.table.query_index(EMAIL_DOMAIN_INDEX, EMAIL_DOMAIN_INDEX_KEY, domain)
        return [user_from_item(item) for item in items if item.get("sk") == "USER"]

    def restrict_login(self, user_id: str, restriction: LoginRestriction | None, moment: datetime) -> User:
        """Allow this account tokens only through ``restriction``'s app client (None: lifts it)."""
        if restriction is None:
            return self._update(
                user_id, "REMOVE login_restriction SET updated_at = :at", {}, {":at": moment.isoformat()}
            )
        return self._update(
            user_id,
            "SET login_restriction = :restriction, updated_at = :at",
            {},
            {":restriction": restriction.model_dump(), ":at": moment.isoformat()},
        )

    def signing_in(self, user_id: str, email_canonical: str, client_id: str | None) -> SigningIn:
        """The account, its address's domain's owner and the client's tenant, in one round trip
        (TransactGetItems); a second read only where the account's own address is in another
        domain than ``email_canonical`` (the token's). Without ``email_canonical`` (a login by
        username) only the account's own restriction counts: the provisioner writes it on
        every account of a tenant's domains, and the answer's timing says nothing more about
        the account than a wrong password does."""
        domain = email_domain(canonical_email(email_canonical)) if email_canonical else ""
        named = {"user": profile_key(user_id)}
        if domain and domain != "-":
            named["domain"] = tenants.domain_key(domain)
        if client_id:
            named["client"] = tenants.client_key(client_id)
        found = dict(zip(named, self.table.get_many(list(named.values())), strict=True))
        profile = found.get("user")
        user = user_from_item(profile) if profile else None
        owner = found.get("domain")
        if user is not None and domain and email_domain(user.email_canonical) != domain:
            owner = self.table.get(*tenants.domain_key(email_domain(user.email_canonical)))
        client = found.get("client")
        return SigningIn(
            user=user,
            domain_owner=tenants.domain_policy(owner) if owner else None,
            client_tenant=str(client["tenant"]) if client else None,
        )

    def change_role(self, user_id: str, role: Role, moment: datetime) -> User:
        """Make a user an ``admin`` or a ``member`` of their environment."""
        return self._update(
            user_id,
            "SET #role = :role, updated_at = :at",
            {"#role": "role"},
            {":role": role.value, ":at": moment.isoformat()},
        )

    def _update(self, user_id: str, expression: str, names: dict[str, str], values: dict[str, Any]) -> User:
        try:
            item = self.table.write(
                Update(_profile_pk(user_id), "USER", expression, names, values, condition=EXISTS)
            )
        except ConditionFailed as exc:
            raise errors.UserNotFound from exc
        assert item is not None
        return user_from_item(item)

    def accept_terms(self, user: User, evidence: dict[str, Any]) -> User:
        assert user.terms is not None
        self.table.transact(
            {
                "user": Update(
                    _profile_pk(user.id),
                    "USER",
                    "SET terms_version = :v, terms_accepted_at = :at, updated_at = :at",
                    values={":v": user.terms.version, ":at": user.terms.accepted_at.isoformat()},
                    condition=EXISTS,
                ),
                "evidence": terms_evidence_put(user, evidence),
            }
        )
        return user
