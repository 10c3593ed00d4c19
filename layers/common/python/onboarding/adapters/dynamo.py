"""A small typed wrapper over the DynamoDB client: (de)serialisation, the table's key
layout, and transactions whose failed conditions come back by name.

Two kinds of things live here and look different on purpose. *Writes* (``Put``,
``Update``, ``Delete``, ``Check``) are plain values that describe one operation; nothing
happens when one is built. ``Table``'s methods are the calls that go to DynamoDB: ``get``,
``get_many``, ``get_batch``, ``query``, ``query_index``, ``write`` (one operation) and
``transact`` (several, all or nothing, each under a name so that a failure says which one
failed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from onboarding.adapters import aws

# The table's key schema. ``infra/platform.py`` reads these to create the table (in CDK and
# on the local emulator), so the layout is written here and only here.
PK = "pk"
SK = "sk"
TTL_ATTRIBUTE = "expires_ttl"
TOKEN_INDEX = "by_token_hash"
TOKEN_INDEX_KEY = "token_hash"
# Organisations waiting for an operator's review, oldest first (a sparse index).
REVIEW_INDEX = "by_review_queue"
REVIEW_INDEX_KEY = "review_queue"
REVIEW_INDEX_SORT_KEY = "requested_at"
# Registration jobs that are not final, by when the outbox sweeper should look at them (a
# sparse index: a finished job drops out of it). See ``repositories/jobs.py``.
OUTBOX_INDEX = "by_outbox"
OUTBOX_INDEX_KEY = "outbox"
OUTBOX_INDEX_SORT_KEY = "outbox_due"
# Users by the domain of their address: whom a tenant restricted to its own IdP restricts
# (read by the tenant provisioner only, never on a request path). See ``repositories/users.py``.
EMAIL_DOMAIN_INDEX = "by_email_domain"
EMAIL_DOMAIN_INDEX_KEY = "email_domain"
# (name, partition key, sort key) of every global secondary index.
INDEXES: tuple[tuple[str, str, str | None], ...] = (
    (TOKEN_INDEX, TOKEN_INDEX_KEY, None),
    (REVIEW_INDEX, REVIEW_INDEX_KEY, REVIEW_INDEX_SORT_KEY),
    (OUTBOX_INDEX, OUTBOX_INDEX_KEY, OUTBOX_INDEX_SORT_KEY),
    (EMAIL_DOMAIN_INDEX, EMAIL_DOMAIN_INDEX_KEY, None),
)

NOT_EXISTS = "attribute_not_exists(pk)"
EXISTS = "attribute_exists(pk)"


class TransactionCancelled(Exception):
    """A transaction was refused; ``failed`` names the writes whose condition did not hold."""

    def __init__(self, failed: frozenset[str], *, conflicted: bool) -> None:
        super().__init__(f"transaction cancelled: failed={sorted(failed)} conflicted={conflicted}")
        self.failed = failed
        self.conflicted = conflicted  # another transaction touched the same items meanwhile

    def failed_on(self, *names: str) -> bool:
        return any(name in self.failed for name in names)

    def failed_on_kind(self, kind: str) -> bool:
        """Whether a write named ``<kind>:<something>`` failed (one of a family, e.g. claims)."""
        return any(name.partition(":")[0] == kind for name in self.failed)


class ConditionFailed(Exception):
    """A single conditional write found the item in another state."""


# --- Writes: descriptions of one operation ---------------------------------------------------
@dataclass(frozen=True)
class Put:
    item: Mapping[str, Any]
    condition: str | None = None
    names: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Update:
    pk: str
    sk: str
    expression: str
    names: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)  # for the expression and the condition
    condition: str | None = None
    returns: str = "ALL_NEW"  # what ``Table.write`` gives back (e.g. UPDATED_OLD); not in transactions


@dataclass(frozen=True)
class Delete:
    pk: str
    sk: str
    condition: str | None = None
    names: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    pk: str
    sk: str
    condition: str
    names: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)


Write = Put | Update | Delete | Check


# --- (De)serialisation ---------------------------------------------------------------------------
def _serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    serializer = _serializer()
    return {k: serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {k: _plain(deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    """Decimals back to int (we store only integers), recursively."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def key(pk: str, sk: str) -> dict[str, Any]:
    return {PK: {"S": pk}, SK: {"S": sk}}


