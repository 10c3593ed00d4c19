"""The KvK and VIES clients against sandboxes that speak the real wire formats."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from infra.local.sandboxes import Sandboxes
from onboarding.adapters.kvk import KvkClient
from onboarding.adapters.vies import ViesClient
from onboarding.domain.errors import KvkUnavailable


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[Sandboxes]:
    running = Sandboxes().start()
    yield running
    running.stop()


@pytest.fixture
def kvk(sandboxes: Sandboxes) -> KvkClient:
    return KvkClient(f"{sandboxes.url}/kvk", lambda: "sandbox-key")


@pytest.fixture
def vies(sandboxes: Sandboxes) -> ViesClient:
    return ViesClient(f"{sandboxes.url}/vies")


def test_kvk_search_by_number_and_name(kvk: KvkClient) -> None:
    [donald] = kvk.search(kvk_number="68750110")
    assert (donald.name, donald.city, donald.type, donald.active) == (
        "Test BV Donald",
        "Lollum",
        "hoofdvestiging",
        True,
    )
    assert [r.kvk_number for r in kvk.search(name="Test Stichting Bolderbast")] == ["69599068"]


def test_kvk_no_results_ipd5200_is_an_empty_list(kvk: KvkClient) -> None:
    assert kvk.search(kvk_number="12345678") == []
    assert kvk.search(name="nothing like this exists") == []


def test_kvk_profile_maps_name_address_rsin_and_legal_form(kvk: KvkClient) -> None:
    profile = kvk.profile("68750110")
    assert profile is not None
    assert (profile.name, profile.rsin, profile.legal_form) == (
        "Test BV Donald",
        "857587973",
        "Besloten Vennootschap",
    )
    assert (profile.street, profile.postal_code, profile.city, profile.country) == (
        "Hizzaarderlaan 3",
        "8823SJ",
        "Lollum",
        "NL",
    )
    assert profile.active and kvk.profile("55505201").active is False  # type: ignore[union-attr]


def test_kvk_unknown_number_is_none(kvk: KvkClient) -> None:
    assert kvk.profile("12345678") is None


@pytest.mark.parametrize("number", ["90004973", "90002903"])
def test_kvk_errors_mean_unavailable(kvk: KvkClient, number: str) -> None:
    with pytest.raises(KvkUnavailable):
        kvk.profile(number)
    with pytest.raises(KvkUnavailable):
        kvk.search(kvk_number=number)


def test_kvk_refused_key_or_unreachable_means_unavailable(sandboxes: Sandboxes) -> None:
    with pytest.raises(KvkUnavailable):
        KvkClient(f"{sandboxes.url}/kvk", lambda: "").search(kvk_number="68750110")
    with pytest.raises(KvkUnavailable):
        KvkClient("http://127.0.0.1:9", lambda: "key", timeout=1).search(kvk_number="68750110")


@pytest.mark.parametrize(
    ("number", "outcome", "error"),
    [
        ("100", "valid", None),
        ("200", "invalid", None),
        ("201", "invalid", "INVALID_INPUT"),
        ("300", "inconclusive", "SERVICE_UNAVAILABLE"),
        ("301", "inconclusive", "MS_UNAVAILABLE"),
        ("302", "inconclusive", "TIMEOUT"),
        ("400", "inconclusive", "VAT_BLOCKED"),
        ("401", "inconclusive", "IP_BLOCKED"),
        ("500", "inconclusive", "GLOBAL_MAX_CONCURRENT_REQ"),
        ("501", "inconclusive", "GLOBAL_MAX_CONCURRENT_REQ_TIME"),
        ("600", "inconclusive", "MS_MAX_CONCURRENT_REQ"),
        ("601", "inconclusive", "MS_MAX_CONCURRENT_REQ_TIME"),
    ],
)
def test_vies_test_numbers(vies: ViesClient, number: str, outcome: str, error: str | None) -> None:
    result = vies.check("NL", number)
    assert (result.outcome, result.error) == (outcome, error)


def test_vies_registered_number_gives_name_and_address(vies: ViesClient) -> None:
    result = vies.check("NL", "000099998B57")
    assert result.outcome == "valid" and result.name == "TEST BV DONALD" and result.request_date


def test_vies_hidden_name_and_address_become_none(vies: ViesClient) -> None:
    result = vies.check("DE", "298946909")
    assert result.outcome == "valid" and result.name is None and result.address is None


def test_vies_unreachable_is_inconclusive() -> None:
    result = ViesClient("http://127.0.0.1:9", timeout=1).check("NL", "000099998B57")
    assert result.outcome == "inconclusive" and result.error


def _kvk(handler: Any) -> KvkClient:
    import httpx

    return KvkClient(
        "https://kvk.invalid", lambda: "key", client=httpx.Client(transport=httpx.MockTransport(handler))
    )


def test_kvk_answers_without_a_usable_shape_mean_unavailable() -> None:
    import httpx

    client = _kvk(lambda request: httpx.Response(200, json={"unexpected": True}))
    assert client.search(kvk_number="68750110") == []  # no results in it
    with pytest.raises(KvkUnavailable):
        client.profile("68750110")  # not even a name
    garbage = _kvk(lambda request: httpx.Response(200, content=b"<html>maintenance</html>"))
    with pytest.raises(KvkUnavailable):
        garbage.search(kvk_number="68750110")


# --- Issue 8, item 15: what the specifications mark optional is optional ----------------------------
def test_a_search_result_that_cannot_be_used_is_left_out_not_the_whole_list() -> None:
    import httpx

    usable = {"kvkNummer": "68750110", "naam": "Test BV Donald", "type": "hoofdvestiging"}
    answer = {
        "resultaten": [
            {"naam": "No number BV"},
            {"kvkNummer": "\uff16\uff18\uff17\uff15\uff10\uff11\uff11\uff10", "naam": "Look-alike BV"},
            {"kvkNummer": "69599068"},
            "not an object",
            usable,
        ]
    }
    client = _kvk(
        lambda request: httpx.Response(200, json=answer, headers={"Content-Type": "application/hal+json"})
    )
    [found] = client.search(name="BV")
    assert (found.kvk_number, found.name, found.city, found.active) == (
        "68750110",
        "Test BV Donald",
        None,
        True,
    )


@pytest.mark.parametrize("body", [{"fout": [{"code": "IPD0001", "omschrijving": "x"}]}, {}, None])
def test_a_zoeken_404_is_no_results_whatever_its_fout_code(body: dict[str, Any] | None) -> None:
    import httpx

    client = _kvk(lambda request: httpx.Response(404, json=body) if body is not None else httpx.Response(404))
    assert client.search(kvk_number="12345678") == []


def _strict_kvk(request: Any) -> Any:
    """A server that keeps to Basisprofiel's spec: its errors exist only as application/hal+json,
    so a client that accepts only application/json gets 406."""
    import httpx

    if "application/hal+json" not in request.headers.get("Accept", ""):
        return httpx.Response(406, json={"fout": [{"code": "IPD1999", "omschrijving": "Not acceptable"}]})
    if request.url.path.endswith("/12345678"):
        fault = {"fout": [{"code": "IPD0005", "omschrijving": "Niet leverbaar"}]}
        return httpx.Response(404, json=fault, headers={"Content-Type": "application/hal+json"})
    profile = {"naam": "Test Stichting Bolderbast", "_embedded": {"eigenaar": {"rechtsvorm": "Stichting"}}}
    return httpx.Response(200, json=profile, headers={"Content-Type": "application/hal+json"})


def test_basisprofiel_errors_in_hal_json_and_a_profile_without_kvk_nummer() -> None:
    client = _kvk(_strict_kvk)
    assert client.profile("12345678") is None
    profile = client.profile("69599068")
    assert profile is not None
    assert (profile.kvk_number, profile.name, profile.legal_form, profile.rsin) == (
        "69599068",
        "Test Stichting Bolderbast",
        "Stichting",
        None,
    )


def test_a_profile_of_another_number_is_not_taken() -> None:
    import httpx

    client = _kvk(lambda request: httpx.Response(200, json={"kvkNummer": "69599068", "naam": "Other"}))
    with pytest.raises(KvkUnavailable):
        client.profile("68750110")


def test_a_vies_answer_without_valid_is_inconclusive_and_says_why() -> None:
    import httpx

    answer = {"countryCode": "NL", "vatNumber": "000099998B57", "name": "TEST BV DONALD"}
    client = ViesClient(
        "https://vies.invalid",
        client=httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=answer))),
    )
    result = client.check("NL", "000099998B57")
    assert (result.outcome, result.error) == ("inconclusive", "answer without validity")


# --- Issue 8, item 16: every sandbox answer is what the official specifications describe -------------
SCHEMAS = Path(__file__).resolve().parents[2] / "infra/local/schemas"


@cache
def _kvk_spec(name: str) -> Any:
    import json

    from openapi_core import Config, OpenAPI

    # HAL is JSON: openapi-core is told so (it knows only application/json by name).
    config = Config(extra_media_type_deserializers={"application/hal+json": json.loads})
    return OpenAPI.from_file_path(str(SCHEMAS / f"kvk/{name}-openapi.yaml"), config=config)


def _kvk_requests() -> list[tuple[str, str]]:
    """(spec, sandbox path and query) for every kind of answer the KvK sandbox gives."""
    from infra.local.sandboxes import KVK_COMPANIES, KVK_FAILING

    requests = []
    for number in [*KVK_COMPANIES, *sorted(KVK_FAILING), "12345678", "1234"]:
        requests.append(("zoeken", f"/api/v2/zoeken?kvkNummer={number}&resultatenPerPagina=20"))
        requests.append(("basisprofiel", f"/api/v1/basisprofielen/{number}?geoData=false"))
    for name in ("Test", "Bolderbast", "nothing like this exists"):
        requests.append(("zoeken", f"/api/v2/zoeken?naam={name.replace(' ', '%20')}&resultatenPerPagina=20"))
    return requests


@pytest.mark.parametrize(("spec", "path"), _kvk_requests())
@pytest.mark.parametrize("with_key", [True, False])
def test_every_kvk_sandbox_answer_keeps_to_the_kvk_specification(
    sandboxes: Sandboxes, spec: str, path: str, with_key: bool
) -> None:
    import httpx
    from openapi_core.testing import MockRequest, MockResponse

    headers = {"apikey": "sandbox", "Accept": "application/hal+json"} if with_key else {}
    answer = httpx.get(f"{sandboxes.url}/kvk{path}", headers=headers, trust_env=False)
    openapi = _kvk_spec(spec)
    version = "v2" if spec == "zoeken" else "v1"
    route, _, query = path.partition("?")
    request = MockRequest(
        "https://api.kvk.nl",
        "GET",
        route.replace(f"/api/{version}", f"/test/api/{version}"),
        args=dict(pair.split("=", 1) for pair in query.split("&")) if query else None,
        headers=headers,
    )
    response = MockResponse(
        answer.content,
        status_code=answer.status_code,
        content_type=answer.headers["Content-Type"].split(";")[0],
    )
    openapi.validate_response(request, response)
    for link in answer.json().get("links", []) + [
        link for result in answer.json().get("resultaten", []) for link in result.get("links", [])
    ]:
        assert httpx.URL(link["href"]).is_absolute_url, link


@pytest.mark.parametrize(
    "number",
    [
        "100",
        "200",
        "201",
        "202",
        "300",
        "301",
        "302",
        "400",
        "401",
        "500",
        "501",
        "600",
        "601",
        "000099998B57",
        "",
    ],
)
def test_every_vies_sandbox_answer_keeps_to_the_vies_contract(sandboxes: Sandboxes, number: str) -> None:
    import httpx
    import yaml
    from openapi_schema_validator import OAS30Validator, validate

    contract = yaml.safe_load((SCHEMAS / "vies/swagger_publicVAT.yml").read_text())
    answer = httpx.post(
        f"{sandboxes.url}/vies/check-vat-number",
        json={"countryCode": "NL", "vatNumber": number},
        trust_env=False,
    )
    operation = contract["paths"]["/check-vat-number"]["post"]
    assert str(answer.status_code) in operation["responses"], answer.status_code
    assert answer.headers["Content-Type"].split(";")[0] in contract["produces"]
    schema = {
        **operation["responses"][str(answer.status_code)]["schema"],
        "definitions": contract["definitions"],
    }
    validate(answer.json(), schema, cls=OAS30Validator, format_checker=OAS30Validator.FORMAT_CHECKER)
