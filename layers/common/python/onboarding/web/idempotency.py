"""``Idempotency-Key`` for the POST routes that create something (API.md, conventions): the
same key with the same request answers the first response again; with another request 409.

What "the same request" is: method, path and the *parsed* body in canonical JSON (sorted keys,
no insignificant whitespace), so a client that re-serialises its retry (another indentation,
another key order) is still recognised. The body is parsed once, by the resolver (within its
bounds); a body that does not parse never gets this far (400 first).

Whose keys meet whose (the scope). A key is the client's own choice, often predictable, so it
must never let one client block or read another's request:
- signed in: the caller's account. Only the caller can use their scope.
- before login (``/auth/activation/complete``): the secret the request itself carries, the
  activation token (``public_scope``). Whoever can use that scope holds the link, so can
  neither learn nor spoil anything the link's holder could not; a retry from another network
  (Wi-Fi to 4G) still finds its first answer. A scope by client IP would break exactly that
  retry and still share a scope behind one NAT; a scope by IP *and* body would lose the
  contract's "same key, other body: 409" without stopping a stranger on the same NAT.
- a public route without such a secret: the request's own fingerprint, so no two different
  requests ever share a scope (the 409 for a reused key cannot happen there, by design).
"""

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


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def public_scope(secret: str) -> str:
    """The scope of keys sent before login with a request that carries ``secret``."""
    return f"public:{_sha256(secret)}"


def canonical_body(app: APIGatewayRestResolver) -> str:
    """The parsed body as canonical JSON (``""`` without a body)."""
    event = app.current_event
    if not event.body:
        return ""
    return json.dumps(event.json_body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint(app: APIGatewayRestResolver) -> str:
    event = app.current_event
    return _sha256(json.dumps([event.http_method, event.path, canonical_body(app)]))


def _scope(
    app: APIGatewayRestResolver, request_fingerprint: str, secret_of: Callable[[Any], str | None] | None
) -> str:
    try:
        claims = app.current_event.request_context.authorizer.claims or {}
    except AttributeError:
        claims = {}
    if claims.get("cognito:username"):
        return f"user:{claims['cognito:username']}"
    secret = secret_of(app.current_event.json_body) if secret_of and app.current_event.body else None
    if isinstance(secret, str) and secret:
        return public_scope(secret)
    return f"request:{request_fingerprint}"


def idempotent(
    store: Callable[[], IdempotencyStore], *, public_scope: Callable[[Any], str | None] | None = None
) -> Callable[..., Response[Any]]:
    """A route middleware; ``store`` builds the record store on first use; ``public_scope``
    names the secret in a public route's parsed body that scopes its keys (see above)."""
    secret_of = public_scope

    def middleware(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        key = app.current_event.headers.get(HEADER)  # case-insensitive in Powertools v3
        if not key:
            return next_middleware(app)
        request = fingerprint(app)
        scope, records = _scope(app, request, secret_of), store()
        found = records.begin(scope, key, request, now())
        if found is not None:
            if found.fingerprint != request:
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
            records.abandon(scope, key, request)
            raise
        if response.status_code >= 500:
            records.abandon(scope, key, request)
            return response
        body: Any = response.body
        text = body if isinstance(body, str) else app._serializer(body)
        content_type = response.headers.get("Content-Type") or "application/json"
        if isinstance(content_type, list):
            content_type = content_type[0]
        records.finish(scope, key, request, response.status_code, text, content_type)
        return response

    return middleware
