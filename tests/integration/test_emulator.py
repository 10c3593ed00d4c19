"""The local emulator's own guarantees (infra/local/emulator.py), against a fresh emulator."""

from __future__ import annotations

from typing import Any


def test_emulated_transactions_check_all_conditions_before_writing_anything() -> None:
    import os

    import boto3

    from infra.local.bootstrap import bootstrap
    from infra.local.emulator import LocalAws

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    emulator = LocalAws().start()
    try:
        table = bootstrap(emulator.endpoint_url, stage="unit").table_name
        ddb = boto3.client("dynamodb", endpoint_url=emulator.endpoint_url, region_name="eu-west-1")
        ddb.put_item(TableName=table, Item={"pk": {"S": "old"}, "sk": {"S": "x"}, "v": {"N": "1"}})
        items = [
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": "old"}, "sk": {"S": "x"}},
                    "UpdateExpression": "SET v = :two",
                    "ExpressionAttributeValues": {":two": {"N": "2"}},
                }
            },
            {"Put": {"TableName": table, "Item": {"pk": {"S": "new"}, "sk": {"S": "x"}}}},
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": {"pk": {"S": "missing"}, "sk": {"S": "x"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
        ]
        try:
            ddb.transact_write_items(TransactItems=items)
            raise AssertionError("the transaction should have been cancelled")
        except ddb.exceptions.TransactionCanceledException as cancelled:
            reasons = [r["Code"] for r in cancelled.response["CancellationReasons"]]
        assert reasons == ["None", "None", "ConditionalCheckFailed"]
        old = ddb.get_item(TableName=table, Key={"pk": {"S": "old"}, "sk": {"S": "x"}})["Item"]
        assert old["v"] == {"N": "1"}  # nothing was written
        assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "new"}, "sk": {"S": "x"}})
        ddb.transact_write_items(TransactItems=items[:2])
        assert ddb.get_item(TableName=table, Key={"pk": {"S": "old"}, "sk": {"S": "x"}})["Item"]["v"] == {
            "N": "2"
        }
    finally:
        emulator.stop()


def _every_kind_of_value() -> dict[str, Any]:
    """An item in the form moto hands its serialiser: binary values as raw bytes."""
    return {
        "pk": {"S": "a"},
        "number": {"N": "12.5"},
        "empty": {"S": ""},
        "binary": {"B": b"\x00\x01"},
        "binaries": {"BS": [b"x", b"y"]},
        "strings": {"SS": ["a", "b"]},
        "numbers": {"NS": ["1", "2"]},
        "flag": {"BOOL": False},
        "nothing": {"NULL": True},
        "nested": {
            "M": {
                "list": {"L": [{"S": "q"}, {"N": "1"}, {"BOOL": True}, {"M": {}}, {"L": []}]},
                "binary": {"B": b"zz"},
            }
        },
        "plain": {"M": {"deep": {"L": [{"M": {"at": {"S": "2026-01-01"}}}]}}},
    }


def test_emulated_item_responses_are_what_moto_itself_would_send() -> None:
    """The emulator copies attribute values in wire form instead of walking moto's shapes
    (``_patch_item_serialisation``): the bytes must be the same, binary values included."""
    from moto.core import serialize
    from moto.core.responses import get_service_model

    from infra.local.emulator import _patch_item_serialisation

    _patch_item_serialisation()  # as the emulator does when it starts
    fast = serialize.get_serializer_class("dynamodb", "json")
    assert fast is not serialize.JSONSerializer
    item = _every_kind_of_value()
    results = {
        "GetItem": {"Item": item},
        "BatchGetItem": {"Responses": {"t": [item, {"pk": {"S": "b"}}]}, "UnprocessedKeys": {}},
        "Query": {"Items": [item], "Count": 1, "ScannedCount": 1, "LastEvaluatedKey": {"pk": {"S": "a"}}},
        "UpdateItem": {"Attributes": item},
        "TransactGetItems": {"Responses": [{"Item": item}, {}]},
    }
    model = get_service_model("dynamodb")
    for operation, result in results.items():
        shape = model.operation_model(operation)
        answers = [
            serializer(
                operation_model=shape, pretty_print=False, value_picker=serialize.XFormedAttributePicker()
            ).serialize(result)
            for serializer in (serialize.JSONSerializer, fast)
        ]
        assert answers[0] == answers[1], operation


def test_emulated_items_keep_every_kind_of_value_and_cached_update_expressions_apply_afresh() -> None:
    import os

    import boto3

    from infra.local.bootstrap import bootstrap
    from infra.local.emulator import LocalAws

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    emulator = LocalAws().start()
    try:
        table = bootstrap(emulator.endpoint_url, stage="unit").table_name
        ddb = boto3.client("dynamodb", endpoint_url=emulator.endpoint_url, region_name="eu-west-1")
        item = {**_every_kind_of_value(), "sk": {"S": "x"}}
        ddb.put_item(TableName=table, Item=item)
        keys = [{"pk": {"S": "a"}, "sk": {"S": "x"}}]
        [got] = ddb.batch_get_item(RequestItems={table: {"Keys": keys}})["Responses"][table]
        assert got["binary"] == {"B": b"\x00\x01"} and got["nested"]["M"]["binary"] == {"B": b"zz"}
        assert sorted(got["binaries"]["BS"]) == [b"x", b"y"]
        assert got["plain"] == item["plain"] and got["number"] == {"N": "12.5"}
        # One expression text, parsed once, applied to other items with other values.
        update = {
            "TableName": table,
            "UpdateExpression": "SET #n = #n + :step, #l[0] = :first REMOVE #gone",
            "ExpressionAttributeNames": {"#n": "count", "#l": "list", "#gone": "gone"},
            "ConditionExpression": "#n = :was",
            "ReturnValues": "ALL_NEW",
        }
        for pk, start in (("b", "1"), ("c", "10"), ("b", "3")):
            if start != "3":
                ddb.put_item(
                    TableName=table,
                    Item={
                        "pk": {"S": pk},
                        "sk": {"S": "x"},
                        "count": {"N": start},
                        "list": {"L": [{"S": "old"}, {"S": "kept"}]},
                        "gone": {"S": "soon"},
                    },
                )
            after = ddb.update_item(
                **update,
                Key={"pk": {"S": pk}, "sk": {"S": "x"}},
                ExpressionAttributeValues={":step": {"N": "2"}, ":first": {"S": pk}, ":was": {"N": start}},
            )["Attributes"]
            assert after["count"] == {"N": str(int(start) + 2)}
            assert after["list"] == {"L": [{"S": pk}, {"S": "kept"}]} and "gone" not in after
    finally:
        emulator.stop()
