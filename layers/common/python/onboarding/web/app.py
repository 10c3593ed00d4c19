"""The resolver every API function uses, and the checks on the raw event that come first."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig

from onboarding.settings import cors_settings
from onboarding.web.errors import JSON, register_error_handlers

MAX_BODY_BYTES = 64 * 1024
COGNITO: list[dict[str, list[str]]] = [{"cognito": []}]  # the security requirement of a signed-in route


def create_app() -> APIGatewayRestResolver:
    """A resolver with the platform's CORS policy (from the settings) and error mapping."""
    settings = cors_settings()
    first, *others = settings.allowed_origins or ["*"]
    cors = CORSConfig(
        allow_origin=first,
        extra_origins=others or None,
        allow_headers=settings.allowed_headers or None,
        max_age=600,
    )
    app = APIGatewayRestResolver(enable_validation=True, cors=cors)
    register_error_handlers(app)
    return app


def _refusal(status: int, code: str, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": JSON},
        "body": json.dumps({"error": {"code": code, "message": message, "details": []}}),
    }


def precheck(event: dict[str, Any]) -> dict[str, Any] | None:
    """Refuse what must be refused before any parsing: an oversized body (413) or one that
    is not JSON (415). API Gateway lets up to 10 MB through; the API takes 64 KiB."""
    body = event.get("body")
    if not body:
        return None
    size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        return _refusal(413, "payload_too_large", "The body is larger than 64 KiB.")
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = (headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        return _refusal(415, "unsupported_media_type", "Send the body as application/json.")
    if event.get("isBase64Encoded"):
        try:
            base64.b64decode(body).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return _refusal(400, "invalid_body", "The body is not valid UTF-8.")
    return None


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
    return app.resolve(event, context)
