"""A small typed wrapper over the DynamoDB client: (de)serialisation, transactions whose
cancellation reasons come back per item, and the table's key layout in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onboarding.adapters import aws

# The table's key schema. The CDK data construct and the local bootstrap read these
# through ``infra/platform.py``, so the layout is written once.
PK = "pk"
SK = "sk"
TTL_ATTRIBUTE = "expires_ttl"
TOKEN_INDEX = "by_token_hash"
TOKEN_INDEX_KEY = "token_hash"
# Organisations waiting for an operator's review, oldest first (a sparse index).
REVIEW_INDEX = "by_review_queue"
REVIEW_INDEX_KEY = "review_queue"
REVIEW_INDEX_SORT_KEY = "requested_at"


class TransactionCancelled(Exception):
    """A transaction failed; ``failed_index`` is the first item whose condition failed."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(f"transaction cancelled: {reasons}")
        self.reasons = reasons

    @property
    def failed_indexes(self) -> list[int]:
        return [index for index, reason in enumerate(self.reasons) if reason == "ConditionalCheckFailed"]

    @property
    def failed_index(self) -> int | None:
        return next(iter(self.failed_indexes), None)

    @property
    def conflicted(self) -> bool:
        return "TransactionConflict" in self.reasons


class ConditionFailed(Exception):
    """A single conditional write found the item in another state."""


def _serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    serializer = _serializer()
    return {k: serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    deserializer = _deserializer()
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


@dataclass
class TransactItem:
    """One operation of a ``TransactWriteItems`` call, in the client's wire form."""

    operation: str  # Put | Update | Delete | ConditionCheck
    params: dict[str, Any] = field(default_factory=dict)


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

    def query_partition(self, pk: str, sk_prefix: str | None = None) -> list[dict[str, Any]]:
        """Every item of a partition (or those whose sort key starts with ``sk_prefix``)."""
        condition, values = "pk = :pk", {":pk": {"S": pk}}
        if sk_prefix:
            condition += " AND begins_with(sk, :prefix)"
            values[":prefix"] = {"S": sk_prefix}
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        while True:
            response = self.client.query(**params)
            items.extend(from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def query_index(self, index: str, attribute: str, value: str) -> list[dict[str, Any]]:
        response = self.client.query(
            TableName=self.name,
            IndexName=index,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": attribute},
            ExpressionAttributeValues={":v": {"S": value}},
        )
        return [from_item(item) for item in response.get("Items", [])]

    def update(
        self,
        pk: str,
        sk: str,
        *,
        update: str,
        names: dict[str, str],
        values: dict[str, Any],
        condition: str | None = None,
    ) -> dict[str, Any]:
        """UpdateItem returning the new item; ``ConditionFailed`` if the condition does not hold."""
        params = self.update_item(
            pk, sk, update=update, names=names, values=values, condition=condition
        ).params
        params["ReturnValues"] = "ALL_NEW"
        try:
            response = self.client.update_item(**params)
        except Exception as exc:
            if aws.error_code(exc) == "ConditionalCheckFailedException":
                raise ConditionFailed from exc
            raise
        return from_item(response["Attributes"])

    def put_conditionally(
        self,
        values: dict[str, Any],
        *,
        condition: str,
        names: dict[str, str] | None = None,
        condition_values: dict[str, Any] | None = None,
    ) -> None:
        """PutItem that raises ``ConditionFailed`` when ``condition`` does not hold."""
        params: dict[str, Any] = {"TableName": self.name, "Item": to_item(values)}
        self._add_condition(params, condition, names, condition_values)
        try:
            self.client.put_item(**params)
        except Exception as exc:
            if aws.error_code(exc) == "ConditionalCheckFailedException":
                raise ConditionFailed from exc
            raise

    # Builders of transaction items -------------------------------------------------------
    def put(
        self,
        values: dict[str, Any],
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        condition_values: dict[str, Any] | None = None,
    ) -> TransactItem:
        params: dict[str, Any] = {"TableName": self.name, "Item": to_item(values)}
        self._add_condition(params, condition, names, condition_values)
        return TransactItem("Put", params)

    def delete(
        self,
        pk: str,
        sk: str,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        condition_values: dict[str, Any] | None = None,
    ) -> TransactItem:
        params: dict[str, Any] = {"TableName": self.name, "Key": key(pk, sk)}
        self._add_condition(params, condition, names, condition_values)
        return TransactItem("Delete", params)

    def update_item(
        self,
        pk: str,
        sk: str,
        *,
        update: str,
        names: dict[str, str],
        values: dict[str, Any],
        condition: str | None = None,
    ) -> TransactItem:
        params: dict[str, Any] = {"TableName": self.name, "Key": key(pk, sk), "UpdateExpression": update}
        self._add_condition(params, condition, names, values)
        return TransactItem("Update", params)

    def check(
        self,
        pk: str,
        sk: str,
        *,
        condition: str,
        names: dict[str, str] | None = None,
        condition_values: dict[str, Any] | None = None,
    ) -> TransactItem:
        params: dict[str, Any] = {"TableName": self.name, "Key": key(pk, sk)}
        self._add_condition(params, condition, names, condition_values)
        return TransactItem("ConditionCheck", params)

    @staticmethod
    def _add_condition(
        params: dict[str, Any],
        condition: str | None,
        names: dict[str, str] | None,
        values: dict[str, Any] | None,
    ) -> None:
        if condition:
            params["ConditionExpression"] = condition
        if names:
            params["ExpressionAttributeNames"] = names
        if values:
            params["ExpressionAttributeValues"] = to_item(values)

    def transact(self, items: list[TransactItem]) -> None:
        """All or nothing; on a failed condition, ``TransactionCancelled`` says which item."""
        try:
            self.client.transact_write_items(TransactItems=[{i.operation: i.params} for i in items])
        except Exception as exc:
            if aws.error_code(exc) != "TransactionCanceledException":
                raise
            reasons = [
                r.get("Code", "None") for r in getattr(exc, "response", {}).get("CancellationReasons", [])
            ]
            raise TransactionCancelled(reasons) from exc
