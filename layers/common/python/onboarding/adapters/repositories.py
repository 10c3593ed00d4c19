"""Repositories over the platform table, one per aggregate. They take and return domain
models, never raw items, and turn failed conditions into domain errors.

Item layout (pk / sk):
  SIGNUP#<canonical email> / SIGNUP          the open sign-up, with the hash of its token
  EMAIL#<canonical email>  / EMAIL           sentinel: the email has an account
  USERNAME#<lower username> / USERNAME       sentinel: the username is taken
  USER#<user id>           / USER            the user's profile
  USER#<user id>           / TERMS#<version>  evidence of accepting a version of the terms
  ENV#<environment id>     / ENV             the environment (tenant)
  ENV#<environment id>     / MEMBER#<user id> membership, for listing an environment's users
  RATE#<kind>#<sha256(key)>#<hour> / RATE    a fixed-window counter
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from onboarding.adapters.dynamo import (
    TOKEN_INDEX,
    TOKEN_INDEX_KEY,
    TTL_ATTRIBUTE,
    ConditionFailed,
    Table,
    TransactionCancelled,
    TransactItem,
)
from onboarding.domain import errors
from onboarding.domain.models import (
    Environment,
    NewAccount,
    Notifications,
    Signup,
    SignupStatus,
    TermsAcceptance,
    User,
)
from onboarding.domain.rules import canonical_username, hour_bucket, rfc3339, seconds_to_next_hour

NOT_EXISTS = "attribute_not_exists(pk)"


def _ts(moment: datetime) -> str:
    return moment.isoformat()


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


# --- Rate limits ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` events an hour for one key of one kind (a fixed window)."""

    kind: str
    key: str
    limit: int

    def item(self, table: Table, moment: datetime, *, delta: int = 1) -> TransactItem:
        # Keys are hashed: counters need no readable email or IP address.
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:32]
        pk = f"RATE#{self.kind}#{digest}#{hour_bucket(moment)}"
        expires = moment + timedelta(hours=2)
        if delta < 0:
            return table.update_item(
                pk,
                "RATE",
                update="ADD #c :d",
                names={"#c": "count"},
                values={":d": delta},
                condition="attribute_exists(pk)",
            )
        return table.update_item(
            pk,
            "RATE",
            update="ADD #c :d SET #t = :t",
            names={"#c": "count", "#t": TTL_ATTRIBUTE},
            values={":d": delta, ":limit": self.limit, ":t": _epoch(expires)},
            condition="attribute_not_exists(#c) OR #c < :limit",
        )


class RateLimited(Exception):
    def __init__(self, limit: RateLimit, retry_after_seconds: int) -> None:
        super().__init__(f"rate limit {limit.kind} reached")
        self.limit = limit
        self.retry_after_seconds = retry_after_seconds


# --- Sign-ups ------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountRef:
    user_id: str
    environment_id: str


class SignupRace(Exception):
    """Another request changed this email's sign-up between our read and our write."""


class SignupRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    @staticmethod
    def _pk(email_canonical: str) -> str:
        return f"SIGNUP#{email_canonical}"

    def load(self, email_canonical: str) -> tuple[Signup | None, AccountRef | None]:
        """The open sign-up and the account of an email, in one consistent round trip."""
        signup_item, email_item = self.table.get_many(
            [(self._pk(email_canonical), "SIGNUP"), (f"EMAIL#{email_canonical}", "EMAIL")]
        )
        account = AccountRef(email_item["user_id"], email_item["environment_id"]) if email_item else None
        return (self._signup(signup_item) if signup_item else None), account

    def find_by_token_hash(self, token_hash: str) -> Signup | None:
        items = self.table.query_index(TOKEN_INDEX, TOKEN_INDEX_KEY, token_hash)
        return self._signup(items[0]) if items else None

    def count(self, limits: list[RateLimit], moment: datetime) -> None:
        """Count one event against each limit, all or none."""
        self._transact([limit.item(self.table, moment) for limit in limits], limits, moment)

    def replace(
        self, signup: Signup, previous: Signup | None, limits: list[RateLimit], moment: datetime
    ) -> None:
        """Store ``signup`` in place of ``previous`` (whose token so stops working) and count
        the limits, in one transaction. ``SignupRace`` if ``previous`` is no longer current or
        the email got an account meanwhile."""
        if previous is None:
            write = self.table.put(self._signup_values(signup), condition=NOT_EXISTS)
        else:
            write = self.table.put(
                self._signup_values(signup),
                condition="#h = :h",
                names={"#h": TOKEN_INDEX_KEY},
                condition_values={":h": previous.token_hash},
            )
        no_account = self.table.check(f"EMAIL#{signup.email_canonical}", "EMAIL", condition=NOT_EXISTS)
        items = [limit.item(self.table, moment) for limit in limits]
        self._transact([*items, write, no_account], limits, moment)

    def restore(
        self, signup: Signup, previous: Signup | None, limits: list[RateLimit], moment: datetime
    ) -> None:
        """Undo ``replace`` after the mail could not be sent: the previous sign-up (and its
        token) comes back and the counters go down again. Best effort: if another request
        replaced the sign-up meanwhile, that one stays."""
        condition = {
            "condition": "#h = :h",
            "names": {"#h": TOKEN_INDEX_KEY},
            "condition_values": {":h": signup.token_hash},
        }
        if previous is None:
            undo = self.table.delete(self._pk(signup.email_canonical), "SIGNUP", **condition)  # type: ignore[arg-type]
        else:
            undo = self.table.put(self._signup_values(previous), **condition)  # type: ignore[arg-type]
        items = [undo, *(limit.item(self.table, moment, delta=-1) for limit in limits)]
        with contextlib.suppress(TransactionCancelled):
            self.table.transact(items)

    def uncount(self, limits: list[RateLimit], moment: datetime) -> None:
        with contextlib.suppress(TransactionCancelled):
            self.table.transact([limit.item(self.table, moment, delta=-1) for limit in limits])

    def _transact(self, items: list[TransactItem], limits: list[RateLimit], moment: datetime) -> None:
        try:
            self.table.transact(items)
        except TransactionCancelled as cancelled:
            index = cancelled.failed_index
            if index is not None and index < len(limits):
                raise RateLimited(limits[index], seconds_to_next_hour(moment)) from cancelled
            raise SignupRace from cancelled

    def _signup_values(self, signup: Signup) -> dict[str, Any]:
        return {
            "pk": self._pk(signup.email_canonical),
            "sk": "SIGNUP",
            "type": "signup",
            "email": signup.email,
            "email_canonical": signup.email_canonical,
            "language": signup.language,
            TOKEN_INDEX_KEY: signup.token_hash,
            "status": signup.status.value,
            "created_at": _ts(signup.created_at),
            "expires_at": _ts(signup.expires_at),
            "used_at": _ts(signup.used_at) if signup.used_at else None,
            # Kept a week past expiry so that an old link says "expired", not "not found".
            TTL_ATTRIBUTE: _epoch(signup.expires_at + timedelta(days=7)),
        }

    @staticmethod
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

    # --- Activation: one transaction creates the whole account ----------------------------
    def complete(
        self,
        account: NewAccount,
        users: UserRepository,
        environments: EnvironmentRepository,
        *,
        evidence: dict[str, Any],
    ) -> None:
        """Use the sign-up's token and create user, environment and sentinels at once.

        Raises ``UsernameTaken``, ``ActivationUsed`` or ``ActivationExpired``."""
        signup, user = account.signup, account.user
        used_at = user.created_at
        items = [
            self.table.update_item(
                self._pk(signup.email_canonical),
                "SIGNUP",
                update="SET #s = :used, used_at = :at, user_id = :u",
                names={"#s": "status", "#h": TOKEN_INDEX_KEY, "#e": "expires_at"},
                values={
                    ":used": SignupStatus.USED.value,
                    ":at": _ts(used_at),
                    ":u": user.id,
                    ":h": signup.token_hash,
                    ":pending": SignupStatus.PENDING.value,
                    ":now": _ts(used_at),
                },
                condition="#h = :h AND #s = :pending AND #e > :now",
            ),
            self.table.put(
                {
                    "pk": f"USERNAME#{canonical_username(user.username)}",
                    "sk": "USERNAME",
                    "user_id": user.id,
                    "environment_id": user.environment_id,
                },
                condition=NOT_EXISTS,
            ),
            self.table.put(
                {
                    "pk": f"EMAIL#{user.email_canonical}",
                    "sk": "EMAIL",
                    "user_id": user.id,
                    "environment_id": user.environment_id,
                },
                condition=NOT_EXISTS,
            ),
            users.put_item(user),
            users.terms_evidence_item(user, evidence),
            environments.put_item(account.environment),
            environments.member_item(account.environment.id, user),
        ]
        try:
            self.table.transact(items)
        except TransactionCancelled as cancelled:
            if cancelled.failed_index == 1:
                raise errors.UsernameTaken from cancelled
            # The token was used (or superseded, or expired) by a concurrent request.
            current = self.find_by_token_hash(signup.token_hash)
            if current is None:
                raise errors.ActivationNotFound from cancelled
            if current.status is SignupStatus.USED or cancelled.conflicted:
                raise errors.ActivationUsed from cancelled
            raise errors.ActivationExpired from cancelled

    def undo_complete(
        self, account: NewAccount, users: UserRepository, environments: EnvironmentRepository
    ) -> None:
        """Take back ``complete`` when the identity service could not create the login,
        so the same link can be used again."""
        signup, user = account.signup, account.user
        self.table.transact(
            [
                self.table.update_item(
                    self._pk(signup.email_canonical),
                    "SIGNUP",
                    update="SET #s = :pending REMOVE used_at, user_id",
                    names={"#s": "status", "#u": "user_id"},
                    values={":pending": SignupStatus.PENDING.value, ":id": user.id},
                    condition="#u = :id",
                ),
                self.table.delete(f"USERNAME#{canonical_username(user.username)}", "USERNAME"),
                self.table.delete(f"EMAIL#{user.email_canonical}", "EMAIL"),
                self.table.delete(f"USER#{user.id}", "USER"),
                self.table.delete(f"USER#{user.id}", f"TERMS#{user.terms.version if user.terms else ''}"),
                self.table.delete(f"ENV#{account.environment.id}", "ENV"),
                self.table.delete(f"ENV#{account.environment.id}", f"MEMBER#{user.id}"),
            ]
        )


