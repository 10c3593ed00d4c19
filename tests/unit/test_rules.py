"""Pure rules of sign-up and login."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from onboarding.domain import rules


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("Alice@Example.COM", "alice@example.com"),
        ("  bob@example.nl \t", "bob@example.nl"),
        ("already@canonical.nl", "already@canonical.nl"),
    ],
)
def test_emails_compare_trimmed_and_lower_cased(raw: str, canonical: str) -> None:
    assert rules.canonical_email(raw) == canonical


@pytest.mark.parametrize("username", ["abc", "a.b-c_d", "A" * 64, "user123"])
def test_valid_usernames(username: str) -> None:
    assert rules.is_valid_username(username)


@pytest.mark.parametrize("username", ["ab", "A" * 65, "has space", "üser", "a/b", "", "x@y"])
def test_invalid_usernames(username: str) -> None:
    assert not rules.is_valid_username(username)


def test_usernames_are_unique_regardless_of_case() -> None:
    assert rules.canonical_username("Bob.Smith") == rules.canonical_username("bob.smith")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 12"),
        ("x" * 257, "at most 256"),
        ("password1234", "too common"),
        ("Qwerty123456", "too common"),
        ("wachtwoord123", "too common"),
        ("aaaaaaaaaaaaaaaa", "too common"),
        ("alice-the-admin", "username or email"),
        (" " * 12, "spaces only"),
        ("\u3000" * 6 + "\u00a0" * 6, "spaces only"),
        ("\x00" * 12, "control characters"),
        ("\x1b\x7f\x85" * 4, "control characters"),
        ("correct horse\nbattery staple", "control characters"),
        ("\u200b" * 12, "invisible characters only"),  # zero-width space
        ("\ufeff" * 12, "invisible characters only"),  # BOM, zero-width no-break space
        ("\u202e" * 12, "invisible characters only"),  # right-to-left override
        ("\u00ad\u2060\u180e\u200d" * 3, "invisible characters only"),  # soft hyphen, joiners
        (" \u200b\u3000\u2066" * 3, "invisible characters only"),  # spaces and format characters
        ("\u3164\u115f\u1160\uffa0" * 3, "invisible characters only"),  # Hangul fillers (letters)
        ("\u2800\ufe0f\u034f" * 4, "invisible characters only"),  # braille blank, selector, CGJ
    ],
)
def test_weak_passwords_are_refused_with_a_reason_in_english_and_dutch(password: str, problem: str) -> None:
    found = rules.password_problem(password, username="alice-the-admin", email="Alice@example.nl")
    assert found is not None and problem in found.en
    assert found.nl and found.nl != found.en


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery",
        "Zq9!x" * 3,
        "x" * 256,
        "lang genoeg wachtwoord?",
        "\u200b" * 11 + "x",  # something visible is enough: no composition rules
        "\U0001f469\u200d\U0001f4bb geheim wachtwoord",
    ],
)
def test_good_passwords_pass_without_composition_rules(password: str) -> None:
    assert rules.password_problem(password, username="bob", email="bob@example.nl") is None


def test_password_that_is_the_email_address_is_refused() -> None:
    assert rules.password_problem("alice@example.nl", email="Alice@Example.nl") is not None


# --- Text from outside that cannot be refused (an identity provider's name claim) -----------------
@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("  Anna   de\tVries \n", "Anna de Vries"),
        ("Jan\u2028Jansen\u2029", "Jan Jansen"),  # line and paragraph separators are whitespace
        ("Acme\u202egpj.exe", "Acmegpj.exe"),  # the override that shows "exe.jpg"
        ("\u2066An\u200bna\ufeff\u2069", "Anna"),  # isolates, a zero-width space, a BOM
        ("a\x00b\x1bc\x7fd\x9fe", "abcde"),  # C0, DEL, C1
        ("Anna \u200b de Vries", "Anna de Vries"),  # what is left out leaves no double space
        ("\u200e\u200f\u061c\x00 ", ""),
        ("Zoë Ærø 李", "Zoë Ærø 李"),  # letters of any script stay
    ],
)
def test_plain_text_leaves_out_control_and_format_characters_and_collapses_whitespace(
    raw: str, plain: str
) -> None:
    assert rules.plain_text(raw, 200) == plain


def test_plain_text_is_bounded_and_never_ends_in_a_space() -> None:
    assert rules.plain_text("x" * 300, 200) == "x" * 200
    assert rules.plain_text("a" * 99 + " b", 100) == "a" * 99


def test_plain_text_passes_what_the_api_asks_of_a_text_field() -> None:
    from onboarding.web.schemas import TEXT_PATTERN

    refused = [chr(c) for c in range(0x10000) if not re.fullmatch(TEXT_PATTERN, chr(c))]
    assert len(refused) > 64  # C0, DEL, C1, separators and the bidi characters
    assert re.fullmatch(TEXT_PATTERN, rules.plain_text("a".join(refused), 10_000))


def test_tokens_have_256_bits_and_only_their_hash_is_kept() -> None:
    token = rules.new_token()
    assert len(token) == 43 and rules.TOKEN_PATTERN.strip("^$").startswith("[A-Za-z0-9_-]")
    assert token != rules.new_token()
    digest = rules.token_hash(token)
    assert len(digest) == 64 and token not in digest
    assert digest == rules.token_hash(token)


def test_rate_limit_windows_are_whole_hours() -> None:
    moment = datetime(2026, 11, 28, 20, 59, 30, tzinfo=UTC)
    assert rules.hour_bucket(moment) == "2026112820"
    assert rules.seconds_to_next_hour(moment) == 30


def test_times_are_rfc3339_utc() -> None:
    assert rules.rfc3339(datetime(2026, 1, 2, 3, 4, 5, 999, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
