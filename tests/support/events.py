"""Driving the functions as API Gateway does, through the one event builder and router of the
local platform (``infra.local.events``, ``infra.local.router``)."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode

from infra.local.router import invoke


def call(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
    claims: dict[str, Any] | None = None,
    source_ip: str | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The response of the function that serves ``method path`` to the event API Gateway would
    send; ``body`` is sent as JSON, ``raw_body`` as it is."""
    all_headers = {"User-Agent": "pytest", **(headers or {})}
    if body is not None or raw_body is not None:
        all_headers.setdefault("Content-Type", "application/json")
    return invoke(
        method,
        f"{path}?{urlencode(query)}" if query else path,
        headers=all_headers,
        body=raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
        claims=claims,
        # Each event comes from its own client unless a test says otherwise (198.18.0.0/15 is
        # the benchmarking range): per-IP rate limits then only bite where a test means them to.
        source_ip=source_ip
        or f"198.{18 + uuid.uuid4().int % 2}.{uuid.uuid4().int % 256}.{uuid.uuid4().int % 254 + 1}",
    )


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


def trigger(event: dict[str, Any]) -> dict[str, Any]:
    """The user pool's trigger function, called with a trigger event as Cognito calls it."""
    from infra.local.events import LambdaContext
    from infra.local.router import handler
    from infra.platform import PLATFORM

    spec = next(f for f in PLATFORM.functions if f.user_pool_triggers)
    return handler(spec.name)(event, LambdaContext(spec.name, spec.timeout_seconds))
