"""The one place that turns errors into HTTP responses with the documented error body, in the
caller's language (``onboarding.web.language``); codes never depend on the language."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from onboarding.domain.errors import DomainError
from onboarding.domain.models import Language
from onboarding.observability import logger
from onboarding.web.language import request_language
from onboarding.web.schemas import EMAIL_PATTERN, TEXT_PATTERN

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

JSON = "application/json; charset=utf-8"

# The platform's own refusals that are not DomainErrors: code -> (English, Dutch).
MESSAGES: dict[str, tuple[str, str]] = {
    "invalid_json": ("The body is not valid JSON.", "De body is geen geldige JSON."),
    "invalid_body": ("The body is not valid UTF-8.", "De body is geen geldige UTF-8."),
    "payload_too_large": ("The body is larger than 64 KiB.", "De body is groter dan 64 KiB."),
    "unsupported_media_type": ("Send the body as application/json.", "Stuur de body als application/json."),
    "validation_error": ("The request is not valid.", "Het verzoek is niet geldig."),
    "not_found": ("There is no such route.", "Deze route bestaat niet."),
    "bad_request": ("The request cannot be processed.", "Het verzoek kan niet worden verwerkt."),
    "service_unavailable": (
        "A service we depend on is unavailable. Try again shortly.",
        "Een dienst waarvan we afhankelijk zijn is niet bereikbaar. Probeer het zo opnieuw.",
    ),
    "internal_error": ("Something went wrong on our side.", "Er ging bij ons iets mis."),
}


def message(code: str, language: Language) -> str:
    english, dutch = MESSAGES[code]
    return dutch if language == "nl" else english


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


# What a validation problem says, by pydantic's error type: (English, Dutch), formatted with
# the error's context (``{max_length}``, ...). Unknown types keep pydantic's English message.
_VALIDATION: dict[str, tuple[str, str]] = {
    "missing": ("This field is required.", "Dit veld is verplicht."),
    "extra_forbidden": ("This field is unknown.", "Dit veld bestaat niet."),
    "string_type": ("Must be a string.", "Moet tekst zijn."),
    "string_too_short": (
        "Must have at least {min_length} character(s).",
        "Moet minstens {min_length} teken(s) hebben.",
    ),
    "string_too_long": (
        "Must have at most {max_length} character(s).",
        "Mag hoogstens {max_length} teken(s) hebben.",
    ),
    "bool_type": ("Must be true or false.", "Moet true of false zijn."),
    "int_type": ("Must be a whole number.", "Moet een geheel getal zijn."),
    "int_from_float": ("Must be a whole number.", "Moet een geheel getal zijn."),
    "int_parsing": ("Must be a whole number.", "Moet een geheel getal zijn."),
    "greater_than": ("Must be greater than {gt}.", "Moet groter zijn dan {gt}."),
    "less_than_equal": ("Must be at most {le}.", "Mag hoogstens {le} zijn."),
    "literal_error": ("Must be {expected}.", "Moet {expected} zijn."),
    "enum": ("Must be {expected}.", "Moet {expected} zijn."),
    "model_type": ("Must be an object.", "Moet een object zijn."),
    "model_attributes_type": ("Must be an object.", "Moet een object zijn."),
    "dict_type": ("Must be an object.", "Moet een object zijn."),
    "list_type": ("Must be a list.", "Moet een lijst zijn."),
    "too_long": ("Must have at most {max_length} item(s).", "Mag hoogstens {max_length} element(en) hebben."),
    "true_required": ("Must be true.", "Moet true zijn."),
    "null_not_allowed": (
        "This field always has a value: leave it out to keep it.",
        "Dit veld heeft altijd een waarde: laat het weg om die te houden.",
    ),
    "country_code": (
        "Use an ISO 3166-1 alpha-2 country code, such as NL.",
        "Gebruik een landcode volgens ISO 3166-1 alpha-2, zoals NL.",
    ),
    "kvk_or_by_hand": (
        "Give either kvk_number alone, or name, country and address (by hand).",
        "Geef alleen kvk_number, of naam, land en adres (met de hand).",
    ),
    "by_hand_incomplete": (
        "By hand, {missing} must be given (or give only kvk_number).",
        "Met de hand zijn {missing} verplicht (of geef alleen kvk_number).",
    ),
}

# Pattern mismatches say in words what the regular expression means: first by pattern, then
# by the field's name.
_BY_PATTERN: dict[str, tuple[str, str]] = {
    TEXT_PATTERN: (
        "Control characters and bidirectional formatting characters are not allowed.",
        "Stuurtekens en tekens die de schrijfrichting wijzigen zijn niet toegestaan.",
    ),
    EMAIL_PATTERN: (
        "Enter a valid email address. Addresses with characters outside ASCII (such as ä) are not supported.",
        "Vul een geldig e-mailadres in. Adressen met tekens buiten ASCII (zoals ä) worden niet ondersteund.",
    ),
}
_BY_FIELD: dict[str, tuple[str, str]] = {
    "username": (
        "Use 3-64 characters: letters, digits, '.', '_' or '-'.",
        "Gebruik 3-64 tekens: letters, cijfers, '.', '_' of '-'.",
    ),
    "token": (
        "This is not a token from an activation link.",
        "Dit is geen token uit een activatielink.",
    ),
    "kvk_number": (
        "A KvK number has exactly 8 digits (0-9).",
        "Een KvK-nummer heeft precies 8 cijfers (0-9).",
    ),
    "phone": (
        "Use 6-20 digits, spaces, '(', ')', '-' and an optional leading '+'.",
        "Gebruik 6-20 cijfers, spaties, '(', ')', '-' en eventueel een '+' vooraan.",
    ),
}
_ACCEPT_TERMS = ("Accept the terms to continue.", "Accepteer de voorwaarden om verder te gaan.")


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _pick(texts: tuple[str, str], language: Language, context: dict[str, Any]) -> str:
    template = texts[1] if language == "nl" else texts[0]
    try:
        return template.format(**context)
    except (KeyError, IndexError, ValueError):
        return template


def validation_message(problem: dict[str, Any], language: Language) -> str:
    """What one pydantic problem says, in ``language``."""
    kind = str(problem.get("type", ""))
    loc = tuple(problem.get("loc", ()))
    name = str(loc[-1]) if loc else ""
    context = dict(problem.get("ctx") or {})
    if name == "accept_terms" and kind in {"literal_error", "true_required"}:
        return _pick(_ACCEPT_TERMS, language, context)
    if kind == "string_pattern_mismatch":
        texts = _BY_PATTERN.get(str(context.get("pattern"))) or _BY_FIELD.get(name)
        if texts is None:
            return "Heeft niet de juiste vorm." if language == "nl" else "Has the wrong format."
        return _pick(texts, language, context)
    texts = _VALIDATION.get(kind)
    if texts is None:
        return str(problem.get("msg", "Invalid value"))
    return _pick(texts, language, context)


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(DomainError)
    def domain_error(exc: DomainError) -> Response[str]:
        logger.info("request refused", extra={"status": exc.status, "code": exc.code})
        language = request_language(app)
        return error_response(
            exc.status, exc.code, exc.message_in(language), exc.details_in(language), exc.headers
        )

    @app.exception_handler(RequestValidationError)
    def validation_error(exc: RequestValidationError) -> Response[str]:
        language = request_language(app)
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return error_response(400, "invalid_json", message("invalid_json", language))
        details = [
            {"field": _field(p.get("loc", ())), "message": validation_message(p, language)} for p in problems
        ]
        logger.info("request invalid", extra={"fields": [d["field"] for d in details]})
        return error_response(422, "validation_error", message("validation_error", language), details)

    @app.exception_handler(UnicodeDecodeError)
    def undecodable(_: UnicodeDecodeError) -> Response[str]:
        return error_response(400, "invalid_body", message("invalid_body", request_language(app)))

    @app.exception_handler(ServiceError)
    def service_error(exc: ServiceError) -> Response[str]:
        return error_response(exc.status_code, "bad_request", message("bad_request", request_language(app)))

    @app.exception_handler(Exception)
    def unexpected(exc: Exception) -> Response[str]:
        language = request_language(app)
        # botocore errors that escape the adapters mean an AWS service is struggling.
        if type(exc).__module__.startswith(("botocore", "urllib3")):
            logger.warning("dependency unavailable", extra={"error": type(exc).__name__})
            return error_response(
                503,
                "service_unavailable",
                message("service_unavailable", language),
                headers={"Retry-After": "30"},
            )
        logger.exception("unexpected error")
        return error_response(500, "internal_error", message("internal_error", language))

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        return error_response(404, "not_found", message("not_found", request_language(app)))
