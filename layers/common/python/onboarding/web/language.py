"""Which language to answer in: the user's choice, else the Accept-Language header."""

from __future__ import annotations

from onboarding.domain.models import DEFAULT_LANGUAGE, Language


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
