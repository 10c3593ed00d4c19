"""The local runner's event adapter and router: the same shape API Gateway produces."""

from __future__ import annotations

import base64

from infra.local.events import proxy_event
from infra.local.server import _path_parameters
from infra.platform import Route


def test_proxy_event_has_the_rest_v1_shape() -> None:
    event = proxy_event(
        method="POST",
        raw_path="/auth/signup?x=1&x=2",
        headers=[("Content-Type", "application/json")],
        body=b'{"email": "a@b.nl"}',
        resource="/auth/signup",
        path_parameters=None,
        source_ip="127.0.0.1",
        claims=None,
    )
    assert event["httpMethod"] == "POST" and event["path"] == "/auth/signup"
    assert event["queryStringParameters"] == {"x": "2"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert "authorizer" not in event["requestContext"]
    assert event["body"] == '{"email": "a@b.nl"}' and event["isBase64Encoded"] is False


def test_binary_bodies_travel_base64_encoded() -> None:
    event = proxy_event(
        method="POST",
        raw_path="/x",
        headers=[],
        body=b"\xff\x00",
        resource="/x",
        path_parameters=None,
        source_ip="127.0.0.1",
        claims={"sub": "1"},
    )
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\xff\x00"
    assert event["requestContext"]["authorizer"]["claims"] == {"sub": "1"}


def test_percent_encoded_paths_are_decoded_like_api_gateway() -> None:
    event = proxy_event(
        method="GET",
        raw_path="/organisations/1/peppol/0106%3A12345678",
        headers=[],
        body=b"",
        resource="/organisations/{id}/peppol/{participant_id}",
        path_parameters=None,
        source_ip="127.0.0.1",
        claims=None,
    )
    assert event["path"] == "/organisations/1/peppol/0106:12345678"


def test_path_parameters_are_extracted_from_the_template() -> None:
    found = _path_parameters(
        "/organisations/{id}/identifiers/{participant_id}", "/organisations/o1/identifiers/0106:1"
    )
    assert found == {"id": "o1", "participant_id": "0106:1"}
    assert Route("GET", "/organisations/{id}", "x", True).pattern.match("/organisations/o1")
    assert not Route("GET", "/organisations/{id}", "x", True).pattern.match("/organisations/o1/extra")


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
