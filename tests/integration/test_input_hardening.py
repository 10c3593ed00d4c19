"""Bad input is a clear 4xx on every route, never a 500 and never stored (issue 8: items 5-12).

Driven through the handlers with API Gateway events, as the other integration tests."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from infra.platform import ROOT
from onboarding.domain import errors
from tests.support.events import body_of, header
from tests.support.flows import PASSWORD, call, complete, sign_up
from tests.support.orgs import Account, make_account

OPENAPI = json.loads((ROOT / "layers/common/python/onboarding/web/openapi.json").read_text())
BODY_ROUTES = sorted(
    (method.upper(), path)
    for path, operations in OPENAPI["paths"].items()
    for method, operation in operations.items()
    if "requestBody" in operation
)
ADDRESS = {"street": "Dorpsstraat 1", "postal_code": "1234 AB", "city": "Ergens"}
# What the issue found stored: NUL, another C0 control, DEL, a C1 control, a line separator and
# the bidirectional override that shows "gpj.exe" as "exe.jpg".
NASTY = ["a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\u2028b", "Acme\u202egpj.exe", "a\u2066b\u2069"]


@pytest.fixture(scope="module")
def someone(local_aws: Any) -> Account:
    return make_account(local_aws)


def _oin() -> str:
    return f"{uuid.uuid4().int % 10**20:020d}"


def _organisation(admin: Account, **change: Any) -> dict[str, Any]:
    body = {"name": "Bakkerij", "country": "NL", "address": ADDRESS, "identifiers": [], **change}
    return admin.ok("POST", "/organisations", 201, body=body)  # type: ignore[no-any-return]


def _concrete(path: str) -> str:
    return (
        path.replace("{decision}", "approve")
        .replace("{participant_id}", "0106:68750110")
        .replace("{organisation_id}", str(uuid.uuid4()))
        .replace("{environment_id}", str(uuid.uuid4()))
    )


def _invalid_field(response: dict[str, Any]) -> list[str]:
    assert response["statusCode"] == 422, response["body"]
    return [d["field"] for d in body_of(response)["error"]["details"]]


# --- 7: bodies nested too deep, numbers too long ------------------------------------------------
def test_every_body_route_is_in_the_list() -> None:
    assert len(BODY_ROUTES) >= 16, BODY_ROUTES


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize(
    "raw",
    ['{"a": ' + "[" * 1000 + "]" * 1000 + "}", '{"amount_cents": ' + "9" * 4400 + "}", "[" * 5000],
    ids=["nested-1000", "4400-digits", "unclosed-5000"],
)
def test_bodies_beyond_the_bounds_are_400_invalid_json(
    admin: Account, method: str, path: str, raw: str
) -> None:
    response = call(method, _concrete(path), raw_body=raw, claims=admin.claims)
    assert response["statusCode"] == 400, (method, path, response["body"][:200])
    assert body_of(response)["error"]["code"] == "invalid_json"


# --- 5: evidence of consent is JSON true, and every boolean is a boolean --------------------------
@pytest.mark.parametrize("accepted", [1, 1.0, "true", "yes"])
def test_terms_are_accepted_only_by_json_true(local_aws: Any, email: str, accepted: Any) -> None:
    response = complete(sign_up(local_aws, email), accept_terms=accepted)
    assert _invalid_field(response) == ["body.accept_terms"]
    assert complete(sign_up(local_aws, email), accept_terms=True)["statusCode"] == 201


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/organisations/{id}/receiving", {"enabled": 1, "accept_costs": True}),
        ("PUT", "/organisations/{id}/receiving", {"enabled": True, "accept_costs": 1}),
        ("PATCH", "/me", {"notifications": {"product_updates": 1}}),
        ("PATCH", "/me", {"notifications": {"registration_status": 0}}),
    ],
)
def test_no_boolean_takes_a_number(admin: Account, method: str, path: str, body: dict[str, Any]) -> None:
    organisation = _organisation(admin) if "{id}" in path else {"id": ""}
    response = admin.call(method, path.replace("{id}", organisation["id"]), body=body)
    assert response["statusCode"] == 422, response["body"]


# --- 6: passwords of whitespace or control characters -----------------------------------------
@pytest.mark.parametrize(
    "password",
    [
        " " * 12,
        "\t" * 12,
        "\x00" * 12,
        "\u3000" * 12,
        "good password\x00",
        *(c * 12 for c in "\u200b\ufeff\u202e"),
    ],
)
def test_passwords_of_spaces_or_control_characters_are_refused(
    local_aws: Any, email: str, password: str
) -> None:
    response = complete(sign_up(local_aws, email), password=password)
    assert response["statusCode"] == 422 and body_of(response)["error"]["code"] == "weak_password"


# --- 8: control characters, bidi overrides, non-ASCII emails, country codes ----------------------
@pytest.mark.parametrize("nasty", NASTY)
def test_no_text_field_takes_control_or_bidi_characters(
    admin: Account, operator: Account, nasty: str
) -> None:
    organisation = _organisation(admin)
    path = f"/organisations/{organisation['id']}"
    attempts = [
        ("POST", "/organisations", {"name": nasty, "country": "NL", "address": ADDRESS}, "body.name"),
        (
            "POST",
            "/organisations",
            {"name": "x", "country": "NL", "address": {**ADDRESS, "city": nasty}},
            "body.address.city",
        ),
        ("PATCH", path, {"address": {**ADDRESS, "street": nasty}}, "body.address.street"),
        ("PATCH", path, {"address": {**ADDRESS, "postal_code": nasty}}, "body.address.postal_code"),
        ("PATCH", path, {"contact": {"name": nasty}}, "body.contact.name"),
        ("PATCH", path, {"contact": {"email": f"in{nasty}koop@example.nl"}}, "body.contact.email"),
        ("PATCH", "/me", {"name": nasty}, "body.name"),
        ("POST", f"{path}/identifiers", {"scheme": "0190", "value": f"{nasty}1"}, "body.value"),
    ]
    for method, target, body, field in attempts:
        assert field in _invalid_field(admin.call(method, target, body=body)), (method, target, body)
    credit = operator.call(
        "POST",
        f"/admin/environments/{admin.environment_id}/credit",
        body={"amount_cents": 1, "reference": nasty},
    )
    assert _invalid_field(credit) == ["body.reference"]
    decision = operator.call(
        "POST", f"/admin/organisations/{organisation['id']}/activation/reject", body={"reason": nasty}
    )
    assert _invalid_field(decision) == ["body.reason"]
    assert admin.ok("GET", path) == organisation  # nothing stored


@pytest.mark.parametrize("nasty", NASTY)
def test_sign_up_and_activation_refuse_control_and_bidi_characters(
    local_aws: Any, email: str, nasty: str
) -> None:
    for body in ({"email": f"a{nasty}@example.nl"}, {"email": email, "language": "nl", "x": nasty}):
        assert call("POST", "/auth/signup", body=body)["statusCode"] == 422
    response = complete(sign_up(local_aws, email), environment_name=nasty)
    assert _invalid_field(response) == ["body.environment_name"]


@pytest.mark.parametrize("address", ["ä@b.nl", "jürgen@example.de", "user@exämple.nl", "a@b.nl\u202e"])
def test_non_ascii_email_addresses_are_refused_and_nothing_is_mailed(local_aws: Any, address: str) -> None:
    from tests.support.flows import outbox

    before = len(outbox(local_aws))
    response = call("POST", "/auth/signup", body={"email": address}, headers={"Accept-Language": "en"})
    assert _invalid_field(response) == ["body.email"]
    assert "ASCII" in body_of(response)["error"]["details"][0]["message"]
    assert len(outbox(local_aws)) == before


def test_country_must_be_a_real_iso_code(admin: Account) -> None:
    for country in ("XX", "EL", "UK", "nl", "NLD"):
        response = admin.call(
            "POST", "/organisations", body={"name": "x", "country": country, "address": ADDRESS}
        )
        assert _invalid_field(response) == ["body.country"], country
    address = admin.call(
        "POST", "/organisations", body={"name": "x", "country": "NL", "address": {**ADDRESS, "country": "XX"}}
    )
    assert _invalid_field(address) == ["body.address.country"]
    assert _organisation(admin, country="BE", identifiers=[])["country"] == "BE"


# --- 9: null clears an optional field, and is 422 for a required one -------------------------------
def test_patch_null_clears_the_contact_and_is_422_for_name_and_address(admin: Account) -> None:
    contact = {"name": "Finance", "email": "finance@example.nl", "phone": "+31 20 123 4567"}
    organisation = _organisation(admin, contact=contact)
    path = f"/organisations/{organisation['id']}"
    for body in ({"name": None}, {"address": None}, {"name": None, "contact": {"phone": None}}):
        response = admin.call("PATCH", path, body=body)
        assert response["statusCode"] == 422, body
    assert admin.ok("GET", path)["contact"] == contact  # a refused request changes nothing
    cleared = admin.ok("PATCH", path, body={"contact": {"email": None, "phone": None}})
    assert cleared["contact"] == {"name": "Finance", "email": None, "phone": None}
    assert admin.ok("PATCH", path, body={"contact": None})["contact"] == {
        "name": None,
        "email": None,
        "phone": None,
    }
    assert admin.ok("GET", path)["name"] == organisation["name"]


def test_patch_me_null_clears_the_name_and_is_422_for_language_and_notifications(admin: Account) -> None:
    assert admin.ok("PATCH", "/me", body={"name": "Alex"})["name"] == "Alex"
    for body in ({"language": None}, {"notifications": None}):
        assert admin.call("PATCH", "/me", body=body)["statusCode"] == 422, body
    assert admin.ok("PATCH", "/me", body={"name": None})["name"] == ""


# --- 10: a path parameter is decoded once --------------------------------------------------------
def test_a_participant_id_in_the_path_is_decoded_exactly_once(admin: Account) -> None:
    oin = _oin()
    organisation = _organisation(admin, identifiers=[{"scheme": "0190", "value": oin}])
    path = f"/organisations/{organisation['id']}/identifiers"
    for twice in (f"0190%253A{oin}", f"0190%25253A{oin}"):
        assert admin.call("POST", f"{path}/{twice}/verify")["statusCode"] == 404
        assert admin.call("DELETE", f"{path}/{twice}")["statusCode"] == 404
    assert len(admin.ok("GET", f"/organisations/{organisation['id']}")["identifiers"]) == 1
    admin.ok("DELETE", f"{path}/0190%3A{oin}", 204)


def _lei() -> str:
    """A fresh LEI with a "K" in it (the participant id is claimed once on the platform)."""
    from stdnum.iso7064 import mod_97_10

    body = f"5493001K{uuid.uuid4().hex[:10].upper()}"
    return body + mod_97_10.calc_check_digits(body)


@pytest.mark.parametrize("kelvin", ["\u212a", "%E2%84%AA"], ids=["raw", "percent-encoded"])
def test_a_look_alike_participant_id_in_the_path_names_no_identifier(admin: Account, kelvin: str) -> None:
    """U+212A KELVIN SIGN lower-cases to an ASCII "k": spelling the stored LEI with it must not
    verify, remove or register that LEI."""
    lei = _lei()
    organisation = _organisation(admin, identifiers=[{"scheme": "0199", "value": lei}])
    path = f"/organisations/{organisation['id']}"
    look_alike = "0199:" + lei.replace("K", kelvin, 1)
    for method, sub, body in (
        ("POST", f"/identifiers/{look_alike}/verify", None),
        ("DELETE", f"/identifiers/{look_alike}", None),
        ("PUT", f"/peppol/{look_alike}", {"send": True, "receive": False}),
        ("POST", f"/peppol/{look_alike}/migration-key", None),
    ):
        response = admin.call(method, path + sub, body=body)
        assert response["statusCode"] == 404, (method, sub, response["body"])
        assert body_of(response)["error"]["message"] == errors.IdentifierNotFound.message_nl
    assert [i["participant_id"] for i in admin.ok("GET", path)["identifiers"]] == [f"0199:{lei}"]


# --- 11: token responses are not cached; every JSON answer names its charset -------------------------
def test_token_responses_say_no_store(local_aws: Any, email: str) -> None:
    username = f"nostore-{uuid.uuid4().hex[:6]}"
    assert complete(sign_up(local_aws, email), username=username)["statusCode"] == 201
    tokens = call("POST", "/auth/token", body={"username": username, "password": PASSWORD})
    assert tokens["statusCode"] == 200 and header(tokens, "Cache-Control") == "no-store"
    refreshed = call("POST", "/auth/token/refresh", body={"refresh_token": body_of(tokens)["refresh_token"]})
    assert refreshed["statusCode"] == 200 and header(refreshed, "Cache-Control") == "no-store"


def test_every_json_answer_is_application_json_with_charset_utf8(admin: Account, email: str) -> None:
    answers = [
        call("GET", "/auth/terms"),
        call("POST", "/auth/signup", body={"email": email}),
        call("POST", "/auth/signup", body={"email": "not an address"}),
        call("POST", "/auth/signup", raw_body="{"),
        call("POST", "/auth/signup", raw_body="a=b", headers={"Content-Type": "text/plain"}),
        admin.call("GET", "/me"),
        admin.call("GET", f"/organisations/{uuid.uuid4()}"),
        admin.call("POST", "/organisations", body={"name": "x", "country": "NL", "address": ADDRESS}),
        call("GET", "/openapi.json"),
    ]
    for answer in answers:
        assert header(answer, "Content-Type") == "application/json; charset=utf-8", answer


# --- 12: a token of a user without an account is 401 on operators' routes too -----------------------
@pytest.mark.parametrize("groups", ["", "operators"])
def test_a_token_without_an_account_is_401_everywhere(admin: Account, groups: str) -> None:
    claims = {**admin.claims, "cognito:username": str(uuid.uuid4())}
    if groups:
        claims["cognito:groups"] = groups
    else:
        claims.pop("cognito:groups", None)
    for method, path, body in (
        ("GET", "/admin/activation-requests", None),
        ("POST", f"/admin/organisations/{uuid.uuid4()}/activation/approve", {}),
        ("POST", f"/admin/environments/{admin.environment_id}/credit", {"amount_cents": 100}),
        ("GET", f"/admin/environments/{admin.environment_id}/credit", None),
        ("GET", "/organisations", None),
        ("GET", "/me", None),
    ):
        response = call(method, path, body=body, claims=claims)
        assert response["statusCode"] == 401, (path, response["body"])
    # An account that is no operator is still 403.
    assert admin.call("GET", "/admin/activation-requests")["statusCode"] == 403


# --- 13: what the schema forbids by length is a validation error, never a body too large ------------
def _length_bounded_fields() -> list[tuple[str, str, str, int]]:
    schemas = OPENAPI["components"]["schemas"]
    found = []
    for method, path in BODY_ROUTES:
        content = OPENAPI["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]
        schema = content["schema"]
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        for name, field in schema.get("properties", {}).items():
            for option in field.get("anyOf", [field]):
                if option.get("type") == "string" and "maxLength" in option:
                    found.append((method, path, name, int(option["maxLength"])))
    return found


def test_every_length_bound_is_found() -> None:
    assert ("POST", "/auth/token/refresh", "refresh_token", 4096) in _length_bounded_fields()


@pytest.mark.parametrize(("method", "path", "name", "max_length"), _length_bounded_fields())
def test_a_string_one_longer_than_the_schema_allows_is_422_not_413(
    someone: Account, method: str, path: str, name: str, max_length: int
) -> None:
    # The widest character: JSON-escaped as a surrogate pair, 12 bytes.
    body = json.dumps({name: "\U0001f600" * (max_length + 1)}, ensure_ascii=True)
    response = call(method, _concrete(path), raw_body=body, claims=someone.claims)
    assert response["statusCode"] == 422, (method, path, name, response["statusCode"])
