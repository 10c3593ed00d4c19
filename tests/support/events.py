"""API Gateway REST proxy events for driving handlers, built from a captured event shape."""

from __future__ import annotations

import copy
import json
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).resolve().parent.parent / "events" / "apigw_rest_proxy.json"


@lru_cache(maxsize=1)
def _sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text())  # type: ignore[no-any-return]


def rest_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
    claims: dict[str, Any] | None = None,
    source_ip: str | None = None,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An event as API Gateway sends it for ``method path``; ``claims`` as its Cognito
    authorizer passes them (strings)."""
    event = copy.deepcopy(_sample())
    event["httpMethod"] = method
    event["path"] = path
    event["resource"] = resource or path
    event["pathParameters"] = path_parameters
    event["queryStringParameters"] = query or None
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    all_headers = {**event["headers"], **(headers or {})}
    if body is not None or raw_body is not None:
        all_headers.setdefault("Content-Type", "application/json")
        event["body"] = raw_body if raw_body is not None else json.dumps(body)
    event["headers"] = all_headers
    event["multiValueHeaders"] = {k: [v] for k, v in all_headers.items()}
    context = event["requestContext"]
    context.update(
        httpMethod=method, resourcePath=event["resource"], path=f"/dev{path}", requestId=str(uuid.uuid4())
    )
    # Each event comes from its own client unless a test says otherwise (198.18.0.0/15 is the
    # benchmarking range): per-IP rate limits then only bite where a test means them to.
    context["identity"]["sourceIp"] = (
        source_ip or f"198.{18 + uuid.uuid4().int % 2}.{uuid.uuid4().int % 256}.{uuid.uuid4().int % 254 + 1}"
    )
    if claims is not None:
        context["authorizer"] = {"claims": {k: str(v) for k, v in claims.items()}}
    return event


class LambdaContext:
    function_name = "peppol-onboarding-test-auth"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:peppol-onboarding-test-auth"
    memory_limit_in_mb = 512
    aws_request_id = "test-request"
    log_group_name = "/aws/lambda/peppol-onboarding-test-auth"
    log_stream_name = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


def header(response: dict[str, Any], name: str) -> str | None:
    """A response header, whether the handler used ``headers`` or ``multiValueHeaders``."""
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return ", ".join(values)
    return None
