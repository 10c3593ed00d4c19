"""The one place that turns errors into HTTP responses with the documented error body."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from onboarding.domain.errors import DomainError
from onboarding.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

JSON = "application/json; charset=utf-8"


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return Response(
        status_code=status,
        content_type=JSON,
        body=json.dumps(body, ensure_ascii=False),
        headers=headers or {},
    )


# Pydantic's message for a pattern mismatch shows the regular expression; say it in words.
_FORMAT_MESSAGES = {
    "email": "Enter a valid email address.",
    "username": "Use 3-64 characters: letters, digits, '.', '_' or '-'.",
    "token": "This is not a token from an activation link.",
}


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _message(problem: dict[str, Any]) -> str:
    if problem.get("type") == "string_pattern_mismatch":
        name = str(problem.get("loc", ("",))[-1])
        return _FORMAT_MESSAGES.get(name, "Has the wrong format.")
    if problem.get("type") == "literal_error" and problem.get("loc", ())[-1:] == ("accept_terms",):
        return "Accept the terms to continue."
    return str(problem.get("msg", "Invalid value"))


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(DomainError)
    def domain_error(exc: DomainError) -> Response[str]:
        logger.info("request refused", extra={"status": exc.status, "code": exc.code})
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    def validation_error(exc: RequestValidationError) -> Response[str]:
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return error_response(400, "invalid_json", "The body is not valid JSON.")
        details = [{"field": _field(p.get("loc", ())), "message": _message(p)} for p in problems]
        logger.info("request invalid", extra={"fields": [d["field"] for d in details]})
        return error_response(422, "validation_error", "The request is not valid.", details)

    @app.exception_handler(UnicodeDecodeError)
    def undecodable(_: UnicodeDecodeError) -> Response[str]:
        return error_response(400, "invalid_body", "The body is not valid UTF-8.")

    @app.exception_handler(ServiceError)
    def service_error(exc: ServiceError) -> Response[str]:
        return error_response(exc.status_code, "bad_request", str(exc.msg))

    @app.exception_handler(Exception)
    def unexpected(exc: Exception) -> Response[str]:
        # botocore errors that escape the adapters mean an AWS service is struggling.
        if type(exc).__module__.startswith(("botocore", "urllib3")):
            logger.warning("dependency unavailable", extra={"error": type(exc).__name__})
            return error_response(
                503,
                "service_unavailable",
                "A service we depend on is unavailable. Try again shortly.",
                headers={"Retry-After": "30"},
            )
        logger.exception("unexpected error")
        return error_response(500, "internal_error", "Something went wrong on our side.")

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        return error_response(404, "not_found", "There is no such route.")
