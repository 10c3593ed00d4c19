"""Peppol registration rules: SML lookup names, migration keys, URL encoding, the document
type catalogue, and the SMP bodies checked against the official XSDs."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from urllib.parse import unquote

import pytest
from pydantic import ValidationError

from infra.local.smp_sandbox import PeppolSchemas, peppol_schemas
from onboarding.domain.peppol import (
    BUSINESS_CARD_NAMESPACE,
    DOCUMENT_TYPES,
    IDENTIFIERS_NAMESPACE,
    MIGRATION_KEY_SPECIALS,
    SML_ZONE_TEST,
    SMP_NAMESPACE,
    AccessPointEndpoint,
    BusinessEntity,
    BusinessIdentifier,
    DocumentType,
    UnknownDocumentType,
    business_card_xml,
    default_document_types,
    document_type,
    migration_key_problem,
    new_migration_key,
    participant_value,
    percent_encode,
    service_group_id,
    service_group_path,
    service_group_xml,
    service_metadata_xml,
    sml_lookup_name,
)

CERTIFICATE = base64.b64encode(bytes(range(256)) * 3).decode()
PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    + "\n".join(re.findall(".{1,64}", CERTIFICATE))
    + "\n-----END CERTIFICATE-----\n"
)


@pytest.fixture(scope="module")
def schemas() -> PeppolSchemas:
    return peppol_schemas()


def problem(schemas: PeppolSchemas, body: bytes) -> str | None:
    return schemas.problem(ET.fromstring(body))


def endpoint(**changes: object) -> AccessPointEndpoint:
    values: dict[str, object] = {
        "url": "https://ap.example.org/as4",
        "certificate": CERTIFICATE,
        "service_description": "Example access point",
        "technical_contact_url": "mailto:peppol@example.org",
    }
    return AccessPointEndpoint.model_validate(values | changes)


# --- SML lookup names ------------------------------------------------------------------


def test_u_naptr_name_reproduces_the_published_vector() -> None:
    assert sml_lookup_name("9915:test", SML_ZONE_TEST) == (
        "eh5boavaktmbgzyh2a63dz4qov33fvp5nsdvqklucfraayoodw6a.iso6523-actorid-upis.participant.sml.test.tech.peppol.org"
    )


def test_u_naptr_name_of_a_kvk_participant() -> None:
    name = sml_lookup_name("0106:95781897", "participant.sml.prod.tech.peppol.org")
    assert name.startswith("feylfv67iaghi2grodf4r6ahwy6o7hhjtoajkqkr4zhrxjyt4ira.iso6523-actorid-upis.")


@pytest.mark.parametrize(
    "variant",
    ["9915:TEST", " 9915:Test ", "iso6523-actorid-upis::9915:test", "ISO6523-ACTORID-UPIS::9915:TeSt"],
)
def test_u_naptr_name_ignores_case_and_the_url_form(variant: str) -> None:
    assert sml_lookup_name(variant, "Participant.SML.Test.Tech.Peppol.org.") == sml_lookup_name(
        "9915:test", SML_ZONE_TEST
    )


@pytest.mark.parametrize("bad", ["", "0106", "12345678", "106:123", "0106:", "0106:12 34", "busdox::0106:1"])
def test_participant_ids_need_an_icd_code_and_a_value(bad: str) -> None:
    with pytest.raises(ValueError, match="ICD"):
        participant_value(bad)


# --- migration keys ------------------------------------------------------------------------

GOOD_KEYS = ["11AAbb$$", "Ab1!Ab1!", "aB3#dE4%gH5[", "xyZ12(){}*^_-!~|+=QQ", "Zz9@" * 6]
BAD_KEYS = [
    ("1Ab$", "8 to 24"),
    ("aB3#dE4%gH5[aB3#dE4%gH5[x", "8 to 24"),
    ("11AAbb$ $", "no spaces"),
    ("11AAbb\t$$", "no spaces"),
    ("11AAbbcc", "special"),
    ("11AAbb$c", "special"),
    ("11AAbb&&", "special"),  # "&" is not in the BDMSL set
    ("11Abbb$$", "upper-case"),
    ("11AABb$$", "lower-case"),
    ("1xAAbb$$", "digits"),
    ("abcdefgh", "special characters"),
]


@pytest.mark.parametrize("key", GOOD_KEYS)
def test_keys_that_bdmsl_accepts(key: str) -> None:
    assert migration_key_problem(key) is None


@pytest.mark.parametrize(("key", "why"), BAD_KEYS)
def test_keys_that_bdmsl_refuses_say_why(key: str, why: str) -> None:
    message = migration_key_problem(key)
    assert message is not None and why in message


def test_the_rule_matches_bdmsls_regex() -> None:
    bdmsl = re.compile(
        r"^(?=.{8,24}$)(?=(.*[@#$%()\[\]{}*^_\-!~|+=]){2,})(?=(.*[A-Z]){2})(?=(.*[a-z]){2})(?=(.*[0-9]){2})(?=\S+$).*$"
    )
    for key in [*GOOD_KEYS, *(k for k, _ in BAD_KEYS)]:
        assert (migration_key_problem(key) is None) == bool(bdmsl.match(key)), key


def test_generated_keys_are_always_valid_and_differ() -> None:
    keys = [new_migration_key() for _ in range(500)] + [new_migration_key(n) for n in range(8, 25)]
    assert all(migration_key_problem(key) is None for key in keys)
    assert len(set(keys[:500])) == 500
    assert {len(k) for k in keys[:500]} == {24}
    assert set("".join(keys)) <= set(MIGRATION_KEY_SPECIALS) | set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    )
    with pytest.raises(ValueError, match="8 to 24"):
        new_migration_key(7)


# --- URL encoding ----------------------------------------------------------------------------


def test_service_group_ids_are_percent_encoded_for_the_smp() -> None:
    assert service_group_id("0106:12345678") == "iso6523-actorid-upis::0106:12345678"
    assert service_group_path("0106:12345678") == "iso6523-actorid-upis%3A%3A0106%3A12345678"
    assert service_group_path("iso6523-actorid-upis::9944:NL000099998B57") == (
        "iso6523-actorid-upis%3A%3A9944%3ANL000099998B57"
    )


def test_document_type_paths_encode_colons_and_hashes() -> None:
    invoice = document_type("bis-billing-invoice")
    assert invoice.path.startswith("busdox-docid-qns%3A%3Aurn%3Aoasis%3Anames")
    assert "%23%23urn%3Acen.eu%3Aen16931%3A2017%23compliant%23" in invoice.path
    assert not set(invoice.path) & set(":#/ ")
    assert unquote(invoice.path) == invoice.url_id


def test_percent_encoding_leaves_only_unreserved_characters() -> None:
    key = "aB3#dE4%gH5[]{}|^+=~!_-*()@$"
    encoded = percent_encode(key)
    assert re.fullmatch(r"[A-Za-z0-9._~%-]+", encoded)
    assert encoded.startswith("aB3%23dE4%25gH5%5B%5D%7B%7D")
    assert unquote(encoded) == key
    assert percent_encode("a b/c") == "a%20b%2Fc"


# --- document types ----------------------------------------------------------------------------


def test_the_default_pair_is_bis_billing_invoice_and_credit_note() -> None:
    invoice, credit_note = default_document_types()
    assert (invoice.key, credit_note.key) == ("bis-billing-invoice", "bis-billing-credit-note")
    assert invoice.process_id == credit_note.process_id == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    assert invoice.url_id == (
        "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
    )


@pytest.mark.parametrize("doc", DOCUMENT_TYPES, ids=lambda d: d.key)
def test_each_document_type_is_found_by_key_and_by_id(doc: DocumentType) -> None:
    assert doc is document_type(doc.key)
    assert doc is document_type(doc.key.upper())
    assert doc is document_type(doc.id)
    assert doc is document_type(doc.url_id)


def test_the_catalogue_has_nlcius_invoice_response_and_mlr() -> None:
    assert document_type("nlcius-invoice").id.endswith("#compliant#urn:fdc:nen.nl:nlcius:v1.0::2.1")
    assert document_type("nlcius-credit-note").id.startswith(
        "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2::CreditNote##"
    )
    assert document_type("invoice-response").process_id == "urn:fdc:peppol.eu:poacc:bis:invoice_response:3"
    assert document_type("mlr").process_id == "urn:fdc:peppol.eu:poacc:bis:mlr:3"
    assert len({d.key for d in DOCUMENT_TYPES}) == len({d.id for d in DOCUMENT_TYPES}) == len(DOCUMENT_TYPES)


def test_unknown_document_types_and_case_changed_ids_are_refused() -> None:
    with pytest.raises(UnknownDocumentType, match="Known document types"):
        document_type("order")
    with pytest.raises(UnknownDocumentType):
        document_type(document_type("mlr").id.upper())  # busdox-docid-qns is case-sensitive


def test_document_types_are_frozen() -> None:
    with pytest.raises(ValidationError):
        document_type("mlr").key = "other"  # type: ignore[misc]


# --- XML builders against the XSDs ------------------------------------------------------------


def test_service_group_body_is_valid(schemas: PeppolSchemas) -> None:
    body = service_group_xml("iso6523-actorid-upis::0106:12345678")
    assert problem(schemas, body) is None
    root = ET.fromstring(body)
    assert root.tag == f"{{{SMP_NAMESPACE}}}ServiceGroup"
    participant = root.find(f"{{{IDENTIFIERS_NAMESPACE}}}ParticipantIdentifier")
    assert participant is not None
    assert (participant.get("scheme"), participant.text) == ("iso6523-actorid-upis", "0106:12345678")


@pytest.mark.parametrize("doc", DOCUMENT_TYPES, ids=lambda d: d.key)
def test_service_metadata_body_is_valid_for_every_document_type(
    schemas: PeppolSchemas, doc: DocumentType
) -> None:
    body = service_metadata_xml("0106:12345678", doc, endpoint())
    assert problem(schemas, body) is None


def test_service_metadata_carries_every_endpoint_field(schemas: PeppolSchemas) -> None:
    start = datetime(2026, 1, 1, 1, 0, tzinfo=UTC) + timedelta(hours=1)
    body = service_metadata_xml(
        "0106:12345678",
        document_type("mlr"),
        endpoint(
            certificate=PEM,
            activation=start,
            expiration=start.replace(year=2031),
            technical_information_url="https://example.org/peppol",
        ),
    )
    assert problem(schemas, body) is None
    text = body.decode()
    for expected in (
        'transportProfile="peppol-transport-as4-v2_0"',
        "<wsa:Address>https://ap.example.org/as4</wsa:Address>",
        "<smp:RequireBusinessLevelSignature>false</smp:RequireBusinessLevelSignature>",
        "<smp:ServiceActivationDate>2026-01-01T02:00:00Z</smp:ServiceActivationDate>",
        "<smp:ServiceExpirationDate>2031-01-01T02:00:00Z</smp:ServiceExpirationDate>",
        f"<smp:Certificate>{CERTIFICATE}</smp:Certificate>",  # PEM armour and line breaks removed
        "<smp:TechnicalInformationUrl>https://example.org/peppol</smp:TechnicalInformationUrl>",
        '<id:ProcessIdentifier scheme="cenbii-procid-ubl">urn:fdc:peppol.eu:poacc:bis:mlr:3<',
    ):
        assert expected in text


def test_business_card_with_every_field_is_valid(schemas: PeppolSchemas) -> None:
    entity = BusinessEntity(
        name="Test BV <Donald> & Zn.",
        language="nl",
        country_code="NL",
        identifiers=(
            BusinessIdentifier(scheme="KVK", value="68750110"),
            BusinessIdentifier(scheme="VAT", value="NL000099998B57"),
        ),
        geographical_information="Hizzaarderlaan 3, 8823SJ Lollum",
        registration_date=date(2026, 3, 19),
    )
    body = business_card_xml("0106:68750110", entity)
    assert problem(schemas, body) is None
    root = ET.fromstring(body)
    name = root.find(f"{{{BUSINESS_CARD_NAMESPACE}}}BusinessEntity/{{{BUSINESS_CARD_NAMESPACE}}}Name")
    assert name is not None and (name.text, name.get("language")) == ("Test BV <Donald> & Zn.", "nl")
    card = root.find(f"{{{BUSINESS_CARD_NAMESPACE}}}BusinessEntity")
    assert card is not None and card.get("registrationDate") == "2026-03-19"


def test_minimal_business_card_is_valid(schemas: PeppolSchemas) -> None:
    body = business_card_xml("0106:68750110", BusinessEntity(name="Test BV Donald", country_code="NL"))
    assert problem(schemas, body) is None


def test_the_schemas_catch_broken_bodies(schemas: PeppolSchemas) -> None:
    group = service_group_xml("0106:12345678").replace(b"<smp:ServiceMetadataReferenceCollection />", b"")
    assert "ServiceMetadataReferenceCollection" in (problem(schemas, group) or "")
    metadata = service_metadata_xml("0106:1", document_type("mlr"), endpoint()).replace(b">false<", b">nope<")
    assert "boolean" in (problem(schemas, metadata) or "")
    no_address = re.sub(
        rb"<wsa:Address>.*</wsa:Address>",
        b"",
        service_metadata_xml("0106:1", document_type("mlr"), endpoint()),
    )
    assert problem(schemas, no_address) is not None
    card = business_card_xml("0106:1", BusinessEntity(name="X", country_code="NL")).replace(b">NL<", b">NLD<")
    assert problem(schemas, card) is not None


@pytest.mark.parametrize(
    "changes",
    [
        {"url": "http://ap.example.org/as4"},  # https only
        {"certificate": "not base64!"},
        {"certificate": ""},
        {"activation": datetime(2026, 1, 1)},  # a moment needs a time zone
        {"technical_contact_url": ""},
        {"unexpected": "field"},
    ],
)
def test_endpoint_settings_are_checked(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        endpoint(**changes)


@pytest.mark.parametrize(
    "changes",
    [{"country_code": "NLD"}, {"country_code": "nl"}, {"language": "dutch"}, {"name": "  "}],
)
def test_business_entity_fields_are_checked(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        BusinessEntity.model_validate({"name": "Test BV", "country_code": "NL"} | changes)
