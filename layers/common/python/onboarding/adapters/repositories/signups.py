"""Sign-ups (the open activation link of an email) and the rate-limit counters that guard them.

Item layout (pk / sk):
  SIGNUP#<canonical email>       / SIGNUP   the open sign-up: only the SHA-256 of its token
                                            (indexed by ``by_token_hash``), status, expiry
  RATE#<kind>#<sha256(key)>#<hour> / RATE   a fixed-window counter (keys hashed: no readable
                                            email or IP address in a counter)
Read with the sign-up: the owner of the address's domain (``tenants``), whose people sign up
by logging in through their tenant's IdP instead. Activation (``complete``) writes a whole
account at once: the sign-up is used, and the user,
its sentinels and evidence (``users``) and the environment with its member (``environments``)
are created in the same transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import datetime, timedelta
from typing import Any

from onboarding.adapters.dynamo import (
    NOT_EXISTS,
    TOKEN_INDEX,
    TOKEN_INDEX_KEY,
    TTL_ATTRIBUTE,
    Check,
    Delete,
    Put,
    Table,
    TransactionCancelled,
    Update,
    Write,
)
from onboarding.adapters.repositories import environments, tenants, users
from onboarding.domain import errors
from onboarding.domain.linking import DomainPolicy
from onboarding.domain.models import NewAccount, Signup, SignupStatus
from onboarding.domain.ports import AccountRef, RateLimit
from onboarding.domain.rules import hour_bucket, seconds_to_next_hour

SIGNUP_SK = "SIGNUP"


def _pk(email_canonical: str) -> str:
    return f"SIGNUP#{email_canonical}"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _count(limit: RateLimit, moment: datetime, *, delta: int = 1) -> Update:
    """Count one event (or take one back, ``delta=-1``) against ``limit``'s current hour."""
    digest = hashlib.sha256(limit.key.encode()).hexdigest()[:32]
    pk = f"RATE#{limit.kind}#{digest}#{hour_bucket(moment)}"
    if delta < 0:
        return Update(
            pk, "RATE", "ADD #c :d", {"#c": "count"}, {":d": delta}, condition="attribute_exists(pk)"
        )
    return Update(
        pk,
        "RATE",
        "ADD #c :d SET #t = :t",
        {"#c": "count", "#t": TTL_ATTRIBUTE},
        {":d": delta, ":limit": limit.limit, ":t": _epoch(moment + timedelta(hours=2))},
        condition="attribute_not_exists(#c) OR #c < :limit",
    )


def _counts(limits: list[RateLimit], moment: datetime, *, delta: int = 1) -> dict[str, Write]:
    return {f"limit:{limit.kind}": _count(limit, moment, delta=delta) for limit in limits}


def _signup_put(signup: Signup, *, condition: str, replacing: str | None = None) -> Put:
    """The sign-up's item; ``replacing`` is the token hash the stored one must still have."""
    item = {
        "pk": _pk(signup.email_canonical),
        "sk": SIGNUP_SK,
        "type": "signup",
        "email": signup.email,
        "email_canonical": signup.email_canonical,
        "language": signup.language,
        TOKEN_INDEX_KEY: signup.token_hash,
        "status": signup.status.value,
        "created_at": signup.created_at.isoformat(),
        "expires_at": signup.expires_at.isoformat(),
        "used_at": signup.used_at.isoformat() if signup.used_at else None,
        # Kept a week past expiry so that an old link says "expired", not "not found".
        TTL_ATTRIBUTE: _epoch(signup.expires_at + timedelta(days=7)),
    }
    if replacing is None:
        return Put(item, condition=condition)
    return Put(item, condition=condition, names={"#h": TOKEN_INDEX_KEY}, values={":h": replacing})


def _signup(item: dict[str, Any]) -> Signup:
    return Signup(
        email=item["email"],
        email_canonical=item["email_canonical"],
        language=item["language"],
        token_hash=item[TOKEN_INDEX_KEY],
        status=SignupStatus(item["status"]),
        created_at=datetime.fromisoformat(item["created_at"]),
        expires_at=datetime.fromisoformat(item["expires_at"]),
        used_at=datetime.fromisoformat(item["used_at"]) if item.get("used_at") else None,
    )


class SignupRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def load(self, email_canonical: str) -> tuple[Signup | None, AccountRef | None, DomainPolicy | None]:
        """The open sign-up and the account of an email, and the tenant that owns its domain,
        in one consistent round trip."""
        signup_item, email_item, domain_item = self.table.get_many(
            [
                (_pk(email_canonical), SIGNUP_SK),
                users.email_taken(email_canonical),
                tenants.domain_key(email_canonical.rpartition("@")[2]),
            ]
        )
        account = AccountRef(email_item["user_id"], email_item["environment_id"]) if email_item else None
        owner = tenants.domain_policy(domain_item) if domain_item else None
        return (_signup(signup_item) if signup_item else None), account, owner

    def find_by_token_hash(self, token_hash: str) -> Signup | None:
        items = self.table.query_index(TOKEN_INDEX, TOKEN_INDEX_KEY, token_hash)
        return _signup(items[0]) if items else None

    def count(self, limits: list[RateLimit], moment: datetime) -> None:
        self._counted(_counts(limits, moment), moment)

    def uncount(self, limits: list[RateLimit], moment: datetime) -> None:
        with contextlib.suppress(TransactionCancelled):
            self.table.transact(_counts(limits, moment, delta=-1))

    def replace(
        self, signup: Signup, previous: Signup | None, limits: list[RateLimit], moment: datetime
    ) -> None:
        """Store ``signup`` in place of ``previous`` (whose token so stops working) and count
        the limits, in one transaction."""
        if previous is None:
            write = _signup_put(signup, condition=NOT_EXISTS)
        else:
            write = _signup_put(signup, condition="#h = :h", replacing=previous.token_hash)
        no_account = Check(*users.email_taken(signup.email_canonical), condition=NOT_EXISTS)
        self._counted({**_counts(limits, moment), "signup": write, "no_account": no_account}, moment)

    def restore(
        self, signup: Signup, previous: Signup | None, limits: list[RateLimit], moment: datetime
    ) -> None:
        """Undo ``replace`` after the mail could not be sent: the previous sign-up (and its
        token) comes back and the counters go down again. Best effort: if another request
        replaced the sign-up meanwhile, that one stays."""
        undo: Write
        if previous is None:
            undo = Delete(
                _pk(signup.email_canonical),
                SIGNUP_SK,
                condition="#h = :h",
                names={"#h": TOKEN_INDEX_KEY},
                values={":h": signup.token_hash},
            )
        else:
            undo = _signup_put(previous, condition="#h = :h", replacing=signup.token_hash)
        with contextlib.suppress(TransactionCancelled):
            self.table.transact({"signup": undo, **_counts(limits, moment, delta=-1)})

    def _counted(self, writes: dict[str, Write], moment: datetime) -> None:
        try:
            self.table.transact(writes)
        except TransactionCancelled as cancelled:
            full = sorted(name for name in cancelled.failed if name.startswith("limit:"))
            if full:
                raise errors.RateLimited(
                    full[0].partition(":")[2], seconds_to_next_hour(moment)
                ) from cancelled
            raise errors.SignupRace from cancelled

    # --- Activation: one transaction creates the whole account ---------------------------------
    def complete(self, account: NewAccount, *, evidence: dict[str, Any]) -> None:
        signup, user = account.signup, account.user
        used_at = user.created_at.isoformat()
        writes: dict[str, Write] = {
            "signup": Update(
                _pk(signup.email_canonical),
                SIGNUP_SK,
                "SET #s = :used, used_at = :at, user_id = :u",
                {"#s": "status", "#h": TOKEN_INDEX_KEY, "#e": "expires_at"},
                {
                    ":used": SignupStatus.USED.value,
                    ":at": used_at,
                    ":u": user.id,
                    ":h": signup.token_hash,
                    ":pending": SignupStatus.PENDING.value,
                    ":now": used_at,
                },
                condition="#h = :h AND #s = :pending AND #e > :now",
            ),
            "username": users.username_claim(user),
            "email": users.email_claim(user),
            "user": users.profile_put(user),
            "terms": users.terms_evidence_put(user, evidence),
            "environment": environments.environment_put(account.environment),
            "member": environments.member_put(account.environment.id, user),
        }
        try:
            self.table.transact(writes)
        except TransactionCancelled as cancelled:
            if cancelled.failed_on("username"):
                raise errors.UsernameTaken from cancelled
            # The token was used (or superseded, or expired) by a concurrent request.
            current = self.find_by_token_hash(signup.token_hash)
            if current is None:
                raise errors.ActivationNotFound from cancelled
            if current.status is SignupStatus.USED or cancelled.conflicted:
                raise errors.ActivationUsed from cancelled
            raise errors.ActivationExpired from cancelled

    def undo_complete(self, account: NewAccount) -> None:
        """Take back ``complete`` when the identity service could not create the login, so the
        same link can be used again."""
        signup, user, environment = account.signup, account.user, account.environment
        self.table.transact(
            {
                "signup": Update(
                    _pk(signup.email_canonical),
                    SIGNUP_SK,
                    "SET #s = :pending REMOVE used_at, user_id",
                    {"#s": "status", "#u": "user_id"},
                    {":pending": SignupStatus.PENDING.value, ":id": user.id},
                    condition="#u = :id",
                ),
                **users.removal(user),
                **environments.removal(environment.id, user),
            }
        )
