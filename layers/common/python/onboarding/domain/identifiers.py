"""Peppol participant identifiers: one rule per ISO 6523 ICD scheme.

A value is checked (format, then check digit) and normalised to its canonical form; the
participant id is ``<icd>:<value>`` (``0106:12345678``, ``9944:NL000099998B57``) and compares
case-insensitively. python-stdnum does the checking where it knows the scheme; KvK and OIN
numbers have no check digit and get explicit rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Literal

PARTICIPANT_SCHEME = "iso6523-actorid-upis"
Reason = Literal["format", "check_digit", "unknown_scheme"]


class InvalidIdentifier(ValueError):
    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Scheme:
    icd: str  # ISO 6523 ICD code, the participant id's prefix
    code: str  # the Peppol scheme id, e.g. NL:KVK
    name: str
    country: str | None  # ISO 3166-1 alpha-2; None for international schemes
    normalise: Callable[[str], str]
    vat_country: str | None = None  # VIES member-state code for VAT numbers


@dataclass(frozen=True)
class ParsedIdentifier:
    scheme: Scheme
    value: str  # canonical

    @property
    def participant_id(self) -> str:
        return f"{self.scheme.icd}:{self.value}"


def participant_key(participant_id: str) -> str:
    """The form participant ids are compared (and claimed) in."""
    return participant_id.strip().lower()


def _compact(value: str) -> str:
    return re.sub(r"[\s.\-/]", "", value.strip())


def _digits(length: int, what: str) -> Callable[[str], str]:
    def normalise(value: str) -> str:
        compact = _compact(value)
        if not re.fullmatch(rf"\d{{{length}}}", compact):
            raise InvalidIdentifier("format", f"A {what} has exactly {length} digits.")
        return compact

    return normalise


def _stdnum(module: str, what: str, *, prefix: str = "", length: int | None = None) -> Callable[[str], str]:
    """A normaliser backed by ``stdnum.<module>``; ``prefix`` is put before the canonical value
    (VAT numbers keep their country code in Peppol)."""

    def normalise(value: str) -> str:
        from stdnum.exceptions import InvalidChecksum, ValidationError

        checker = import_module(f"stdnum.{module}")
        compact = _compact(value).upper()
        if prefix and compact.startswith(prefix):
            compact = compact[len(prefix) :]
        try:
            canonical = str(checker.validate(compact))
        except InvalidChecksum as exc:
            raise InvalidIdentifier("check_digit", f"This {what} has a wrong check digit.") from exc
        except ValidationError as exc:
            raise InvalidIdentifier("format", f"This is not a valid {what}: {exc}") from exc
        if length is not None and len(canonical) != length:
            raise InvalidIdentifier("format", f"A {what} has {length} characters.")
        return prefix + canonical.upper()

    return normalise


SCHEMES: tuple[Scheme, ...] = (
    Scheme("0106", "NL:KVK", "KvK number", "NL", _digits(8, "KvK number")),
    Scheme("0190", "NL:OINO", "Dutch government organisation number (OIN)", "NL", _digits(20, "OIN")),
    Scheme(
        "9944",
        "NL:VAT",
        "Dutch VAT ID (btw-id)",
        "NL",
        _stdnum("nl.btw", "Dutch VAT ID", prefix="NL"),
        vat_country="NL",
    ),
    Scheme("0088", "GLN", "Global Location Number", None, _stdnum("ean", "GLN", length=13)),
    Scheme(
        "0208", "BE:EN", "Belgian enterprise number", "BE", _stdnum("be.vat", "Belgian enterprise number")
    ),
    Scheme(
        "9925",
        "BE:VAT",
        "Belgian VAT ID",
        "BE",
        _stdnum("be.vat", "Belgian VAT ID", prefix="BE"),
        vat_country="BE",
    ),
    Scheme(
        "9930",
        "DE:VAT",
        "German VAT ID",
        "DE",
        _stdnum("de.vat", "German VAT ID", prefix="DE"),
        vat_country="DE",
    ),
    Scheme(
        "0192",
        "NO:ORG",
        "Norwegian organisation number",
        "NO",
        _stdnum("no.orgnr", "Norwegian organisation number"),
    ),
    Scheme(
        "0007",
        "SE:ORGNR",
        "Swedish organisation number",
        "SE",
        _stdnum("se.orgnr", "Swedish organisation number"),
    ),
    Scheme("0184", "DK:DIGST", "Danish CVR number", "DK", _stdnum("dk.cvr", "Danish CVR number")),
    Scheme("0002", "FR:SIRENE", "French SIREN number", "FR", _stdnum("fr.siren", "SIREN number")),
    Scheme("0009", "FR:SIRET", "French SIRET number", "FR", _stdnum("fr.siret", "SIRET number")),
    Scheme("0199", "LEI", "Legal Entity Identifier", None, _stdnum("lei", "LEI")),
)
_BY_KEY = {key: scheme for scheme in SCHEMES for key in (scheme.icd, scheme.code.lower())}
KVK = _BY_KEY["0106"]


def scheme_of(name: str) -> Scheme:
    """A scheme by ICD code (``0106``) or Peppol scheme id (``NL:KVK``, any case)."""
    found = _BY_KEY.get(name.strip().lower())
    if found is None:
        known = ", ".join(f"{s.icd} ({s.code})" for s in SCHEMES)
        raise InvalidIdentifier("unknown_scheme", f"Unknown identifier scheme. Known schemes: {known}.")
    return found


def parse(scheme: str, value: str) -> ParsedIdentifier:
    """Check and normalise ``value`` under ``scheme``; ``InvalidIdentifier`` says why not."""
    found = scheme_of(scheme)
    return ParsedIdentifier(found, found.normalise(value))


def parse_participant_id(participant_id: str) -> ParsedIdentifier:
    """``0106:12345678``, also in the URL form ``iso6523-actorid-upis::0106:12345678``."""
    text = participant_id.strip()
    if text.lower().startswith(PARTICIPANT_SCHEME + "::"):
        text = text[len(PARTICIPANT_SCHEME) + 2 :]
    icd, separator, value = text.partition(":")
    if not separator or not re.fullmatch(r"\d{4}", icd):
        raise InvalidIdentifier(
            "format", "A participant id has the form <ICD code>:<value>, e.g. 0106:12345678."
        )
    return parse(icd, value)
