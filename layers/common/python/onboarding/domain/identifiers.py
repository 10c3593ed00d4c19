"""Peppol participant identifiers: one rule per ISO 6523 ICD scheme.

A value is checked (format, then check digit) and normalised to its canonical form; the
participant id is ``<icd>:<value>`` (``0106:12345678``, ``9944:NL000099998B57``) and compares
case-insensitively. python-stdnum does the checking where it knows the scheme; KvK and OIN
numbers have no check digit and get explicit rules.

Only plain ASCII letters and digits are taken (separators aside): look-alike characters are
refused, not converted. ``\\d`` and python-stdnum accept other scripts' digits unevenly (NFKC
turns full-width digits into ASCII but leaves Arabic-Indic ones, which the LEI rule then keeps),
so a "conversion" would hold for some look-alikes and not for others; a clear 422 holds for all.
Whatever a rule returns is checked once more against the characters Peppol allows in an
identifier value, so nothing else is ever stored, claimed or queued.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Literal

PARTICIPANT_SCHEME = "iso6523-actorid-upis"
Reason = Literal["format", "check_digit", "unknown_scheme"]


# Peppol Policy for use of Identifiers: a participant identifier value uses only these.
PEPPOL_VALUE = re.compile(r"[A-Za-z0-9._~-]{1,130}")
_PLAIN = re.compile(r"[A-Za-z0-9]+")  # ASCII ranges: re's [0-9] is not Unicode's \d
_SEPARATORS = re.compile(r"[\s.\-/]")


class InvalidIdentifier(ValueError):
    def __init__(self, reason: Reason, message: str, message_nl: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.message_nl = message_nl or message


@dataclass(frozen=True)
class Scheme:
    icd: str  # ISO 6523 ICD code, the participant id's prefix
    code: str  # the Peppol scheme id, e.g. NL:KVK
    name: str
    country: str | None  # ISO 3166-1 alpha-2; None for international schemes
    normalise: Callable[[str], str]
    vat_country: str | None = None  # VIES member-state code for VAT numbers
    name_nl: str = ""  # the Dutch name, with its article ("het KvK-nummer")


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
    """The value without separators (spaces, '.', '-', '/'); only ASCII letters and digits."""
    compact = _SEPARATORS.sub("", value.strip())
    if not _PLAIN.fullmatch(compact):
        raise InvalidIdentifier(
            "format",
            "Use only the digits 0-9 and the letters A-Z (spaces, '.', '-' and '/' are left out).",
            "Gebruik alleen de cijfers 0-9 en de letters A-Z (spaties, '.', '-' en '/' vallen weg).",
        )
    return compact


def _digits(length: int, what: str, what_nl: str) -> Callable[[str], str]:
    def normalise(value: str) -> str:
        compact = _compact(value)
        if not re.fullmatch(rf"[0-9]{{{length}}}", compact):
            raise InvalidIdentifier(
                "format",
                f"A {what} has exactly {length} digits.",
                f"{what_nl[0].upper()}{what_nl[1:]} heeft precies {length} cijfers.",
            )
        return compact

    return normalise


def _stdnum(
    module: str, what: str, what_nl: str, *, prefix: str = "", length: int | None = None
) -> Callable[[str], str]:
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
            raise InvalidIdentifier(
                "check_digit",
                f"This {what} has a wrong check digit.",
                f"Het controlecijfer van {what_nl} klopt niet.",
            ) from exc
        except ValidationError as exc:
            raise InvalidIdentifier(
                "format", f"This is not a valid {what}: {exc}", f"Het formaat van {what_nl} klopt niet."
            ) from exc
        if length is not None and len(canonical) != length:
            raise InvalidIdentifier(
                "format",
                f"A {what} has {length} characters.",
                f"{what_nl[0].upper()}{what_nl[1:]} heeft {length} tekens.",
            )
        return prefix + canonical.upper()

    return normalise


def _scheme(
    icd: str,
    code: str,
    name: str,
    name_nl: str,
    country: str | None,
    normalise: Callable[[str], str],
    vat_country: str | None = None,
) -> Scheme:
    return Scheme(icd, code, name, country, normalise, vat_country=vat_country, name_nl=name_nl)


SCHEMES: tuple[Scheme, ...] = (
    _scheme("0106", "NL:KVK", "KvK number", "KvK-nummer", "NL", _digits(8, "KvK number", "het KvK-nummer")),
    _scheme(
        "0190",
        "NL:OINO",
        "Dutch government organisation number (OIN)",
        "organisatie-identificatienummer (OIN)",
        "NL",
        _digits(20, "OIN", "het OIN"),
    ),
    _scheme(
        "9944",
        "NL:VAT",
        "Dutch VAT ID (btw-id)",
        "btw-identificatienummer (btw-id)",
        "NL",
        _stdnum("nl.btw", "Dutch VAT ID", "het btw-id", prefix="NL"),
        vat_country="NL",
    ),
    _scheme(
        "0088",
        "GLN",
        "Global Location Number",
        "Global Location Number (GLN)",
        None,
        _stdnum("ean", "GLN", "de GLN", length=13),
    ),
    _scheme(
        "0208",
        "BE:EN",
        "Belgian enterprise number",
        "Belgisch ondernemingsnummer",
        "BE",
        _stdnum("be.vat", "Belgian enterprise number", "het Belgische ondernemingsnummer"),
    ),
    _scheme(
        "9925",
        "BE:VAT",
        "Belgian VAT ID",
        "Belgisch btw-nummer",
        "BE",
        _stdnum("be.vat", "Belgian VAT ID", "het Belgische btw-nummer", prefix="BE"),
        vat_country="BE",
    ),
    _scheme(
        "9930",
        "DE:VAT",
        "German VAT ID",
        "Duits btw-nummer",
        "DE",
        _stdnum("de.vat", "German VAT ID", "het Duitse btw-nummer", prefix="DE"),
        vat_country="DE",
    ),
    _scheme(
        "0192",
        "NO:ORG",
        "Norwegian organisation number",
        "Noors organisatienummer",
        "NO",
        _stdnum("no.orgnr", "Norwegian organisation number", "het Noorse organisatienummer"),
    ),
    _scheme(
        "0007",
        "SE:ORGNR",
        "Swedish organisation number",
        "Zweeds organisatienummer",
        "SE",
        _stdnum("se.orgnr", "Swedish organisation number", "het Zweedse organisatienummer"),
    ),
    _scheme(
        "0184",
        "DK:DIGST",
        "Danish CVR number",
        "Deens CVR-nummer",
        "DK",
        _stdnum("dk.cvr", "Danish CVR number", "het Deense CVR-nummer"),
    ),
    _scheme(
        "0002",
        "FR:SIRENE",
        "French SIREN number",
        "Frans SIREN-nummer",
        "FR",
        _stdnum("fr.siren", "SIREN number", "het SIREN-nummer"),
    ),
    _scheme(
        "0009",
        "FR:SIRET",
        "French SIRET number",
        "Frans SIRET-nummer",
        "FR",
        _stdnum("fr.siret", "SIRET number", "het SIRET-nummer"),
    ),
    _scheme(
        "0199",
        "LEI",
        "Legal Entity Identifier",
        "Legal Entity Identifier (LEI)",
        None,
        _stdnum("lei", "LEI", "de LEI"),
    ),
)
_BY_KEY = {key: scheme for scheme in SCHEMES for key in (scheme.icd, scheme.code.lower())}
KVK = _BY_KEY["0106"]


def scheme_of(name: str) -> Scheme:
    """A scheme by ICD code (``0106``) or Peppol scheme id (``NL:KVK``, any case)."""
    key = name.strip()
    found = _BY_KEY.get(key.lower()) if key.isascii() else None
    if found is None:
        known = ", ".join(f"{s.icd} ({s.code})" for s in SCHEMES)
        raise InvalidIdentifier(
            "unknown_scheme",
            f"Unknown identifier scheme. Known schemes: {known}.",
            f"Onbekend identificatieschema. Bekende schema's: {known}.",
        )
    return found


def parse(scheme: str, value: str) -> ParsedIdentifier:
    """Check and normalise ``value`` under ``scheme``; ``InvalidIdentifier`` says why not."""
    found = scheme_of(scheme)
    canonical = found.normalise(value)
    if not (canonical.isascii() and PEPPOL_VALUE.fullmatch(canonical)):  # whatever a rule let through
        raise InvalidIdentifier(
            "format",
            "A participant identifier uses only the characters a-z, A-Z, 0-9, '-', '.', '_' and '~'.",
            "Een deelnemer-id bestaat alleen uit de tekens a-z, A-Z, 0-9, '-', '.', '_' en '~'.",
        )
    return ParsedIdentifier(found, canonical)


def parse_participant_id(participant_id: str) -> ParsedIdentifier:
    """``0106:12345678``, also in the URL form ``iso6523-actorid-upis::0106:12345678``."""
    text = participant_id.strip()
    if text.lower().startswith(PARTICIPANT_SCHEME + "::"):
        text = text[len(PARTICIPANT_SCHEME) + 2 :]
    icd, separator, value = text.partition(":")
    if not separator or not re.fullmatch(r"[0-9]{4}", icd):
        raise InvalidIdentifier(
            "format",
            "A participant id has the form <ICD code>:<value>, e.g. 0106:12345678.",
            "Een deelnemer-id heeft de vorm <ICD-code>:<waarde>, bijvoorbeeld 0106:12345678.",
        )
    return parse(icd, value)
