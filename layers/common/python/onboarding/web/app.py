"""The resolver every API function uses, and the checks on the raw event that come first."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig

from onboarding.settings import cors_settings
from onboarding.web.errors import JSON, message, register_error_handlers
from onboarding.web.language import header_language

MAX_BODY_BYTES = 64 * 1024
# Bounds of a JSON body: the API's bodies nest four levels at most and hold no long numbers.
# Deeper nesting would exhaust the recursion limit and a 4,300-digit integer makes Python's
# int() fail: both would be a 500. Refused here, where every body is parsed, as invalid JSON.
MAX_JSON_DEPTH = 32
MAX_NUMBER_CHARACTERS = 64
COGNITO: list[dict[str, list[str]]] = [{"cognito": []}]  # the security requirement of a signed-in route

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def _depth(text: str) -> int:
    deepest = depth = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub('""', text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _bounded(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    def parse(literal: str) -> int | float:
        if len(literal) > MAX_NUMBER_CHARACTERS:
            raise ValueError(f"a number longer than {MAX_NUMBER_CHARACTERS} characters")
        return kind(literal)

    return parse


def parse_json(text: str) -> Any:
    """``json.loads`` within the bounds above; ``json.JSONDecodeError`` for anything else, which
    Powertools' validation answers as ``invalid_json`` (400)."""
    if _depth(text) > MAX_JSON_DEPTH:
        raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH} levels", text, 0)
    try:
        return json.loads(text, parse_int=_bounded(int), parse_float=_bounded(float))
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, json.JSONDecodeError):
            raise
        raise json.JSONDecodeError(str(exc), text, 0) from exc


def create_app() -> APIGatewayRestResolver:
    """A resolver with the platform's CORS policy (from the settings), bounded JSON parsing
    and error mapping."""
    settings = cors_settings()
    first, *others = settings.allowed_origins or ["*"]
    cors = CORSConfig(
        allow_origin=first,
        extra_origins=others or None,
        allow_headers=settings.allowed_headers or None,
        max_age=600,
    )
    app = APIGatewayRestResolver(enable_validation=True, cors=cors, json_body_deserializer=parse_json)
    register_error_handlers(app)
    return app


def _refusal(status: int, code: str, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": JSON},
        "body": json.dumps(
            {"error": {"code": code, "message": message(code, header_language(event)), "details": []}},
            ensure_ascii=False,
        ),
    }


def precheck(event: dict[str, Any]) -> dict[str, Any] | None:
    """Refuse what must be refused before any parsing: an oversized body (413) or one that
    is not JSON (415). API Gateway lets up to 10 MB through; the API takes 64 KiB."""
    body = event.get("body")
    if not body:
        return None
    size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        return _refusal(413, "payload_too_large", event)
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = (headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        return _refusal(415, "unsupported_media_type", event)
    if event.get("isBase64Encoded"):
        try:
            base64.b64decode(body).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return _refusal(400, "invalid_body", event)
    return None


def _with_charset(response: dict[str, Any]) -> dict[str, Any]:
    """Every JSON answer says ``application/json; charset=utf-8`` (the contract's wording);
    Powertools writes a bare ``application/json`` for the models routes return."""
    for key in ("headers", "multiValueHeaders"):
        headers = response.get(key) or {}
        for name, value in headers.items():
            if name.lower() != "content-type":
                continue
            values = value if isinstance(value, list) else [value]
            fixed = [JSON if v.split(";")[0].strip().lower() == "application/json" else v for v in values]
            headers[name] = fixed if isinstance(value, list) else fixed[0]
    return response


def _decode_once(text: str) -> str:
    # "/" stays encoded, so that a parameter never spans two path segments.
    return unquote(text.replace("%2F", "%252F").replace("%2f", "%252f"))


def decoded_path(event: dict[str, Any]) -> dict[str, Any]:
    """API Gateway REST passes ``path`` and ``pathParameters`` percent-encoded as the client
    sent them. They are decoded here, once, before routing, so that parameters are validated and
    used decoded (``0106%3A1`` is ``0106:1``; ``0106%253A1`` is the literal ``0106%3A1``)."""
    path = event.get("path")
    if not isinstance(path, str) or "%" not in path:
        return event
    parameters = event.get("pathParameters") or None
    return {
        **event,
        "path": _decode_once(path),
        "pathParameters": {k: _decode_once(v) for k, v in parameters.items()} if parameters else parameters,
    }


def resolve(
    app: APIGatewayRestResolver,
    event: dict[str, Any],
    context: Any,
    on_request: Callable[[], None] | None = None,
) -> dict[str, Any]:
    refused = precheck(event)
    if refused is not None:
        return refused
    if on_request:
        on_request()
    return _with_charset(app.resolve(decoded_path(event), context))
