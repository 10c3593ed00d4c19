"""Every error speaks Dutch and English (issue 8, item 18); its code never depends on the language."""

from __future__ import annotations

import ast
import inspect

import pytest

from infra.platform import ROOT
from onboarding.domain import errors
from onboarding.web.errors import MESSAGES, validation_message


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


DOMAIN_ERRORS = [errors.DomainError, *_subclasses(errors.DomainError)]


@pytest.mark.parametrize("cls", DOMAIN_ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_class_has_a_dutch_message(cls: type[errors.DomainError]) -> None:
    assert cls.message and cls.message_nl and cls.message_nl != cls.message


def _message_position(cls: type) -> int | None:
    """Where a class's constructor takes ``message`` (None: it takes no message)."""
    parameters = list(inspect.signature(cls.__init__).parameters)[1:]  # type: ignore[misc]
    return parameters.index("message") if "message" in parameters else None


def test_whoever_passes_a_message_passes_it_in_dutch_too() -> None:
    """A DomainError built with its own message (``InvalidInput(field, message, ...)``,
    ``Forbidden(message)``) must carry the Dutch one as well."""
    position = {cls.__name__: _message_position(cls) for cls in DOMAIN_ERRORS}
    missing = []
    for path in [*ROOT.glob("functions/*/*_api/*.py"), *ROOT.glob("layers/common/python/onboarding/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            at = position.get(callee)
            if at is None:
                continue
            keywords = {k.arg for k in node.keywords}
            has_message = len(node.args) > at or "message" in keywords
            has_dutch = len(node.args) > at + 1 or "message_nl" in keywords
            if has_message and not has_dutch:
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not missing, missing


def test_invalid_input_details_follow_the_language() -> None:
    problem = errors.InvalidInput("body.x", "Wrong.", "Fout.", code="x_wrong")
    assert problem.details_in("nl") == [{"field": "body.x", "message": "Fout."}]
    assert problem.details_in("en") == [{"field": "body.x", "message": "Wrong."}]
    assert (problem.message_in("nl"), problem.code) == ("Fout.", "x_wrong")


def test_every_edge_message_has_both_languages() -> None:
    for code, (english, dutch) in MESSAGES.items():
        assert english and dutch and english != dutch, code


@pytest.mark.parametrize(
    ("problem", "english", "dutch"),
    [
        ({"type": "missing", "loc": ("body", "email")}, "This field is required.", "Dit veld is verplicht."),
        (
            {"type": "string_too_long", "loc": ("body", "name"), "ctx": {"max_length": 200}},
            "Must have at most 200 character(s).",
            "Mag hoogstens 200 teken(s) hebben.",
        ),
        (
            {"type": "literal_error", "loc": ("body", "accept_terms"), "ctx": {"expected": "True"}},
            "Accept the terms to continue.",
            "Accepteer de voorwaarden om verder te gaan.",
        ),
        (
            {"type": "country_code", "loc": ("body", "country")},
            "Use an ISO 3166-1 alpha-2 country code, such as NL.",
            "Gebruik een landcode volgens ISO 3166-1 alpha-2, zoals NL.",
        ),
        (
            {"type": "string_pattern_mismatch", "loc": ("body", "username"), "ctx": {"pattern": "x"}},
            "Use 3-64 characters: letters, digits, '.', '_' or '-'.",
            "Gebruik 3-64 tekens: letters, cijfers, '.', '_' of '-'.",
        ),
    ],
)
def test_validation_messages_in_both_languages(problem: dict[str, object], english: str, dutch: str) -> None:
    assert validation_message(problem, "en") == english
    assert validation_message(problem, "nl") == dutch


def test_the_check_knows_where_each_constructor_takes_its_message() -> None:
    assert _message_position(errors.Forbidden) == 0
    assert _message_position(errors.InvalidInput) == 1
    assert _message_position(errors.KvkUnavailable) is None  # a reason for the logs, not a message
    assert _message_position(errors.TooManyRequests) is None