# --- Users ---------------------------------------------------------------------------------
class UserRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, user_id: str) -> User | None:
        item = self.table.get(f"USER#{user_id}", "USER")
        return self._user(item) if item else None

    def find_login(self, login: str, *, is_email: bool) -> AccountRef | None:
        """Who a username or email belongs to (one GetItem on a sentinel)."""
        pk = f"EMAIL#{login}" if is_email else f"USERNAME#{canonical_username(login)}"
        item = self.table.get(pk, "EMAIL" if is_email else "USERNAME")
        return AccountRef(item["user_id"], item["environment_id"]) if item else None

    def update_profile(self, user_id: str, changes: dict[str, Any], moment: datetime) -> User:
        names = {f"#{k}": k for k in changes} | {"#updated_at": "updated_at"}
        values = {f":{k}": v for k, v in changes.items()} | {":updated_at": _ts(moment)}
        update = "SET " + ", ".join(f"#{k} = :{k}" for k in [*changes, "updated_at"])
        try:
            item = self.table.update(
                f"USER#{user_id}",
                "USER",
                update=update,
                names=names,
                values=values,
                condition="attribute_exists(pk)",
            )
        except ConditionFailed as exc:
            raise errors.NotFound("This user does not exist.") from exc
        return self._user(item)

    def accept_terms(self, user: User, evidence: dict[str, Any]) -> User:
        assert user.terms is not None
        self.table.transact(
            [
                self.table.update_item(
                    f"USER#{user.id}",
                    "USER",
                    update="SET terms_version = :v, terms_accepted_at = :at, updated_at = :at",
                    names={"#pk": "pk"},
                    values={":v": user.terms.version, ":at": _ts(user.terms.accepted_at)},
                    condition="attribute_exists(#pk)",
                ),
                self.terms_evidence_item(user, evidence),
            ]
        )
        return user

    def put_item(self, user: User) -> TransactItem:
        return self.table.put(
            {
                "pk": f"USER#{user.id}",
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
                "notifications": user.notifications.model_dump(),
                "terms_version": user.terms.version if user.terms else None,
                "terms_accepted_at": _ts(user.terms.accepted_at) if user.terms else None,
                "created_at": _ts(user.created_at),
                "updated_at": _ts(user.updated_at),
            },
            condition=NOT_EXISTS,
        )

    def terms_evidence_item(self, user: User, evidence: dict[str, Any]) -> TransactItem:
        """Append-only proof of acceptance: version, time, and where it came from."""
        assert user.terms is not None
        return self.table.put(
            {
                "pk": f"USER#{user.id}",
                "sk": f"TERMS#{user.terms.version}",
                "type": "terms_acceptance",
                "version": user.terms.version,
                "accepted_at": rfc3339(user.terms.accepted_at),
                **evidence,
            }
        )

    @staticmethod
    def _user(item: dict[str, Any]) -> User:
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
            created_at=datetime.fromisoformat(item["created_at"]),
            updated_at=datetime.fromisoformat(item["updated_at"]),
        )


