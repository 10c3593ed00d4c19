"""Reusable request types and the error body, as the OpenAPI document shows them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Surrounding spaces are allowed (they are trimmed); the rest is a pragmatic address shape.
EMAIL_PATTERN = (
    r"^\s*[^@\s\"(),:;<>\[\]\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+\s*$"
)
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN),
    Field(examples=["finance@example.nl"]),
]


class RequestBody(BaseModel):
    """Request bodies refuse unknown fields (a typo is an error, not silently ignored) and
    wrong types (``0`` is not ``false``, ``"1"`` is not ``1``)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ErrorDetail(BaseModel):
    field: str | None = Field(default=None, examples=["body.email"])
    message: str


class ErrorInfo(BaseModel):
    code: str = Field(examples=["validation_error"])
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorBody(BaseModel):
    error: ErrorInfo


_DESCRIPTIONS = {
    400: "Malformed request (invalid_json, invalid_body)",
    401: "Missing or invalid credentials",
    402: "Insufficient credit or plan limit reached",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflicts with the current state",
    410: "Gone",
    413: "Body larger than 64 KiB (payload_too_large)",
    415: "Content type is not application/json",
    422: "Validation failed: one details entry per problem",
    429: "Too many requests; see Retry-After",
    503: "A service we depend on is unavailable; see Retry-After",
}


def error_responses(*statuses: int, descriptions: dict[int, str] | None = None) -> dict[int, Any]:
    """OpenAPI responses for the given error statuses, all with the one error body."""
    descriptions = descriptions or {}
    return {
        status: {
            "description": descriptions.get(status, _DESCRIPTIONS[status]),
            "content": {"application/json": {"model": ErrorBody}},
        }
        for status in statuses
    }


BODY_ERRORS = (400, 413, 415, 422)


def documented(
    status: int,
    model: Any,  # a response model, list[Model], or None
    *errors: int,
    description: str = "OK",
    content_type: str = "application/json",
) -> dict[int, Any]:
    """The OpenAPI responses of a route: its success answer and its error answers."""
    success: dict[str, Any] = {"description": description}
    if model is not None:
        success["content"] = {content_type: {"model": model}}
    elif content_type != "application/json":
        success["content"] = {content_type: {"schema": {"type": "string"}}}
    return {status: success, **error_responses(*errors)}
