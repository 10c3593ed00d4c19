"""Reusable request types and the error body, as the OpenAPI document shows them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from onboarding.domain.countries import COUNTRY_CODES

# Characters no name, address, email or reference may hold: control characters (C0, DEL, C1),
# line and paragraph separators, and the bidirectional formatting characters (embeddings,
# overrides, isolates, marks), which reorder what an operator reads ("\u202e" shows
# "gpj.exe" as "exe.jpg"). One pattern, so the OpenAPI document says it too.
TEXT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$"


# A trimmed single-line text refusing the characters above (422); a field adds its lengths:
# ``Annotated[Text, Field(min_length=1, max_length=100)]``.
Text = Annotated[str, StringConstraints(strip_whitespace=True, pattern=TEXT_PATTERN)]


# Email addresses are plain ASCII: SES sends only 7-bit addresses (no SMTPUTF8; a domain
# would have to be punycode, a local part cannot be), and an address that cannot be mailed
# must not be accepted. So the local part is RFC 5322's atext and dots, the domain LDH labels;
# "ä@b.nl" is 422 with a message that says why. Surrounding spaces are trimmed.
EMAIL_PATTERN = (
    r"^\s*[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+\s*$"
)
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN),
    Field(
        examples=["finance@example.nl"], description="ASCII only (internationalised addresses are refused)"
    ),
]


def _country(code: str) -> str:
    if code not in COUNTRY_CODES:
        raise PydanticCustomError("country_code", "Use an ISO 3166-1 alpha-2 country code, such as NL.")
    return code


Country = Annotated[
    str,
    AfterValidator(_country),
    Field(
        description="ISO 3166-1 alpha-2", examples=["NL"], json_schema_extra={"enum": sorted(COUNTRY_CODES)}
    ),
]


def _not_null(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError(
            "null_not_allowed", "This field always has a value: leave it out to keep it."
        )
    return value


class _NotNull:
    """For a PATCH field that may be left out but never emptied:
    ``name: Annotated[Name | None, NOT_NULL] = None``. Absent keeps the value, ``null`` is 422,
    and the OpenAPI document does not offer null."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(_not_null, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        alternatives = [s for s in json_schema.get("anyOf", []) if s.get("type") != "null"]
        if len(alternatives) == 1:
            del json_schema["anyOf"]
            json_schema.update(alternatives[0])
        return json_schema


NOT_NULL = _NotNull()


def _json_true(value: Any) -> Any:
    # Literal[True] alone takes 1 and 1.0 (they equal True); evidence of consent is JSON true only.
    if value is not True:
        raise PydanticCustomError("true_required", "Must be true.")
    return value


JsonTrue = Annotated[Literal[True], BeforeValidator(_json_true)]


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
