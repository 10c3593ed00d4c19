"""The KvK and VIES clients against sandboxes that speak the real wire formats."""

from __future__ import annotations

from collections.abc import Iterator

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


def test_kvk_answers_in_another_shape_mean_unavailable() -> None:
    import httpx

    def odd(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"resultaten": [{"naam": "no number"}], "unexpected": True})

    client = KvkClient(
        "https://kvk.invalid", lambda: "key", client=httpx.Client(transport=httpx.MockTransport(odd))
    )
    with pytest.raises(KvkUnavailable):
        client.search(kvk_number="68750110")
    with pytest.raises(KvkUnavailable):
        client.profile("68750110")