def _expression_parts(
    condition: str | None, names: Mapping[str, str], values: Mapping[str, Any]
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if condition:
        params["ConditionExpression"] = condition
    if names:
        params["ExpressionAttributeNames"] = dict(names)
    if values:
        params["ExpressionAttributeValues"] = to_item(values)
    return params


# --- The calls ------------------------------------------------------------------------------------
class Table:
    def __init__(self, name: str, client: Any | None = None) -> None:
        self.name = name
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.dynamodb()

    def get(self, pk: str, sk: str, *, consistent: bool = True) -> dict[str, Any] | None:
        response = self.client.get_item(TableName=self.name, Key=key(pk, sk), ConsistentRead=consistent)
        item = response.get("Item")
        return from_item(item) if item else None

    def get_many(self, keys: list[tuple[str, str]]) -> list[dict[str, Any] | None]:
        """Several items in one round trip, consistently (TransactGetItems), in the order asked."""
        response = self.client.transact_get_items(
            TransactItems=[{"Get": {"TableName": self.name, "Key": key(pk, sk)}} for pk, sk in keys]
        )
        return [from_item(r["Item"]) if r.get("Item") else None for r in response["Responses"]]

    def get_batch(self, keys: list[tuple[str, str]]) -> list[dict[str, Any] | None]:
        """Many items at once, each read consistently but not as one transaction (BatchGetItem:
        half the cost of ``get_many``), in the order asked; duplicates allowed."""
        unique = list(dict.fromkeys(keys))
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for start in range(0, len(unique), 100):  # BatchGetItem's limit
            pending: dict[str, Any] | None = {
                self.name: {
                    "Keys": [key(pk, sk) for pk, sk in unique[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            while pending:
                response = self.client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self.name, []):
                    plain = from_item(item)
                    found[(plain[PK], plain[SK])] = plain
                pending = response.get("UnprocessedKeys") or None  # throttled: ask again for the rest
        return [found.get(k) for k in keys]

    def query(
        self, pk: str, sk_prefix: str | None = None, *, newest_first: bool = False, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The items of a partition (or those whose sort key starts with ``sk_prefix``)."""
        condition, values = "pk = :pk", {":pk": {"S": pk}}
        if sk_prefix:
            condition += " AND begins_with(sk, :prefix)"
            values[":prefix"] = {"S": sk_prefix}
        params: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
            "ScanIndexForward": not newest_first,
        }
        if limit is not None:
            params["Limit"] = limit
        items: list[dict[str, Any]] = []
        while True:
            response = self.client.query(**params)
            items.extend(from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response or (limit is not None and len(items) >= limit):
                return items[:limit] if limit is not None else items
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def query_index(
        self,
        index: str,
        attribute: str,
        value: str,
        *,
        sort_key: str | None = None,
        up_to: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """The items of an index partition, in sort key order; with ``sort_key`` and ``up_to``
        only those whose sort key is at most ``up_to``; at most ``limit`` of them."""
        condition = "#k = :v"
        names = {"#k": attribute}
        values: dict[str, Any] = {":v": {"S": value}}
        if sort_key is not None and up_to is not None:
            condition += " AND #s <= :upto"
            names["#s"] = sort_key
            values[":upto"] = {"S": up_to}
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if limit is not None:
            params["Limit"] = limit
        while True:
            response = self.client.query(**params)
            items.extend(from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response or (limit is not None and len(items) >= limit):
                return items[:limit] if limit is not None else items
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def write(self, operation: Write) -> dict[str, Any] | None:
        """One write; an ``Update`` returns the item as it is afterwards (or what its
        ``returns`` asks for). ``ConditionFailed`` if the write's condition does not hold."""
        try:
            if isinstance(operation, Update):
                response = self.client.update_item(**self._wire(operation), ReturnValues=operation.returns)
                return from_item(response.get("Attributes") or {})
            if isinstance(operation, Put):
                self.client.put_item(**self._wire(operation))
            elif isinstance(operation, Delete):
                self.client.delete_item(**self._wire(operation))
            else:
                raise TypeError("a condition check only exists inside a transaction")
        except Exception as exc:
            if aws.error_code(exc) == "ConditionalCheckFailedException":
                raise ConditionFailed from exc
            raise
        return None

    def transact(self, writes: Mapping[str, Write]) -> None:
        """All or nothing. On failed conditions ``TransactionCancelled`` names the writes."""
        names = list(writes)
        operations = [{_OPERATION[type(write)]: self._wire(write)} for write in writes.values()]
        try:
            self.client.transact_write_items(TransactItems=operations)
        except Exception as exc:
            if aws.error_code(exc) != "TransactionCanceledException":
                raise
            reasons = [
                r.get("Code", "None") for r in getattr(exc, "response", {}).get("CancellationReasons", [])
            ]
            failed = frozenset(
                name
                for name, reason in zip(names, reasons, strict=False)
                if reason == "ConditionalCheckFailed"
            )
            raise TransactionCancelled(failed, conflicted="TransactionConflict" in reasons) from exc

    def _wire(self, write: Write) -> dict[str, Any]:
        """A write in the client's wire form."""
        params: dict[str, Any] = {"TableName": self.name}
        if isinstance(write, Put):
            params["Item"] = to_item(write.item)
        else:
            params["Key"] = key(write.pk, write.sk)
        if isinstance(write, Update):
            params["UpdateExpression"] = write.expression
        params.update(_expression_parts(write.condition, write.names, write.values))
        return params


_OPERATION: dict[type, str] = {Put: "Put", Update: "Update", Delete: "Delete", Check: "ConditionCheck"}
