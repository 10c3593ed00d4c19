"""The events AWS hands the functions, built one way for the local runner, ``make bench`` and
the tests: API Gateway REST (v1) proxy events, shaped after an event captured from API Gateway
(``samples/apigw_rest_proxy.json``); SQS event batches from messages as ``ReceiveMessage``
returns them, shaped after Lambda's SQS (FIFO) event (``samples/sqs_fifo_event.json``);
EventBridge scheduled events; the Cognito user pool trigger events (PreSignUp,
PreAuthentication, PreTokenGeneration); CloudFormation custom resource requests (the tenant
provisioner's, ``samples/cloudformation_custom_resource.json``); and the Lambda context object.

Percent-encoding as API Gateway REST passes it on (live captures of REST proxy events): ``path``,
``requestContext.path`` and ``pathParameters`` keep the encoding the client sent (``/a%3Ab``
stays ``/a%3Ab``; ``%253A`` stays ``%253A``); query string parameters arrive decoded. So a
handler decodes a path parameter exactly once. (HTTP APIs decode the path; this is not one.)"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

SAMPLES = Path(__file__).resolve().parent / "samples"


@cache
def _sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text())  # type: ignore[no-any-return]


def path_parameters(template: str, path: str) -> dict[str, str]:
    """``{"id": "o1"}`` for template ``/organisations/{id}`` and path ``/organisations/o1``."""
    names = re.findall(r"\{([^}]+)\}", template)
    if not names:
        return {}
    regex = re.sub(r"\\\{[^/]+?\\\}", "([^/]+)", re.escape(template))
    found = re.match(f"^{regex}$", path)
    return dict(zip(names, found.groups(), strict=True)) if found else {}


def api_event(
    method: str,
    raw_path: str,
    *,
    headers: Iterable[tuple[str, str]] | Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    resource: str | None = None,
    source_ip: str = "127.0.0.1",
    claims: Mapping[str, Any] | None = None,
    stage: str = "local",
) -> dict[str, Any]:
    """The event API Gateway sends for ``method raw_path`` (query string included, percent
    encoding as on the wire, and kept in the path). ``resource`` is the route's template (path
    parameters come from it); ``claims`` are what the Cognito authorizer passes on (as strings);
    ``headers`` default to the captured event's."""
    event = copy.deepcopy(_sample("apigw_rest_proxy.json"))
    split = urlsplit(raw_path)
    path = split.path  # as sent: API Gateway REST does not decode it
    resource = resource or unquote(path)
    query = parse_qs(split.query, keep_blank_values=True)
    pairs = (
        list(headers.items() if isinstance(headers, Mapping) else headers) if headers is not None else None
    )
    if pairs is None:
        pairs = list(event["headers"].items())
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    text_body: str | None = None
    is_base64 = False
    if isinstance(body, str):
        text_body = body
    elif body:
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            text_body, is_base64 = base64.b64encode(body).decode("ascii"), True
    event.update(
        resource=resource,
        path=path,
        httpMethod=method,
        headers=single or None,
        multiValueHeaders=multi or None,
        queryStringParameters={k: v[-1] for k, v in query.items()} or None,
        multiValueQueryStringParameters=query or None,
        pathParameters=path_parameters(resource, path) or None,
        body=text_body,
        isBase64Encoded=is_base64,
    )
    context = event["requestContext"]
    context.update(
        resourcePath=resource,
        httpMethod=method,
        path=f"/{stage}{path}",
        stage=stage,
        requestId=str(uuid.uuid4()),
        requestTimeEpoch=int(time.time() * 1000),
    )
    context["identity"].update(
        sourceIp=source_ip, userAgent=next((v for k, v in pairs if k.lower() == "user-agent"), "")
    )
    if claims is not None:
        context["authorizer"] = {"claims": {k: str(v) for k, v in claims.items()}}
    return event


