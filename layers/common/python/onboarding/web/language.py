"""Which language to answer in: the user's choice, else the Accept-Language header."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from onboarding.domain.models import DEFAULT_LANGUAGE, Language

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver


def preferred_language(accept_language: str | None) -> Language:
    """The first of ``nl``/``en`` in an Accept-Language header, by quality; ``nl`` otherwise."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower()[:2]))
    for _, _, primary in sorted(ranked):
        if primary == "nl":
            return "nl"
        if primary == "en":
            return "en"
    return DEFAULT_LANGUAGE


def header_language(event: Any) -> Language:
    """The language a raw API Gateway event asks for (its Accept-Language header)."""
    headers = (event.get("headers") if isinstance(event, dict) else None) or {}
    value = next((v for k, v in headers.items() if k.lower() == "accept-language"), None)
    return preferred_language(value if isinstance(value, str) else None)


def speak(app: APIGatewayRestResolver, language: Language) -> None:
    """Answer this request in ``language`` (the signed-in user's choice), errors included."""
    app.append_context(language=language)  # type: ignore[no-untyped-call]


def request_language(app: APIGatewayRestResolver) -> Language:
    """The signed-in user's language once their account is known, else Accept-Language."""
    chosen = app.context.get("language")
    if chosen in ("nl", "en"):
        return chosen  # type: ignore[no-any-return]
    return preferred_language(app.current_event.headers.get("accept-language"))
