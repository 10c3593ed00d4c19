"""Peppol registration rules: identifiers, document types, SML names, migration keys and the
XML bodies an SMP takes. Pure: no I/O, nothing beyond the standard library and pydantic.

A participant is registered in three places: the SMP (a service group plus one service
metadata per document type it receives), the SML (a DNS record that points senders at that
SMP, written by the SMP) and the Peppol Directory (the business card, pushed by the SMP).
The builders here produce the SMP bodies (Peppol SMP 1.0 "busdox" and Directory business
card 2018-06-21); the tests validate every one of them against the official XSDs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import string
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Final
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from onboarding.domain.ports import SmlLookup

PARTICIPANT_SCHEME: Final = "iso6523-actorid-upis"
DOCUMENT_TYPE_SCHEME: Final = "busdox-docid-qns"
PROCESS_SCHEME: Final = "cenbii-procid-ubl"
TRANSPORT_PROFILE_AS4: Final = "peppol-transport-as4-v2_0"  # the only active profile; AS2 is retired
URL_SEPARATOR: Final = "::"  # between scheme and value in the URL form of an identifier

# DNS zones of the OpenPeppol SML (valid from 2026-03-19); the SMP itself is configured
# against the matching SML, this backend only reads the zone.
SML_ZONE_TEST: Final = "participant.sml.test.tech.peppol.org"
SML_ZONE_PRODUCTION: Final = "participant.sml.prod.tech.peppol.org"

SMP_NAMESPACE: Final = "http://busdox.org/serviceMetadata/publishing/1.0/"
IDENTIFIERS_NAMESPACE: Final = "http://busdox.org/transport/identifiers/1.0/"
WSA_NAMESPACE: Final = "http://www.w3.org/2005/08/addressing"
BUSINESS_CARD_NAMESPACE: Final = "http://www.peppol.eu/schema/pd/businesscard/20180621/"

# ASCII only, in the characters the Peppol policy allows in a value (never Unicode digits).
_PARTICIPANT_VALUE = re.compile(r"[0-9]{4}:[A-Za-z0-9._~-]{1,130}")


# --- identifiers -------------------------------------------------------------------------


def participant_value(participant_id: str) -> str:
    """``0106:12345678`` from itself or from the URL form ``iso6523-actorid-upis::0106:12345678``.

    Only the shape is checked (ICD code, colon, value without whitespace); whether the value
    is a valid KvK number and so on is ``onboarding.domain.identifiers``' business.
    """
    text = participant_id.strip()
    if text.lower().startswith(PARTICIPANT_SCHEME + URL_SEPARATOR):
        text = text[len(PARTICIPANT_SCHEME) + len(URL_SEPARATOR) :]
    if not _PARTICIPANT_VALUE.fullmatch(text):
        raise ValueError("A participant id has the form <ICD code>:<value>, e.g. 0106:12345678.")
    return text


def service_group_id(participant_id: str) -> str:
    """The SMP's name for a participant: ``iso6523-actorid-upis::0106:12345678``."""
    return f"{PARTICIPANT_SCHEME}{URL_SEPARATOR}{participant_value(participant_id)}"


def percent_encode(text: str) -> str:
    """Every character but ``A-Z a-z 0-9 - . _ ~`` as ``%XX`` (UTF-8): ``:`` -> ``%3A``,
    ``#`` -> ``%23``, ``/`` -> ``%2F``, the form phoss-smp's own ``getURIPercentEncoded``
    links use for identifiers.

    Document type ids contain ``#``, which would otherwise end the URL path, and migration
    keys contain ``%``, ``#``, ``[`` and friends.
    """
    return quote(text, safe="")


def service_group_path(participant_id: str) -> str:
    """The path segment of a participant in SMP URLs: ``iso6523-actorid-upis%3A%3A0106%3A12345678``."""
    return percent_encode(service_group_id(participant_id))


# --- document types ----------------------------------------------------------------------


class DocumentType(BaseModel):
    """A document type a participant can receive, with the process it is exchanged in."""

    model_config = ConfigDict(frozen=True)
    key: str = Field(description="Short stable name used by this platform, e.g. bis-billing-invoice")
    name: str
    id: str = Field(description="The document type identifier value, without its scheme")
    process_id: str = Field(description="The process identifier value, without its scheme")
    scheme: str = DOCUMENT_TYPE_SCHEME
    process_scheme: str = PROCESS_SCHEME

    @property
    def url_id(self) -> str:
        """``busdox-docid-qns::urn:oasis:...``: how SMP URLs and lookups name it."""
        return f"{self.scheme}{URL_SEPARATOR}{self.id}"

    @property
    def path(self) -> str:
        """The percent-encoded path segment after ``/services/``."""
        return percent_encode(self.url_id)


_BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
_UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
_UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2::CreditNote"
_UBL_APPLICATION_RESPONSE = (
    "urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2::ApplicationResponse"
)
_BIS_BILLING = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
_NLCIUS = "urn:cen.eu:en16931:2017#compliant#urn:fdc:nen.nl:nlcius:v1.0"

DOCUMENT_TYPES: Final[tuple[DocumentType, ...]] = (
    DocumentType(
        key="bis-billing-invoice",
        name="Peppol BIS Billing 3.0 invoice",
        id=f"{_UBL_INVOICE}##{_BIS_BILLING}::2.1",
        process_id=_BILLING,
    ),
    DocumentType(
        key="bis-billing-credit-note",
        name="Peppol BIS Billing 3.0 credit note",
        id=f"{_UBL_CREDIT_NOTE}##{_BIS_BILLING}::2.1",
        process_id=_BILLING,
    ),
    # SI-UBL 2.0: the Dutch CIUS, received by many Dutch participants next to BIS Billing;
    # it travels in the Peppol billing process.
    DocumentType(
        key="nlcius-invoice",
        name="SI-UBL 2.0 (NLCIUS) invoice",
        id=f"{_UBL_INVOICE}##{_NLCIUS}::2.1",
        process_id=_BILLING,
    ),
    DocumentType(
        key="nlcius-credit-note",
        name="SI-UBL 2.0 (NLCIUS) credit note",
        id=f"{_UBL_CREDIT_NOTE}##{_NLCIUS}::2.1",
        process_id=_BILLING,
    ),
    DocumentType(
        key="invoice-response",
        name="Peppol Invoice Response 3.0",
        id=f"{_UBL_APPLICATION_RESPONSE}##urn:fdc:peppol.eu:poacc:trns:invoice_response:3::2.1",
        process_id="urn:fdc:peppol.eu:poacc:bis:invoice_response:3",
    ),
    DocumentType(
        key="mlr",
        name="Peppol Message Level Response 3.0",
        id=f"{_UBL_APPLICATION_RESPONSE}##urn:fdc:peppol.eu:poacc:trns:mlr:3::2.1",
        process_id="urn:fdc:peppol.eu:poacc:bis:mlr:3",
    ),
)
DEFAULT_DOCUMENT_TYPE_KEYS: Final = ("bis-billing-invoice", "bis-billing-credit-note")
_DOCUMENT_TYPES_BY_NAME = {name: doc for doc in DOCUMENT_TYPES for name in (doc.key, doc.id, doc.url_id)}


class UnknownDocumentType(ValueError):
    pass


def document_type(key_or_id: str) -> DocumentType:
    """A catalogue entry by key (``mlr``), by id, or by id with its scheme (``busdox-docid-qns::...``).

    Keys compare case-insensitively; ids do not, because the ``busdox-docid-qns`` scheme is
    case-sensitive.
    """
    text = key_or_id.strip()
    found = _DOCUMENT_TYPES_BY_NAME.get(text) or _DOCUMENT_TYPES_BY_NAME.get(text.lower())
    if found is None:
        known = ", ".join(doc.key for doc in DOCUMENT_TYPES)
        raise UnknownDocumentType(f"Unknown document type. Known document types: {known}.")
    return found


def default_document_types() -> tuple[DocumentType, ...]:
    """What a participant receives unless it chooses otherwise: the BIS Billing pair."""
    return tuple(document_type(key) for key in DEFAULT_DOCUMENT_TYPE_KEYS)


# --- SML --------------------------------------------------------------------------------


def sml_lookup_name(participant_id: str, zone: str) -> str:
    """The U-NAPTR name the SML publishes for a participant (Peppol Policy for use of
    Identifiers 4.4.0): base32(sha256(lower-case value)) without padding, lower-cased,
    then the scheme and the zone. The value is ``0106:12345678``, never the URL form.
    """
    value = participant_value(participant_id).lower()
    digest = hashlib.sha256(value.encode("utf-8")).digest()
    label = base64.b32encode(digest).decode("ascii").rstrip("=").lower()
    return f"{label}.{PARTICIPANT_SCHEME}.{zone.strip().rstrip('.').lower()}"


