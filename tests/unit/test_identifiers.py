"""Identifier rules, one table per scheme: canonical form, format errors, check-digit errors."""

from __future__ import annotations

import pytest

from onboarding.domain.identifiers import (
    PEPPOL_VALUE,
    InvalidIdentifier,
    parse,
    parse_participant_id,
    participant_key,
    scheme_of,
)

VALID = [
    ("0106", "68750110", "0106:68750110"),
    ("NL:KVK", " 6875 0110 ", "0106:68750110"),
    ("0190", "00000001820029336000", "0190:00000001820029336000"),
    ("9944", "NL000099998B57", "9944:NL000099998B57"),  # 2020 sole-proprietor btw-id (mod 97)
    ("9944", "nl 0000.99998.b57", "9944:NL000099998B57"),
    ("9944", "NL002455799B11", "9944:NL002455799B11"),
    ("nl:vat", "004495445B01", "9944:NL004495445B01"),  # older VAT number (11-proof)
    ("0088", "8712345678906", "0088:8712345678906"),
    ("0208", "0123.456.749", "0208:0123456749"),
    ("9925", "BE0123456749", "9925:BE0123456749"),
    ("9925", "0123456749", "9925:BE0123456749"),
    ("9930", "DE298946909", "9930:DE298946909"),
    ("0192", "988 077 917", "0192:988077917"),
    ("0007", "556036-0793", "0007:5560360793"),
    ("0184", "13585628", "0184:13585628"),
    ("0002", "552008443", "0002:552008443"),
    ("0009", "73282932000074", "0009:73282932000074"),
    ("0199", "724500VKKSH9QOLTFR81", "0199:724500VKKSH9QOLTFR81"),
]

INVALID = [
    ("0106", "1234567", "format"),
    ("0106", "1234567a", "format"),
    ("0106", "123456789", "format"),
    ("0190", "1234", "format"),
    ("9944", "NL000099998B58", "check_digit"),
    ("9944", "NL123456789B01", "check_digit"),
    ("9944", "NL12345", "format"),
    ("9944", "NL000099998X57", "format"),
    ("0088", "8712345678907", "check_digit"),
    ("0088", "87123456", "format"),  # an EAN-8 is no GLN
    ("0208", "0123456748", "check_digit"),
    ("9925", "BE0123456748", "check_digit"),
    ("0192", "988077918", "check_digit"),
    ("0007", "5560360794", "check_digit"),
    ("0199", "724500VKKSH9QOLTFR82", "check_digit"),
    ("1234", "whatever", "unknown_scheme"),
    ("XX:NOPE", "whatever", "unknown_scheme"),
]


@pytest.mark.parametrize(("scheme", "value", "participant_id"), VALID)
def test_valid_values_are_normalised_to_the_canonical_participant_id(
    scheme: str, value: str, participant_id: str
) -> None:
    assert parse(scheme, value).participant_id == participant_id


@pytest.mark.parametrize(("scheme", "value", "reason"), INVALID)
def test_invalid_values_say_why(scheme: str, value: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as raised:
        parse(scheme, value)
    assert raised.value.reason == reason and raised.value.message


@pytest.mark.parametrize("text", ["0106:68750110", "iso6523-actorid-upis::0106:68750110", " 0106:68750110 "])
def test_participant_ids_parse_in_both_forms(text: str) -> None:
    assert parse_participant_id(text).participant_id == "0106:68750110"


@pytest.mark.parametrize("text", ["68750110", "106:68750110", "abcd:1", "0106-68750110"])
def test_malformed_participant_ids_are_refused(text: str) -> None:
    with pytest.raises(InvalidIdentifier):
        parse_participant_id(text)


def test_participant_ids_compare_case_insensitively() -> None:
    assert participant_key("9944:NL000099998B57") == participant_key("9944:nl000099998b57 ")


def test_vat_schemes_know_their_vies_country() -> None:
    assert scheme_of("9944").vat_country == "NL" and scheme_of("9925").vat_country == "BE"
    assert scheme_of("0106").vat_country is None


# --- Issue 8: only plain ASCII, in Peppol's characters, whatever the scheme -----------------------
LOOK_ALIKES = {
    "full-width": lambda text: "".join(
        chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text
    ),
    "arabic-indic digits": lambda text: text.translate(
        str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")
    ),
    "devanagari digits": lambda text: text.translate(
        str.maketrans("0123456789", "\u0966\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e\u096f")
    ),
    "cyrillic letters": lambda text: text.translate(
        str.maketrans("ABCEHKMOPTX", "\u0410\u0412\u0421\u0415\u041d\u041a\u041c\u041e\u0420\u0422\u0425")
    ),
}


# Every valid value under every disguise that changes it (all-digit values have no letters
# to swap for Cyrillic ones).
DISGUISED = [
    pytest.param(scheme, LOOK_ALIKES[name](value), id=f"{scheme}-{value}-{name}")
    for scheme, value, _ in VALID
    for name in LOOK_ALIKES
    if LOOK_ALIKES[name](value) != value
]


@pytest.mark.parametrize(("scheme", "disguised"), DISGUISED)
def test_look_alike_characters_are_refused_in_every_scheme(scheme: str, disguised: str) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        parse(scheme, disguised)
    assert refused.value.reason == "format" and refused.value.message_nl


@pytest.mark.parametrize(("scheme", "value", "participant_id"), VALID)
def test_every_canonical_value_is_in_peppols_characters(scheme: str, value: str, participant_id: str) -> None:
    parsed = parse(scheme, value)
    assert parsed.value.isascii() and PEPPOL_VALUE.fullmatch(parsed.value)


@pytest.mark.parametrize(
    "participant",
    [
        "\uff10\uff11\uff10\uff16:68750110",
        "\u0660\u0661\u0660\u0666:68750110",
        "0106:\uff16\uff18\uff17\uff15\uff10\uff11\uff11\uff10",
    ],
)
def test_look_alikes_in_a_participant_id_are_refused(participant: str) -> None:
    from onboarding.domain.peppol import participant_value

    with pytest.raises(InvalidIdentifier):
        parse_participant_id(participant)
    with pytest.raises(ValueError, match="ICD"):
        participant_value(participant)


def test_a_scheme_name_must_be_plain_ascii() -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        scheme_of("NL:\u212aVK")  # KELVIN SIGN lower-cases to "k"
    assert refused.value.reason == "unknown_scheme"