# --- Environments --------------------------------------------------------------------------
class EnvironmentRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, environment_id: str) -> Environment | None:
        item = self.table.get(f"ENV#{environment_id}", "ENV")
        return self.environment(item) if item else None

    def put_item(self, environment: Environment) -> TransactItem:
        return self.table.put(
            {
                "pk": f"ENV#{environment.id}",
                "sk": "ENV",
                "type": "environment",
                "id": environment.id,
                "name": environment.name,
                "plan": environment.plan.value,
                "credit_balance_cents": environment.credit_balance_cents,
                "currency": environment.currency,
                "restricted_to_idp": environment.restricted_to_idp,
                "version": 1,
                "created_at": _ts(environment.created_at),
                "updated_at": _ts(environment.updated_at),
            },
            condition=NOT_EXISTS,
        )

    def member_item(self, environment_id: str, user: User) -> TransactItem:
        return self.table.put(
            {
                "pk": f"ENV#{environment_id}",
                "sk": f"MEMBER#{user.id}",
                "type": "member",
                "user_id": user.id,
                "role": user.role.value,
            },
            condition=NOT_EXISTS,
        )

    @staticmethod
    def environment(item: dict[str, Any]) -> Environment:
        return Environment(
            id=item["id"],
            name=item["name"],
            plan=item.get("plan", "free"),
            credit_balance_cents=item.get("credit_balance_cents", 0),
            currency=item.get("currency", "EUR"),
            restricted_to_idp=item.get("restricted_to_idp"),
            created_at=datetime.fromisoformat(item["created_at"]),
            updated_at=datetime.fromisoformat(item["updated_at"]),
        )


# --- Idempotency records ---------------------------------------------------------------------
@dataclass(frozen=True)
class IdempotencyRecord:
    fingerprint: str
    completed: bool
    status_code: int = 0
    body: str = ""
    content_type: str = ""


class IdempotencyRepository:
    """What was answered to a request with an ``Idempotency-Key``, kept for 24 hours.

    Item: ``IDEMPOTENCY#<scope>#<sha256(key)>`` / ``IDEMPOTENCY``. A record is ``in_progress``
    while its first request runs (at most ``IN_PROGRESS_SECONDS``, then a retry may take over),
    then ``completed`` with the response to replay."""

    RETENTION = timedelta(hours=24)
    IN_PROGRESS_SECONDS = 60

    def __init__(self, table: Table) -> None:
        self.table = table

    @staticmethod
    def _pk(scope: str, key: str) -> str:
        return f"IDEMPOTENCY#{scope}#{hashlib.sha256(key.encode()).hexdigest()}"

    def begin(self, scope: str, key: str, fingerprint: str, moment: datetime) -> IdempotencyRecord | None:
        """Claim the key for this request: ``None`` if claimed, else the record that holds it."""
        pk = self._pk(scope, key)
        now_epoch = _epoch(moment)
        try:
            self.table.put_conditionally(
                {
                    "pk": pk,
                    "sk": "IDEMPOTENCY",
                    "type": "idempotency",
                    "fingerprint": fingerprint,
                    "status": "in_progress",
                    "in_progress_until": now_epoch + self.IN_PROGRESS_SECONDS,
                    "expires_at": _epoch(moment + self.RETENTION),
                    TTL_ATTRIBUTE: _epoch(moment + self.RETENTION),
                },
                condition="attribute_not_exists(pk) OR expires_at < :now OR "
                "(#s = :in_progress AND in_progress_until < :now)",
                names={"#s": "status"},
                condition_values={":now": now_epoch, ":in_progress": "in_progress"},
            )
        except ConditionFailed:
            item = self.table.get(pk, "IDEMPOTENCY")
            if item is None:  # expired and removed in between: let the caller retry
                return IdempotencyRecord(fingerprint=fingerprint, completed=False)
            return IdempotencyRecord(
                fingerprint=item["fingerprint"],
                completed=item["status"] == "completed",
                status_code=item.get("status_code", 0),
                body=item.get("body", ""),
                content_type=item.get("content_type", ""),
            )
        return None

    def finish(
        self, scope: str, key: str, fingerprint: str, status_code: int, body: str, content_type: str
    ) -> None:
        with contextlib.suppress(ConditionFailed):  # taken over after a very slow first request
            self.table.update(
                self._pk(scope, key),
                "IDEMPOTENCY",
                update="SET #s = :completed, status_code = :code, body = :body, content_type = :type",
                names={"#s": "status", "#f": "fingerprint"},
                values={
                    ":completed": "completed",
                    ":code": status_code,
                    ":body": body,
                    ":type": content_type,
                    ":fingerprint": fingerprint,
                },
                condition="#f = :fingerprint",
            )

    def abandon(self, scope: str, key: str, fingerprint: str) -> None:
        """Free the key after a failure, so that the same request can be retried."""
        with contextlib.suppress(TransactionCancelled):
            self.table.transact(
                [
                    self.table.delete(
                        self._pk(scope, key),
                        "IDEMPOTENCY",
                        condition="#f = :fingerprint AND #s = :in_progress",
                        names={"#f": "fingerprint", "#s": "status"},
                        condition_values={":fingerprint": fingerprint, ":in_progress": "in_progress"},
                    )
                ]
            )