def sqs_event(messages: Iterable[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS event source hands the function for ``messages`` as
    ``ReceiveMessage`` returned them (asked with ``MessageSystemAttributeNames=["All"]`` and
    ``MessageAttributeNames=["All"]``): system attributes as strings, message attributes in
    Lambda's lower-camel-case form."""
    template = _sample("sqs_fifo_event.json")["Records"][0]
    region = queue_arn.split(":")[3]
    records = []
    for message in messages:
        record = copy.deepcopy(template)
        attributes = {k: str(v) for k, v in (message.get("Attributes") or {}).items()}
        if "MessageGroupId" not in attributes:  # a standard queue's record has no FIFO attributes
            for name in ("MessageGroupId", "MessageDeduplicationId", "SequenceNumber"):
                record["attributes"].pop(name, None)
        record["attributes"].update(attributes)
        record.update(
            messageId=message["MessageId"],
            receiptHandle=message["ReceiptHandle"],
            body=message["Body"],
            md5OfBody=message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
            messageAttributes={
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value["DataType"],
                }
                for name, value in (message.get("MessageAttributes") or {}).items()
            },
            eventSourceARN=queue_arn,
            awsRegion=region,
        )
        records.append(record)
    return {"Records": records}


def scheduled_event(rule_arn: str) -> dict[str, Any]:
    """What an EventBridge schedule (``rate(...)``) hands its target."""
    _, _, _, region, account, _ = rule_arn.split(":", 5)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


class LambdaContext:
    """The parts of the Lambda context object the handlers and Powertools read."""

    function_version = "$LATEST"
    memory_limit_in_mb = 512
    log_stream_name = "local"

    def __init__(self, function_name: str = "local", timeout_seconds: int = 10) -> None:
        self.function_name = function_name
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


# --- Cognito user pool triggers ------------------------------------------------------------------
# Shaped after the events Cognito sends (Powertools' sample events and the developer guide):
# ``samples/cognito_pre_sign_up.json`` and ``samples/cognito_pre_token_generation_v2.json``.
def _trigger_event(
    sample: str,
    trigger_source: str,
    *,
    user_pool_id: str,
    username: str,
    client_id: str,
    user_attributes: Mapping[str, str],
    region: str,
) -> dict[str, Any]:
    event = copy.deepcopy(_sample(sample))
    event.update(triggerSource=trigger_source, region=region, userPoolId=user_pool_id, userName=username)
    event["callerContext"]["clientId"] = client_id
    # Cognito passes every attribute as a string ("true", not true).
    event["request"]["userAttributes"] = {k: str(v) for k, v in user_attributes.items()}
    return event


def pre_sign_up_event(
    *,
    user_pool_id: str,
    username: str,
    client_id: str,
    user_attributes: Mapping[str, str],
    trigger_source: str = "PreSignUp_ExternalProvider",
    region: str = "eu-west-1",
) -> dict[str, Any]:
    """PreSignUp: ``username`` is ``<provider>_<subject>`` for a first federated sign-in and
    ``user_attributes`` only what the provider's attribute mapping gave."""
    return _trigger_event(
        "cognito_pre_sign_up.json",
        trigger_source,
        user_pool_id=user_pool_id,
        username=username,
        client_id=client_id,
        user_attributes=user_attributes,
        region=region,
    )


def pre_token_generation_event(
    *,
    user_pool_id: str,
    username: str,
    client_id: str,
    user_attributes: Mapping[str, str],
    trigger_source: str = "TokenGeneration_HostedAuth",
    scopes: tuple[str, ...] = ("openid", "email", "profile"),
    region: str = "eu-west-1",
) -> dict[str, Any]:
    """PreTokenGeneration version 2 (it also runs for ``TokenGeneration_RefreshTokens``)."""
    event = _trigger_event(
        "cognito_pre_token_generation_v2.json",
        trigger_source,
        user_pool_id=user_pool_id,
        username=username,
        client_id=client_id,
        user_attributes=user_attributes,
        region=region,
    )
    event["request"]["scopes"] = list(scopes)
    return event


def pre_authentication_event(
    *,
    user_pool_id: str,
    username: str,
    client_id: str,
    user_attributes: Mapping[str, str],
    region: str = "eu-west-1",
) -> dict[str, Any]:
    """PreAuthentication: a password (or other native) sign-in, before Cognito checks it."""
    return _trigger_event(
        "cognito_pre_authentication.json",
        "PreAuthentication_Authentication",
        user_pool_id=user_pool_id,
        username=username,
        client_id=client_id,
        user_attributes=user_attributes,
        region=region,
    )


# --- CloudFormation custom resources -------------------------------------------------------------
def custom_resource_event(
    request_type: str,
    properties: Mapping[str, Any],
    *,
    response_url: str,
    service_token: str,
    stack_id: str | None = None,
    logical_id: str = "IdentityLoginPolicy",
    resource_type: str = "Custom::TenantLogin",
    physical_id: str | None = None,
    old_properties: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What CloudFormation sends a custom resource's Lambda (``Create``, ``Update`` or
    ``Delete``): the properties as strings, as CloudFormation passes them (lists of strings
    stay lists), and where to put the answer."""

    def as_cloudformation(values: Mapping[str, Any]) -> dict[str, Any]:
        return {
            k: [str(i) for i in v] if isinstance(v, list | tuple) else str(v)
            for k, v in values.items()
            if v is not None
        }

    event = copy.deepcopy(_sample("cloudformation_custom_resource.json"))
    event.update(
        RequestType=request_type,
        ResponseURL=response_url,
        ServiceToken=service_token,
        RequestId=str(uuid.uuid4()),
        LogicalResourceId=logical_id,
        ResourceType=resource_type,
        ResourceProperties={"ServiceToken": service_token, **as_cloudformation(properties)},
    )
    if stack_id:
        event["StackId"] = stack_id
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if old_properties is not None:
        event["OldResourceProperties"] = {"ServiceToken": service_token, **as_cloudformation(old_properties)}
    return event
