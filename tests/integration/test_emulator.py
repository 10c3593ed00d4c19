"""The local emulator's own guarantees (infra/local/emulator.py), against a fresh emulator."""

from __future__ import annotations


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
