"""Environments (tenants), their members, and their prepaid credit with its ledger.

Item layout (pk / sk):
  ENV#<environment id> / ENV                          the environment: name, plan, login policy,
                                                      credit balance (integer cents) and the
                                                      number of its organisations (plan limit)
  ENV#<environment id> / MEMBER#<user id>             a member and its role
  ENV#<environment id> / CREDIT#<time>#<entry id>     one top-up: amount, operator, reference;
                                                      written with the balance, never changed
The environment's organisations live in the same partition (see ``organisations``), so that an
environment and its organisations are read in one Query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onboarding.adapters.dynamo import (
    EXISTS,
    NOT_EXISTS,
    Delete,
    Put,
    Table,
    TransactionCancelled,
    Update,
)
from onboarding.domain import errors
from onboarding.domain.models import CreditEntry, Environment, User

ENVIRONMENT_SK = "ENV"
CREDIT_PREFIX = "CREDIT#"


def environment_pk(environment_id: str) -> str:
    return f"ENV#{environment_id}"


def environment_put(environment: Environment) -> Put:
    return Put(
        {
            "pk": environment_pk(environment.id),
            "sk": ENVIRONMENT_SK,
            "type": "environment",
            "id": environment.id,
            "name": environment.name,
            "plan": environment.plan.value,
            "credit_balance_cents": environment.credit_balance_cents,
            "currency": environment.currency,
            "restricted_to_idp": environment.restricted_to_idp,
            "version": 1,
            "created_at": environment.created_at.isoformat(),
            "updated_at": environment.updated_at.isoformat(),
        },
        condition=NOT_EXISTS,
    )


def member_put(environment_id: str, user: User) -> Put:
    return Put(
        {
            "pk": environment_pk(environment_id),
            "sk": f"MEMBER#{user.id}",
            "type": "member",
            "user_id": user.id,
            "role": user.role.value,
        },
        condition=NOT_EXISTS,
    )


def removal(environment_id: str, member: User) -> dict[str, Delete]:
    """What ``environment_put`` and ``member_put`` wrote, to take it back."""
    pk = environment_pk(environment_id)
    return {"environment": Delete(pk, ENVIRONMENT_SK), "member": Delete(pk, f"MEMBER#{member.id}")}


def environment_from_item(item: dict[str, Any]) -> Environment:
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


def is_environment_item(item: dict[str, Any]) -> bool:
    return item.get("sk") == ENVIRONMENT_SK


class EnvironmentRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, environment_id: str) -> Environment | None:
        item = self.table.get(environment_pk(environment_id), ENVIRONMENT_SK)
        return environment_from_item(item) if item else None

    def member_ids(self, environment_id: str) -> list[str]:
        return [item["user_id"] for item in self.table.query(environment_pk(environment_id), "MEMBER#")]

    def add_credit(self, environment_id: str, entry: CreditEntry) -> Environment:
        """The balance and the ledger entry change together, or neither does."""
        pk = environment_pk(environment_id)
        try:
            self.table.transact(
                {
                    "balance": Update(
                        pk,
                        ENVIRONMENT_SK,
                        "ADD credit_balance_cents :amount SET updated_at = :at",
                        values={":amount": entry.amount_cents, ":at": entry.at.isoformat()},
                        condition=EXISTS,
                    ),
                    "entry": Put(
                        {
                            "pk": pk,
                            "sk": f"{CREDIT_PREFIX}{entry.at.isoformat()}#{entry.id}",
                            "type": "credit_entry",
                            **entry.model_dump(mode="json"),
                        },
                        condition=NOT_EXISTS,
                    ),
                }
            )
        except TransactionCancelled as cancelled:
            if cancelled.failed_on("balance"):
                raise errors.EnvironmentNotFound from cancelled
            raise errors.CreditEntryExists from cancelled
        environment = self.get(environment_id)
        assert environment is not None
        return environment

    def credit_entries(self, environment_id: str) -> list[CreditEntry]:
        items = self.table.query(environment_pk(environment_id), CREDIT_PREFIX, newest_first=True)
        return [CreditEntry.model_validate(item) for item in items]