def same_smp(url: str, other: str) -> bool:
    """Whether two SMP base URLs name the same SMP (scheme, host and port; case-insensitive)."""

    def key(value: str) -> tuple[str, str, int | None]:
        parts = urlsplit(value.strip())
        return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port

    return key(url) == key(other)


def smp_elsewhere(lookup: SmlLookup, participant_id: str, own_smp_urls: Iterable[str]) -> str | None:
    """The URL of the *other* SMP the SML points at for this participant, or None when the
    participant is unregistered or already ours. Raises ``SmlLookupFailed`` like ``lookup``.

    This is how a failed SMP write is explained: phoss-smp answers a refused SML
    registration with a bare HTTP 500 unless it runs in debug mode.
    """
    found = lookup.lookup(participant_id)
    if found is None or any(same_smp(found, own) for own in own_smp_urls):
        return None
    return found


# --- migration keys ----------------------------------------------------------------------

MIGRATION_KEY_SPECIALS: Final = "@#$%()[]{}*^_-!~|+="  # the set BDMSL (>= 1.01) counts
MIGRATION_KEY_LENGTH: Final = (8, 24)


def migration_key_problem(key: str) -> str | None:
    """Why BDMSL would refuse this migration key, or None when it is acceptable.

    The rule (BDMSL >= 1.01, peppol-commons ``CSMLDefault.MIGRATION_CODE_PATTERN``): 8 to 24
    characters, at least two of each of special (from ``MIGRATION_KEY_SPECIALS``), upper
    case, lower case and digit, no whitespace. Checked here so a user hears about a mistyped
    key at once, not after a queued job failed at the SML.
    """
    shortest, longest = MIGRATION_KEY_LENGTH
    if not shortest <= len(key) <= longest:
        return f"A migration key has {shortest} to {longest} characters."
    if any(c.isspace() for c in key):
        return "A migration key contains no spaces."
    counts = {
        "special characters (" + MIGRATION_KEY_SPECIALS + ")": sum(c in MIGRATION_KEY_SPECIALS for c in key),
        "upper-case letters": sum(c in string.ascii_uppercase for c in key),
        "lower-case letters": sum(c in string.ascii_lowercase for c in key),
        "digits": sum(c in string.digits for c in key),
    }
    missing = [what for what, count in counts.items() if count < 2]
    if missing:
        return "A migration key has at least two " + ", two ".join(missing) + "."
    return None


