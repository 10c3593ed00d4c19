"""``Idempotency-Key`` for the POST routes that create something (API.md, conventions): the
same key with the same request answers the first response again; with another request 409.

Keys are scoped to the caller (or "public" before login), so two users' keys never meet."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header

from onboarding.domain.errors import IdempotencyKeyReused, IdempotentRequestInProgress
from onboarding.domain.ports import IdempotencyStore
from onboarding.domain.rules import now

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # visible ASCII, as a client library generates it

# The header as a route declares it (so it is validated and documented).
IDEMPOTENCY_KEY = Annotated[
    str | None,
    Header(
        alias=HEADER,
        pattern=KEY_PATTERN,
        description="Repeat a request safely: the same key and body "
        "answer the first response again (for 24 hours); the same key with another body is 409.",
    ),
]


def _scope(app: APIGatewayRestResolver) -> str:
    try:
        claims = app.current_event.request_context.authorizer.claims or {}
    except AttributeError:
        claims = {}
    return str(claims.get("cognito:username") or "public")


def _fingerprint(app: APIGatewayRestResolver) -> str:
    event = app.current_event
    material = json.dumps([event.http_method, event.path, event.body or ""])
    return hashlib.sha256(material.encode()).hexdigest()


def idempotent(store: Callable[[], IdempotencyStore]) -> Callable[..., Response[Any]]:
    """A route middleware; ``store`` builds the record store on first use."""

    def middleware(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        key = app.current_event.headers.get(HEADER)  # case-insensitive in Powertools v3
        if not key:
            return next_middleware(app)
        scope, fingerprint, records = _scope(app), _fingerprint(app), store()
        found = records.begin(scope, key, fingerprint, now())
        if found is not None:
            if found.fingerprint != fingerprint:
                raise IdempotencyKeyReused
            if not found.completed:
                raise IdempotentRequestInProgress
            return Response(
                status_code=found.status_code,
                content_type=found.content_type,
                body=found.body,
                headers={"Idempotent-Replayed": "true"},
            )
        try:
            response = next_middleware(app)
        except Exception:
            # A refused or failed request is not remembered: the same request may be retried.
            records.abandon(scope, key, fingerprint)
            raise
        if response.status_code >= 500:
            records.abandon(scope, key, fingerprint)
            return response
        body: Any = response.body
        text = body if isinstance(body, str) else app._serializer(body)
        content_type = response.headers.get("Content-Type") or "application/json"
        if isinstance(content_type, list):
            content_type = content_type[0]
        records.finish(scope, key, fingerprint, response.status_code, text, content_type)
        return response

    return middleware
