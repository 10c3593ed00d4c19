"""The organisations function, driven with API Gateway events against moto and the sandboxes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from infra.local.aws_calls import count_aws_calls
from onboarding.adapters.repositories.users import UserRepository
from onboarding.domain import errors
from onboarding.domain.models import Role
from tests.support.events import body_of
from tests.support.flows import call
from tests.support.orgs import Account, drain_queue, make_account
from tests.support.races import race

DONALD = "68750110"
BY_HAND = {
    "name": "Bakkerij De Korenschoof",
    "country": "NL",
    "address": {"street": "Dorpsstraat 1", "postal_code": "1234 AB", "city": "Ergens"},
    "identifiers": [
        {"scheme": "9944", "value": "NL000099998B57"},
        {"scheme": "0190", "value": "00000001820029336000"},
    ],
}


@pytest.fixture
def other(local_aws: Any) -> Account:
    return make_account(local_aws)


def _free_kvk_number(service: Any) -> str:
    """A KvK test company nobody on the platform has claimed yet (the sandbox knows 8)."""
    from infra.local.sandboxes import KVK_COMPANIES

    for number, company in KVK_COMPANIES.items():
        if company[7] and service.organisations.claimed_by(f"0106:{number}") is None:
            return number
    pytest.fail("every KvK test company is claimed already in this session: add one to the sandbox")


def _by_hand(**change: Any) -> dict[str, Any]:
    body = {**BY_HAND, **change}
    if "identifiers" not in change:  # a fresh OIN so each test claims its own identifiers
        body["identifiers"] = [{"scheme": "0190", "value": f"{uuid.uuid4().int % 10**20:020d}"}]
    return body


def _active(admin: Account, operator: Account, **change: Any) -> dict[str, Any]:
    organisation = admin.ok("POST", "/organisations", 201, body=_by_hand(**change))
    admin.ok("POST", f"/organisations/{organisation['id']}/activation", 202, body={"method": "manual_review"})
    return operator.ok("POST", f"/admin/organisations/{organisation['id']}/activation/approve", body={})


@pytest.fixture(scope="module")
def organisations_service(local_aws: Any) -> Any:
    from organisations_api.handler import service

    return service()


# --- KvK search ------------------------------------------------------------------------------
def test_search_by_kvk_number_and_by_name(admin: Account) -> None:
    [found] = admin.ok("GET", "/organisations/search", query={"kvk_number": DONALD})
    assert found == {
        "kvk_number": DONALD,
        "name": "Test BV Donald",
        "city": "Lollum",
        "type": "hoofdvestiging",
        "active": True,
    }
    assert any(
        r["kvk_number"] == "69599068"
        for r in admin.ok("GET", "/organisations/search", query={"name": "Bolderbast"})
    )


def test_a_search_without_results_is_an_empty_list(admin: Account) -> None:
    assert admin.ok("GET", "/organisations/search", query={"kvk_number": "12345678"}) == []


@pytest.mark.parametrize(
    "query", [{}, {"kvk_number": DONALD, "name": "Donald"}, {"kvk_number": "123"}, {"name": "x"}]
)
def test_a_search_needs_exactly_one_valid_criterion(admin: Account, query: dict[str, str]) -> None:
    assert admin.call("GET", "/organisations/search", query=query)["statusCode"] == 422


def test_a_failing_kvk_is_503_kvk_unavailable(admin: Account) -> None:
    response = admin.call("GET", "/organisations/search", query={"kvk_number": "90004973"})
    assert response["statusCode"] == 503 and body_of(response)["error"]["code"] == "kvk_unavailable"


# --- Adding organisations --------------------------------------------------------------------
def test_add_from_kvk_fills_name_address_legal_form_and_rsin(
    admin: Account, organisations_service: Any
) -> None:
    number = _free_kvk_number(organisations_service)
    organisation = admin.ok("POST", "/organisations", 201, body={"kvk_number": number})
    assert organisation["status"] == "draft" and organisation["country"] == "NL"
    assert organisation["kvk_number"] == number and organisation["name"].startswith("Test")
    assert organisation["address"]["city"] and organisation["address"]["country"] == "NL"
    assert organisation["legal_form"]
    assert organisation["identifiers"] == [
        {
            "scheme": "0106",
            "value": number,
            "participant_id": f"0106:{number}",
            "primary": True,
            "verification": "verified",
            "peppol": {"send": "not_registered", "receive": "not_registered"},
        }
    ]
    assert organisation["receiving"] == {"enabled": False, "prompt": "ask"}


def test_an_unknown_kvk_number_is_404_kvk_not_found(admin: Account) -> None:
    response = admin.call("POST", "/organisations", body={"kvk_number": "12345678"})
    assert response["statusCode"] == 404 and body_of(response)["error"]["code"] == "kvk_not_found"


def test_an_organisation_no_longer_registered_is_422(admin: Account) -> None:
    assert admin.call("POST", "/organisations", body={"kvk_number": "55505201"})["statusCode"] == 422


def test_add_by_hand_makes_the_first_identifier_primary(admin: Account) -> None:
    body = _by_hand(
        identifiers=[
            {"scheme": "NL:OINO", "value": f"{uuid.uuid4().int % 10**20:020d}"},
            {"scheme": "0088", "value": "8712345678906"},
        ]
    )
    organisation = admin.ok("POST", "/organisations", 201, body=body)
    assert [i["primary"] for i in organisation["identifiers"]] == [True, False]
    assert organisation["address"] == {**BY_HAND["address"], "country": "NL"}
    # The GLN is now claimed platform-wide: a second claim is refused.
    again = admin.call(
        "POST", "/organisations", body=_by_hand(identifiers=[{"scheme": "0088", "value": "8712345678906"}])
    )
    assert again["statusCode"] == 409 and body_of(again)["error"]["code"] == "organisation_exists"


@pytest.mark.parametrize(
    ("identifier", "code"),
    [
        ({"scheme": "0106", "value": "1234567"}, "invalid_identifier_format"),
        ({"scheme": "9944", "value": "NL000099998B58"}, "invalid_identifier_check_digit"),
        ({"scheme": "0088", "value": "8712345678907"}, "invalid_identifier_check_digit"),
        (
            {"scheme": "0208", "value": "0123456749"},
            "invalid_identifier_country",
        ),  # Belgian number, Dutch org
        ({"scheme": "9999", "value": "1"}, "invalid_identifier_unknown_scheme"),
    ],
)
def test_invalid_identifiers_are_422_with_the_reason(
    admin: Account, identifier: dict[str, str], code: str
) -> None:
    response = admin.call("POST", "/organisations", body=_by_hand(identifiers=[identifier]))
    assert response["statusCode"] == 422
    error = body_of(response)["error"]
    assert error["code"] == code and error["details"][0]["field"].startswith("body.identifiers.0")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"kvk_number": "123"},
        {"kvk_number": DONALD, "name": "x"},
        {"name": "x", "country": "NL"},
        {"name": "x", "country": "Netherlands", "address": BY_HAND["address"]},
        {**BY_HAND, "address": {**BY_HAND["address"], "country": "BE"}},
        {**BY_HAND, "unknown": 1},
    ],
)
def test_bad_bodies_are_422(admin: Account, body: dict[str, Any]) -> None:
    assert admin.call("POST", "/organisations", body=body)["statusCode"] == 422


def test_the_free_plan_allows_two_organisations(admin: Account) -> None:
    admin.ok("POST", "/organisations", 201, body=_by_hand())
    admin.ok("POST", "/organisations", 201, body=_by_hand())
    third = admin.call("POST", "/organisations", body=_by_hand())
    assert third["statusCode"] == 402 and body_of(third)["error"]["code"] == "plan_limit_reached"
    # Deleting one makes room again.
    first = admin.ok("GET", "/organisations")[0]
    admin.ok("DELETE", f"/organisations/{first['id']}", 204)
    admin.ok("POST", "/organisations", 201, body=_by_hand())


def test_members_may_read_but_not_change(admin: Account, organisations_service: Any) -> None:
    organisation = admin.ok("POST", "/organisations", 201, body=_by_hand())
    users = UserRepository(organisations_service.organisations.table)
    users.change_role(admin.user_id, Role.MEMBER, organisations_service.clock())
    path = f"/organisations/{organisation['id']}"
    assert admin.ok("GET", path)["id"] == organisation["id"]
    for method, sub, body in (
        ("POST", "", None),
        ("PATCH", "", {"name": "x"}),
        ("DELETE", "", None),
        ("POST", "/identifiers", {"scheme": "0088", "value": "8712345678906"}),
        ("POST", "/activation", {"method": "manual_review"}),
    ):
        target = "/organisations" if method == "POST" and not sub else path + sub
        response = admin.call(
            method,
            target,
            body=body if body is not None else (_by_hand() if target == "/organisations" else None),
        )
        assert response["statusCode"] == 403, (method, target, response["body"])


def test_idempotency_key_returns_the_first_organisation_again(admin: Account) -> None:
    key, body = str(uuid.uuid4()), _by_hand()
    first = admin.ok("POST", "/organisations", 201, body=body, headers={"Idempotency-Key": key})
    again = admin.ok("POST", "/organisations", 201, body=body, headers={"Idempotency-Key": key})
    assert again == first and len(admin.ok("GET", "/organisations")) == 1


# --- Reading, changing, deleting -------------------------------------------------------------
def test_get_list_patch_and_delete(admin: Account) -> None:
    organisation = admin.ok("POST", "/organisations", 201, body=_by_hand())
    path = f"/organisations/{organisation['id']}"
    assert admin.ok("GET", path) == organisation
    assert [o["id"] for o in admin.ok("GET", "/organisations")] == [organisation["id"]]
    changed = admin.ok(
        "PATCH", path, body={"name": "Korenschoof BV", "contact": {"email": "inkoop@example.nl"}}
    )
    assert changed["name"] == "Korenschoof BV" and changed["contact"]["email"] == "inkoop@example.nl"
    assert changed["updated_at"] >= organisation["updated_at"]
    admin.ok("DELETE", path, 204)
    assert admin.call("GET", path)["statusCode"] == 404


def test_an_active_organisations_name_and_address_are_locked(admin: Account, operator: Account) -> None:
    organisation = _active(admin, operator)
    path = f"/organisations/{organisation['id']}"
    for change in ({"name": "New name"}, {"address": BY_HAND["address"]}):
        response = admin.call("PATCH", path, body=change)
        assert response["statusCode"] == 409 and body_of(response)["error"]["code"] == "organisation_active"
    assert admin.ok("PATCH", path, body={"contact": {"name": "Finance"}})["contact"]["name"] == "Finance"


def test_an_organisation_registered_on_peppol_cannot_be_deleted(admin: Account, operator: Account) -> None:
    organisation = _active(admin, operator)
    response = admin.call("DELETE", f"/organisations/{organisation['id']}")
    assert response["statusCode"] == 409 and body_of(response)["error"]["code"] == "registered_on_peppol"


# --- Identifiers -----------------------------------------------------------------------------
def test_add_and_remove_identifiers(admin: Account) -> None:
    organisation = admin.ok("POST", "/organisations", 201, body=_by_hand(identifiers=[]))
    path = f"/organisations/{organisation['id']}/identifiers"
    gln = f"{uuid.uuid4().int % 10**12:012d}"
    gln += str((10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(gln)) % 10) % 10)
    added = admin.ok("POST", path, 201, body={"scheme": "GLN", "value": gln})
    assert added == {
        "scheme": "0088",
        "value": gln,
        "participant_id": f"0088:{gln}",
        "primary": True,
        "verification": "unverified",
        "peppol": {"send": "not_registered", "receive": "not_registered"},
    }
    second = admin.ok(
        "POST", path, 201, body={"scheme": "0190", "value": f"{uuid.uuid4().int % 10**20:020d}"}
    )
    assert second["primary"] is False
    duplicate = admin.call("POST", path, body={"scheme": "0088", "value": gln})
    assert duplicate["statusCode"] == 409
    # Remove the primary (':' percent-encoded, as a client may send it): the next takes over.
    admin.ok("DELETE", f"{path}/0088%3A{gln}", 204)
    left = admin.ok("GET", f"/organisations/{organisation['id']}")["identifiers"]
    assert [i["participant_id"] for i in left] == [second["participant_id"]] and left[0]["primary"] is True
    assert admin.call("DELETE", f"{path}/0088:{gln}")["statusCode"] == 404
    # Released: another organisation may claim it now.
    admin.ok("POST", "/organisations", 201, body=_by_hand(identifiers=[{"scheme": "0088", "value": gln}]))


def test_vat_ids_are_verified_against_vies(admin: Account) -> None:
    organisation = admin.ok(
        "POST",
        "/organisations",
        201,
        body=_by_hand(identifiers=[{"scheme": "0190", "value": f"{uuid.uuid4().int % 10**20:020d}"}]),
    )
    path = f"/organisations/{organisation['id']}/identifiers"
    admin.ok("POST", path, 201, body={"scheme": "9944", "value": "NL000099998B57"})
    result = admin.ok("POST", f"{path}/9944:NL000099998B57/verify")
    assert result["verification"] == "verified" and result["source"] == "vies"
    assert result["details"]["name"] == "TEST BV DONALD"
    unknown = admin.ok("POST", path, 201, body={"scheme": "9944", "value": "NL004495445B01"})
    result = admin.ok("POST", f"{path}/{unknown['participant_id']}/verify")
    assert result == {"verification": "rejected", "source": "vies", "details": result["details"]}
    stored = admin.ok("GET", f"/organisations/{organisation['id']}")["identifiers"]
    assert next(i for i in stored if i["value"] == "NL004495445B01")["verification"] == "rejected"


def test_vies_outages_are_inconclusive_not_rejected(
    admin: Account, organisations_service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onboarding.adapters.vies import ViesClient

    organisation = admin.ok("POST", "/organisations", 201, body=_by_hand())
    path = f"/organisations/{organisation['id']}/identifiers"
    participant = admin.ok("POST", path, 201, body={"scheme": "9944", "value": "NL002455799B11"})[
        "participant_id"
    ]
    monkeypatch.setattr(organisations_service, "vies", ViesClient("http://127.0.0.1:9", timeout=1))
    result = admin.ok("POST", f"{path}/{participant}/verify")
    assert (
        result["verification"] == "inconclusive" and result["source"] == "vies" and result["details"]["retry"]
    )


def test_kvk_numbers_are_verified_against_the_kvk(admin: Account, organisations_service: Any) -> None:
    number = _free_kvk_number(organisations_service)
    organisation = admin.ok("POST", "/organisations", 201, body={"kvk_number": number})
    result = admin.ok("POST", f"/organisations/{organisation['id']}/identifiers/0106:{number}/verify")
    assert (
        result["verification"] == "verified" and result["source"] == "kvk" and result["details"]["registered"]
    )


def test_schemes_without_a_registry_cannot_be_verified(admin: Account) -> None:
    organisation = admin.ok("POST", "/organisations", 201, body=_by_hand())
    participant = organisation["identifiers"][0]["participant_id"]
    response = admin.call("POST", f"/organisations/{organisation['id']}/identifiers/{participant}/verify")
    assert (
        response["statusCode"] == 422 and body_of(response)["error"]["code"] == "verification_not_supported"
    )


# --- Activation ------------------------------------------------------------------------------
def test_activation_is_reviewed_by_an_operator_and_queues_the_send_registration(
    local_aws: Any, admin: Account, operator: Account
) -> None:
    drain_queue(local_aws)
    organisation = admin.ok("POST", "/organisations", 201, body=_by_hand())
    path = f"/organisations/{organisation['id']}"
    assert admin.ok("POST", f"{path}/activation", 202, body={"method": "manual_review"}) == {
        "status": "pending_review"
    }
    again = admin.call("POST", f"{path}/activation", body={"method": "manual_review"})
    assert again["statusCode"] == 409
    requests = operator.ok("GET", "/admin/activation-requests")
    mine = next(r for r in requests if r["organisation_id"] == organisation["id"])
    assert mine["environment_id"] == admin.environment_id and mine["method"] == "manual_review"

    approved = operator.ok("POST", f"/admin/organisations/{organisation['id']}/activation/approve")
    assert approved["status"] == "active" and approved["activation"]["decided_by"] == operator.user_id
    primary = approved["identifiers"][0]
    assert primary["peppol"]["send"] == "pending"
    assert all(
        r["organisation_id"] != organisation["id"] for r in operator.ok("GET", "/admin/activation-requests")
    )
    [message] = [m for m in drain_queue(local_aws) if m["organisation_id"] == organisation["id"]]
    assert message["participant_id"] == primary["participant_id"]
    from organisations_api.handler import service

    job = service().jobs.get(message["job_id"])
    assert job is not None and job.status.value == "queued" and job.attempts == 0
    assert (job.origin.value, job.target.send, job.target.receive) == ("approval", True, False)
    decided = operator.call("POST", f"/admin/organisations/{organisation['id']}/activation/reject", body={})
    assert decided["statusCode"] == 409


def test_a_rejected_request_can_be_made_again(admin: Account, operator: Account) -> None:
    organisation = admin.ok("POST", "/organisations", 201, body=_by_hand())
    admin.ok("POST", f"/organisations/{organisation['id']}/activation", 202, body={"method": "manual_review"})
    rejected = operator.ok(
        "POST",
        f"/admin/organisations/{organisation['id']}/activation/reject",
        body={"reason": "The bank account holder does not match."},
    )
    assert rejected["status"] == "rejected" and rejected["activation"]["reason"].startswith("The bank")
    admin.ok("POST", f"/organisations/{organisation['id']}/activation", 202, body={"method": "manual_review"})


def test_activation_needs_exactly_one_primary_identifier(admin: Account) -> None:
    organisation = admin.ok("POST", "/organisations", 201, body=_by_hand(identifiers=[]))
    response = admin.call(
        "POST", f"/organisations/{organisation['id']}/activation", body={"method": "manual_review"}
    )
    assert (
        response["statusCode"] == 409 and body_of(response)["error"]["code"] == "primary_identifier_required"
    )


def test_unknown_activation_methods_are_422(admin: Account) -> None:
    organisation = admin.ok("POST", "/organisations", 201, body=_by_hand())
    response = admin.call("POST", f"/organisations/{organisation['id']}/activation", body={"method": "ideal"})
    assert response["statusCode"] == 422


def test_operator_routes_are_403_for_everyone_else(admin: Account) -> None:
    organisation = admin.ok("POST", "/organisations", 201, body=_by_hand())
    for method, path, body in (
        ("GET", "/admin/activation-requests", None),
        ("POST", f"/admin/organisations/{organisation['id']}/activation/approve", {}),
        ("POST", f"/admin/organisations/{uuid.uuid4()}/activation/approve", {}),
        ("POST", f"/admin/environments/{admin.environment_id}/credit", {"amount_cents": 100}),
        ("GET", f"/admin/environments/{admin.environment_id}/credit", None),  # even one's own ledger
    ):
        assert admin.call(method, path, body=body)["statusCode"] == 403, path


def test_operators_get_404_for_unknown_organisations_and_environments(operator: Account) -> None:
    assert (
        operator.call("POST", f"/admin/organisations/{uuid.uuid4()}/activation/approve")["statusCode"] == 404
    )
    missing = operator.call("POST", f"/admin/environments/{uuid.uuid4()}/credit", body={"amount_cents": 100})
    assert missing["statusCode"] == 404
    ledger = operator.call("GET", f"/admin/environments/{uuid.uuid4()}/credit")
    assert (
        ledger["statusCode"] == 404
        and body_of(ledger)["error"]["message"] == errors.EnvironmentNotFound.message_nl
    )
    assert (
        operator.call("POST", f"/admin/environments/{uuid.uuid4()}/credit", body={"amount_cents": 0})[
            "statusCode"
        ]
        == 422
    )


# --- Receiving -------------------------------------------------------------------------------
def test_receiving_needs_an_active_organisation_accepted_costs_and_credit(
    local_aws: Any, admin: Account, operator: Account
) -> None:
    draft = admin.ok("POST", "/organisations", 201, body=_by_hand())
    not_active = admin.call(
        "PUT", f"/organisations/{draft['id']}/receiving", body={"enabled": True, "accept_costs": True}
    )
    assert (
        not_active["statusCode"] == 409 and body_of(not_active)["error"]["code"] == "organisation_not_active"
    )
    organisation = _active(admin, operator)
    path = f"/organisations/{organisation['id']}/receiving"
    costs = admin.call("PUT", path, body={"enabled": True, "accept_costs": False})
    assert costs["statusCode"] == 422 and body_of(costs)["error"]["code"] == "costs_not_accepted"
    broke = admin.call("PUT", path, body={"enabled": True, "accept_costs": True})
    assert broke["statusCode"] == 402 and body_of(broke)["error"]["code"] == "insufficient_credit"

    credit = operator.ok(
        "POST", f"/admin/environments/{admin.environment_id}/credit", body={"amount_cents": 2500}
    )
    assert credit == {"balance_cents": 2500, "currency": "EUR"}
    drain_queue(local_aws)
    enabled = admin.ok("PUT", path, body={"enabled": True, "accept_costs": True})
    assert enabled["enabled"] is True and enabled["registration_job_id"]
    assert admin.ok("PUT", path, body={"enabled": True, "accept_costs": True}) == enabled  # no second job
    disabled = admin.ok("PUT", path, body={"enabled": False, "accept_costs": False})
    assert disabled["enabled"] is False and disabled["registration_job_id"] != enabled["registration_job_id"]
    messages = [m for m in drain_queue(local_aws) if m["organisation_id"] == organisation["id"]]
    from organisations_api.handler import service

    jobs = [service().jobs.get(m["job_id"]) for m in messages]
    assert [(j.origin.value, j.target.receive) for j in jobs if j] == [
        ("receiving", True),
        ("receiving", False),
    ]
    environment = call("GET", "/environment", claims=admin.claims)
    assert body_of(environment)["credit"] == {"balance_cents": 2500, "currency": "EUR"}


def test_the_receive_prompt_after_login(admin: Account, operator: Account) -> None:
    organisation = _active(admin, operator)
    me = body_of(call("GET", "/me", claims=admin.claims))
    assert me["receive_prompt"] == [{"organisation_id": organisation["id"], "name": organisation["name"]}]
    path = f"/organisations/{organisation['id']}/receive-prompt"
    assert admin.ok("POST", path, body={"choice": "later"})["receiving"]["prompt"] == "later"
    assert body_of(call("GET", "/me", claims=admin.claims))["receive_prompt"]  # asked again next time
    assert admin.ok("POST", path, body={"choice": "never"})["receiving"]["prompt"] == "never"
    assert body_of(call("GET", "/me", claims=admin.claims))["receive_prompt"] == []
    assert admin.call("POST", path, body={"choice": "maybe"})["statusCode"] == 422


def test_enabling_from_the_prompt_needs_credit(admin: Account, operator: Account) -> None:
    organisation = _active(admin, operator)
    path = f"/organisations/{organisation['id']}/receive-prompt"
    assert admin.call("POST", path, body={"choice": "enable"})["statusCode"] == 402
    operator.ok("POST", f"/admin/environments/{admin.environment_id}/credit", body={"amount_cents": 100})
    assert admin.ok("POST", path, body={"choice": "enable"})["receiving"]["enabled"] is True


# --- Tenant isolation ------------------------------------------------------------------------
ROUTES_WITH_AN_ORGANISATION = [
    ("GET", "", None),
    ("PATCH", "", {"contact": {"name": "x"}}),
    ("DELETE", "", None),
    ("POST", "/identifiers", {"scheme": "0088", "value": "8712345678906"}),
    ("DELETE", "/identifiers/{participant}", None),
    ("POST", "/identifiers/{participant}/verify", None),
    ("POST", "/activation", {"method": "manual_review"}),
    ("PUT", "/receiving", {"enabled": True, "accept_costs": True}),
    ("POST", "/receive-prompt", {"choice": "later"}),
]


@pytest.mark.parametrize(("method", "sub", "body"), ROUTES_WITH_AN_ORGANISATION)
def test_another_tenants_organisation_is_not_found(
    admin: Account, other: Account, method: str, sub: str, body: dict[str, Any] | None
) -> None:
    organisation = admin.ok("POST", "/organisations", 201, body=_by_hand())
    participant = organisation["identifiers"][0]["participant_id"]
    path = f"/organisations/{organisation['id']}{sub.replace('{participant}', participant)}"
    response = other.call(method, path, body=body)
    assert response["statusCode"] == 404, response["body"]
    assert admin.ok("GET", f"/organisations/{organisation['id']}") == organisation  # untouched
    assert other.ok("GET", "/organisations") == []


# --- Concurrency and cost ----------------------------------------------------------------------
def test_twenty_parallel_creations_claiming_one_identifier_give_exactly_one(
    local_aws: Any, organisations_service: Any
) -> None:
    accounts = [make_account(local_aws) for _ in range(4)]
    oin = f"{uuid.uuid4().int % 10**20:020d}"
    from organisations_api.service import IdentifierInput

    users = UserRepository(organisations_service.organisations.table)

    def create(i: int) -> None:
        organisations_service.create_by_hand(
            users.get(accounts[i % 4].user_id),
            name=f"Racer {i}",
            country="NL",
            address=BY_HAND["address"],
            identifiers=[IdentifierInput("0190", oin)],
            contact=None,
        )

    outcomes = race(create)
    assert outcomes.count("created") == 1, outcomes
    assert set(outcomes) == {"created", "organisation_exists"}


def test_reading_an_organisation_takes_two_dynamodb_calls_and_listing_one_query(admin: Account) -> None:
    for _ in range(2):
        admin.ok("POST", "/organisations", 201, body=_by_hand())
    organisation = admin.ok("GET", "/organisations")[0]
    with count_aws_calls("dynamodb") as one:
        admin.ok("GET", f"/organisations/{organisation['id']}")
    assert one.count <= 2, one.calls
    with count_aws_calls("dynamodb") as listing:
        assert len(admin.ok("GET", "/organisations")) == 2
    assert listing.by_operation()["dynamodb.Query"] == 1 and "dynamodb.Scan" not in listing.by_operation()


def test_identifiers_are_locked_while_activation_is_reviewed(
    admin: Account, other: Account, operator: Account
) -> None:
    oin = f"{uuid.uuid4().int % 10**20:020d}"
    organisation = admin.ok(
        "POST", "/organisations", 201, body=_by_hand(identifiers=[{"scheme": "0190", "value": oin}])
    )
    path = f"/organisations/{organisation['id']}"
    admin.ok("POST", f"{path}/activation", 202, body={"method": "manual_review"})
    for method, sub, body in (
        ("DELETE", f"/identifiers/0190:{oin}", None),
        ("POST", "/identifiers", {"scheme": "0088", "value": "8712345678906"}),
    ):
        response = admin.call(method, path + sub, body=body)
        assert response["statusCode"] == 409, response["body"]
        assert body_of(response)["error"]["code"] == "activation_pending"
    # The claim stands: nobody else can take the identifier under review.
    taken = other.call(
        "POST", "/organisations", body=_by_hand(identifiers=[{"scheme": "0190", "value": oin}])
    )
    assert taken["statusCode"] == 409 and body_of(taken)["error"]["code"] == "organisation_exists"
    # The operator sees what they approve, and approves exactly that.
    [request] = [
        r
        for r in operator.ok("GET", "/admin/activation-requests")
        if r["organisation_id"] == organisation["id"]
    ]
    assert (request["country"], request["kvk_number"]) == ("NL", None)
    assert request["identifiers"] == [
        {
            "scheme": "0190",
            "value": oin,
            "participant_id": f"0190:{oin}",
            "primary": True,
            "verification": "unverified",
            "verification_source": None,
            "verified_at": None,
        }
    ]
    approved = operator.ok("POST", f"/admin/organisations/{organisation['id']}/activation/approve")
    assert [i["participant_id"] for i in approved["identifiers"]] == [f"0190:{oin}"]


def test_operators_see_how_an_identifier_was_verified(
    admin: Account, operator: Account, organisations_service: Any
) -> None:
    number = _free_kvk_number(organisations_service)
    organisation = admin.ok("POST", "/organisations", 201, body={"kvk_number": number})
    admin.ok("POST", f"/organisations/{organisation['id']}/activation", 202, body={"method": "manual_review"})
    [request] = [
        r
        for r in operator.ok("GET", "/admin/activation-requests")
        if r["organisation_id"] == organisation["id"]
    ]
    [identifier] = request["identifiers"]
    assert request["kvk_number"] == number
    assert (identifier["verification"], identifier["verification_source"]) == ("verified", "kvk")
    assert identifier["verified_at"]
    operator.ok("POST", f"/admin/organisations/{organisation['id']}/activation/reject", body={})
    # Rejected, it may change again; without its KvK identifier it shows no KvK number.
    admin.ok("DELETE", f"/organisations/{organisation['id']}/identifiers/0106:{number}", 204)
    assert admin.ok("GET", f"/organisations/{organisation['id']}")["kvk_number"] is None


def test_contact_emails_are_trimmed(admin: Account) -> None:
    organisation = admin.ok(
        "POST", "/organisations", 201, body=_by_hand(contact={"email": "  inkoop@example.nl "})
    )
    assert organisation["contact"]["email"] == "inkoop@example.nl"


def test_a_queue_outage_loses_no_registration_job(
    admin: Account, operator: Account, organisations_service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onboarding.adapters.queue import RegistrationQueue

    organisation = admin.ok("POST", "/organisations", 201, body=_by_hand())
    admin.ok("POST", f"/organisations/{organisation['id']}/activation", 202, body={"method": "manual_review"})
    monkeypatch.setattr(organisations_service, "queue", RegistrationQueue("http://127.0.0.1:9/no-such-queue"))
    approved = operator.ok("POST", f"/admin/organisations/{organisation['id']}/activation/approve")
    assert approved["status"] == "active" and approved["identifiers"][0]["peppol"]["send"] == "pending"
    stored = organisations_service.organisations.get(admin.environment_id, organisation["id"])
    job = organisations_service.jobs.get(stored.identifiers[0].job_id)
    assert job.status == "queued" and job.dispatched_at is None  # recorded, waiting to be sent


def test_name_and_address_are_locked_while_activation_is_reviewed(admin: Account) -> None:
    organisation = admin.ok("POST", "/organisations", 201, body=_by_hand())
    admin.ok("POST", f"/organisations/{organisation['id']}/activation", 202, body={"method": "manual_review"})
    response = admin.call("PATCH", f"/organisations/{organisation['id']}", body={"name": "Other name"})
    assert response["statusCode"] == 409 and body_of(response)["error"]["code"] == "activation_pending"