def new_migration_key(length: int = MIGRATION_KEY_LENGTH[1]) -> str:
    """A random key that satisfies ``migration_key_problem``: two of each class, the rest
    from all classes, shuffled; ``secrets`` because the key is what lets another SMP take
    the participant over."""
    if not MIGRATION_KEY_LENGTH[0] <= length <= MIGRATION_KEY_LENGTH[1]:
        raise ValueError("A migration key has 8 to 24 characters.")
    classes = (string.ascii_lowercase, string.ascii_uppercase, string.digits, MIGRATION_KEY_SPECIALS)
    chars = [secrets.choice(cls) for cls in classes for _ in range(2)]
    everything = "".join(classes)
    chars += [secrets.choice(everything) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


# --- input data for the SMP bodies -------------------------------------------------------


class BusinessIdentifier(BaseModel):
    """An identifier shown in the Directory next to the name, e.g. ``(KVK, 12345678)``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    scheme: str = Field(min_length=1)
    value: str = Field(min_length=1)


class BusinessEntity(BaseModel):
    """What the Peppol Directory shows about a participant (its business card)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(min_length=1, description="Statutory name")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$", description="ISO 639-1")
    country_code: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    identifiers: tuple[BusinessIdentifier, ...] = ()
    geographical_information: str | None = None
    registration_date: date | None = None

    @field_validator("name")
    @classmethod
    def _name_has_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("The name is empty.")
        return value.strip()


def _certificate_base64(value: str) -> str:
    """The base64 DER body of a certificate, from bare base64 or PEM; the SMP publishes it
    as ``Certificate`` so senders can encrypt to the access point."""
    body = re.sub(r"-----(BEGIN|END) CERTIFICATE-----", "", value)
    body = "".join(body.split())
    try:
        base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("The certificate is not base64 (DER) or PEM.") from exc
    if not body:
        raise ValueError("The certificate is empty.")
    return body


class AccessPointEndpoint(BaseModel):
    """This platform's AS4 access point, as every service metadata publishes it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    url: str = Field(pattern=r"^https://\S+$", description="The AS4 endpoint (https only)")
    certificate: str = Field(description="The AP's Peppol certificate, base64 DER or PEM")
    service_description: str = Field(min_length=1)
    technical_contact_url: str = Field(min_length=1, description="mailto: or https URL")
    technical_information_url: str | None = None
    activation: datetime | None = None
    expiration: datetime | None = None
    transport_profile: str = TRANSPORT_PROFILE_AS4
    require_business_level_signature: bool = False

    @field_validator("certificate")
    @classmethod
    def _bare_certificate(cls, value: str) -> str:
        return _certificate_base64(value)

    @field_validator("activation", "expiration")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("Give the moment with a time zone.")
        return value


# --- XML builders ------------------------------------------------------------------------
# ElementTree without register_namespace (process-wide state): prefixed names and xmlns
# attributes are written literally, so the output has the prefixes phoss-smp itself uses.


def _xml(root: ET.Element) -> bytes:
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def _child(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def service_group_xml(participant_id: str) -> bytes:
    """The body of ``PUT /{service group}``: the participant and an empty reference list
    (the SMP fills the references in from the service metadata it holds)."""
    root = ET.Element("smp:ServiceGroup", {"xmlns:smp": SMP_NAMESPACE, "xmlns:id": IDENTIFIERS_NAMESPACE})
    _child(root, "id:ParticipantIdentifier", participant_value(participant_id), scheme=PARTICIPANT_SCHEME)
    _child(root, "smp:ServiceMetadataReferenceCollection")
    return _xml(root)


def service_metadata_xml(participant_id: str, document: DocumentType, endpoint: AccessPointEndpoint) -> bytes:
    """The body of ``PUT /{service group}/services/{document type}``: one process, one
    endpoint (this platform's access point)."""
    root = ET.Element(
        "smp:ServiceMetadata",
        {"xmlns:smp": SMP_NAMESPACE, "xmlns:id": IDENTIFIERS_NAMESPACE, "xmlns:wsa": WSA_NAMESPACE},
    )
    information = _child(root, "smp:ServiceInformation")
    _child(
        information, "id:ParticipantIdentifier", participant_value(participant_id), scheme=PARTICIPANT_SCHEME
    )
    _child(information, "id:DocumentIdentifier", document.id, scheme=document.scheme)
    process = _child(_child(information, "smp:ProcessList"), "smp:Process")
    _child(process, "id:ProcessIdentifier", document.process_id, scheme=document.process_scheme)
    found = _child(_child(process, "smp:ServiceEndpointList"), "smp:Endpoint")
    found.set("transportProfile", endpoint.transport_profile)
    _child(_child(found, "wsa:EndpointReference"), "wsa:Address", endpoint.url)
    _child(found, "smp:RequireBusinessLevelSignature", str(endpoint.require_business_level_signature).lower())
    if endpoint.activation is not None:
        _child(found, "smp:ServiceActivationDate", _utc(endpoint.activation))
    if endpoint.expiration is not None:
        _child(found, "smp:ServiceExpirationDate", _utc(endpoint.expiration))
    _child(found, "smp:Certificate", endpoint.certificate)
    _child(found, "smp:ServiceDescription", endpoint.service_description)
    _child(found, "smp:TechnicalContactUrl", endpoint.technical_contact_url)
    if endpoint.technical_information_url:
        _child(found, "smp:TechnicalInformationUrl", endpoint.technical_information_url)
    return _xml(root)


def business_card_xml(participant_id: str, entity: BusinessEntity) -> bytes:
    """The body of ``PUT /businesscard/{service group}``: what the Directory will show."""
    root = ET.Element("BusinessCard", {"xmlns": BUSINESS_CARD_NAMESPACE})
    _child(root, "ParticipantIdentifier", participant_value(participant_id), scheme=PARTICIPANT_SCHEME)
    card = _child(root, "BusinessEntity")
    if entity.registration_date is not None:
        card.set("registrationDate", entity.registration_date.isoformat())
    name = _child(card, "Name", entity.name)
    if entity.language:
        name.set("language", entity.language)
    _child(card, "CountryCode", entity.country_code)
    if entity.geographical_information:
        _child(card, "GeographicalInformation", entity.geographical_information)
    for identifier in entity.identifiers:
        _child(card, "Identifier", identifier.value, scheme=identifier.scheme)
    return _xml(root)
