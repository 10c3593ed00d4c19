"""The SMP client against the local phoss-smp sandbox, and the SML lookup through the real
dnspython resolver against the sandbox's DNS server. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.local.smp_sandbox import ELSEWHERE_SMP_URL, SmpSandbox
from onboarding.adapters.sml import DnsSmlLookup, SmlLookupFailed, smp_elsewhere
from onboarding.adapters.smp import (
    BasicAuth,
    BearerToken,
    RegisteredElsewhere,
    SmlWriteFailed,
    SmpAuthRejected,
    SmpClient,
    SmpRejected,
    SmpUnavailable,
)
from onboarding.domain.peppol import (
    AccessPointEndpoint,
    BusinessEntity,
    BusinessIdentifier,
    default_document_types,
    document_type,
)

PARTICIPANT = "0106:68750110"
SERVICE_GROUP = "iso6523-actorid-upis::0106:68750110"
ENDPOINT = AccessPointEndpoint(
    url="https://ap.example.org/as4",
    certificate=base64.b64encode(b"not a real certificate, but base64").decode(),
    service_description="Example access point",
    technical_contact_url="mailto:peppol@example.org",
)
ENTITY = BusinessEntity(
    name="Test BV Donald",
    language="nl",
    country_code="NL",
    identifiers=(BusinessIdentifier(scheme="KVK", value="68750110"),),
)


@pytest.fixture
def _aws() -> None:
    """These tests need no AWS emulator: override the package's autouse fixture."""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SmpSandbox]:
    running = SmpSandbox().start()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _fresh(sandbox: SmpSandbox) -> None:
    sandbox.reset()


@pytest.fixture
def smp(sandbox: SmpSandbox) -> Iterator[SmpClient]:
    with SmpClient(
        sandbox.url, BasicAuth("sandbox", "sandbox-password"), timeout=2, connect_timeout=1
    ) as client:
        yield client


@pytest.fixture
def sml(sandbox: SmpSandbox) -> DnsSmlLookup:
    return DnsSmlLookup(
        sandbox.sml.zone, nameservers=["127.0.0.1"], port=sandbox.dns_port, timeout=0.5, lifetime=1
    )


def register(smp: SmpClient, participant: str = PARTICIPANT) -> None:
    smp.put_service_group(participant)
    for document in default_document_types():
        smp.put_service_metadata(participant, document, ENDPOINT)
    smp.put_business_card(participant, ENTITY)


# --- every call --------------------------------------------------------------------------------


def test_a_full_registration_lands_in_the_smp_and_the_sml(
    smp: SmpClient, sandbox: SmpSandbox, sml: DnsSmlLookup
) -> None:
    assert smp.service_group(PARTICIPANT) is None and not smp.has_service_group(PARTICIPANT)
    register(smp)
    state = sandbox.state()
    expected = sorted(d.url_id for d in default_document_types())
    assert state["service_groups"] == [SERVICE_GROUP]
    assert state["service_metadata"] == {SERVICE_GROUP: expected}
    assert state["business_cards"] == [SERVICE_GROUP]
    assert sorted(smp.service_group(PARTICIPANT) or []) == expected
    assert sml.lookup(PARTICIPANT) == sandbox.url


def test_deletes_report_whether_there_was_something_to_delete(
    smp: SmpClient, sandbox: SmpSandbox, sml: DnsSmlLookup
) -> None:
    register(smp)
    invoice = document_type("bis-billing-invoice")
    assert smp.delete_service_metadata(PARTICIPANT, invoice) is True
    assert smp.delete_service_metadata(PARTICIPANT, invoice) is False
    assert smp.delete_business_card(PARTICIPANT) is True
    assert smp.delete_business_card(PARTICIPANT) is False
    assert smp.delete_service_group(PARTICIPANT) is True
    assert smp.delete_service_group(PARTICIPANT) is False
    assert sandbox.state()["service_groups"] == []
    assert sml.lookup(PARTICIPANT) is None  # deleting deregistered it in the SML


def test_delete_without_sml_keeps_the_sml_record(
    smp: SmpClient, sml: DnsSmlLookup, sandbox: SmpSandbox
) -> None:
    smp.put_service_group(PARTICIPANT)
    assert smp.delete_service_group(PARTICIPANT, delete_in_sml=False) is True
    assert sml.lookup(PARTICIPANT) == sandbox.url
    smp.put_service_group(PARTICIPANT, create_in_sml=False)  # the repair path after a partial migration
    assert smp.has_service_group(PARTICIPANT)


def test_putting_everything_twice_is_fine(smp: SmpClient, sandbox: SmpSandbox) -> None:
    register(smp)
    before = sandbox.state()
    register(smp)
    after = sandbox.state()
    for part in ("service_groups", "service_metadata", "business_cards", "sml"):
        assert after[part] == before[part]


def test_percent_encoded_ids_reach_the_smp_intact(smp: SmpClient, sandbox: SmpSandbox) -> None:
    nlcius = document_type("nlcius-credit-note")
    smp.put_service_group("9944:NL000099998B57")
    smp.put_service_metadata("9944:NL000099998B57", nlcius, ENDPOINT)
    paths = [r["path"] for r in sandbox.state()["requests"]]
    assert paths == [
        "/iso6523-actorid-upis%3A%3A9944%3ANL000099998B57",
        f"/iso6523-actorid-upis%3A%3A9944%3ANL000099998B57/services/{nlcius.path}",
    ]
    assert "%23%23" in paths[1] and "#" not in paths[1]
    assert sandbox.state()["service_metadata"] == {
        "iso6523-actorid-upis::9944:NL000099998B57": [nlcius.url_id]
    }


def test_service_metadata_needs_the_service_group(smp: SmpClient) -> None:
    with pytest.raises(SmpRejected) as refused:
        smp.put_service_metadata(PARTICIPANT, document_type("mlr"), ENDPOINT)
    assert refused.value.status == 404 and "not registered on this SMP" in refused.value.reason


# --- authentication ----------------------------------------------------------------------------


def test_a_bearer_token_works_too(sandbox: SmpSandbox) -> None:
    with SmpClient(sandbox.url, lambda: BearerToken("sandbox-token")) as client:
        client.put_service_group(PARTICIPANT)
        assert client.has_service_group(PARTICIPANT)


@pytest.mark.parametrize(
    "auth",
    [BasicAuth("sandbox", "wrong-password"), BasicAuth("someone", "sandbox-password"), BearerToken("nope")],
)
def test_refused_credentials_are_a_permanent_auth_error(sandbox: SmpSandbox, auth: Any) -> None:
    with SmpClient(sandbox.url, auth) as client, pytest.raises(SmpAuthRejected) as refused:
        client.put_service_group(PARTICIPANT)
    assert refused.value.status == 403
    assert "wrong-password" not in str(refused.value)
    assert "wrong-password" not in repr(auth)  # secrets stay out of reprs and logs
    assert sandbox.state()["service_groups"] == []


def test_writes_without_authorization_are_refused_reads_are_public(
    sandbox: SmpSandbox, smp: SmpClient
) -> None:
    smp.put_service_group(PARTICIPANT)
    url = f"{sandbox.url}/iso6523-actorid-upis%3A%3A0106%3A68750110"
    assert httpx.delete(url).status_code == 403
    assert httpx.get(url).status_code == 200


# --- registered elsewhere ----------------------------------------------------------------------


@pytest.mark.parametrize("participant", ["0106:69599076", "0106:elsewhere-1", "9944:NLELSEWHERE01"])
def test_a_participant_of_another_smp_is_registered_elsewhere(
    smp: SmpClient, sml: DnsSmlLookup, participant: str
) -> None:
    with pytest.raises(RegisteredElsewhere) as elsewhere:
        smp.put_service_group(participant)
    assert elsewhere.value.participant_id == participant
    assert sml.lookup(participant) == ELSEWHERE_SMP_URL


def test_without_debug_details_the_sml_tells_who_holds_it(
    sandbox: SmpSandbox, smp: SmpClient, sml: DnsSmlLookup
) -> None:
    sandbox.sml_error_details = False  # phoss in production mode: a bare "Failed to create ... in SML"
    try:
        with pytest.raises(SmlWriteFailed) as failed:
            smp.put_service_group("0106:69599076")
    finally:
        sandbox.sml_error_details = True
    assert failed.value.status == 500 and failed.value.operation == "put service group"
    assert isinstance(failed.value, SmpUnavailable)
    assert smp_elsewhere(sml, "0106:69599076", [sandbox.url]) == ELSEWHERE_SMP_URL
    smp.put_service_group(PARTICIPANT)
    assert smp_elsewhere(sml, PARTICIPANT, [sandbox.url + "/"]) is None  # ours
    assert smp_elsewhere(sml, "0106:12345678", [sandbox.url]) is None  # nobody's


def test_registered_elsewhere_via_the_control_endpoint(sandbox: SmpSandbox, smp: SmpClient) -> None:
    answer = httpx.post(
        f"{sandbox.url}/_sandbox/elsewhere",
        json={"participant_id": PARTICIPANT, "smp_url": "https://smp.other.example"},
    )
    assert answer.status_code == 200
    with pytest.raises(RegisteredElsewhere):
        smp.put_service_group(PARTICIPANT)


# --- transient and permanent failures ---------------------------------------------------------


@pytest.mark.parametrize("status", [503, 500, 429])
def test_5xx_and_429_are_transient(sandbox: SmpSandbox, smp: SmpClient, status: int) -> None:
    answer = httpx.post(f"{sandbox.url}/_sandbox/faults", json={"fail_next": 1, "status": status})
    assert answer.json()["fail_next"] == 1
    with pytest.raises(SmpUnavailable) as failed:
        smp.put_service_group(PARTICIPANT)
    assert not isinstance(failed.value, SmlWriteFailed)
    assert failed.value.status == status
    smp.put_service_group(PARTICIPANT)  # the next call goes through
    assert sandbox.state()["service_groups"] == [SERVICE_GROUP]


@pytest.mark.parametrize("status", [400, 404, 409, 412])
def test_other_4xx_are_permanent(sandbox: SmpSandbox, smp: SmpClient, status: int) -> None:
    sandbox.faults(fail_next=1, status=status)
    with pytest.raises(SmpRejected) as refused:
        smp.put_service_group(PARTICIPANT)
    assert refused.value.status == status and "sandbox-password" not in refused.value.reason


def test_a_hanging_smp_times_out_quickly(sandbox: SmpSandbox) -> None:
    sandbox.faults(timeout_next=1, hang=1.5)
    started = time.monotonic()
    with SmpClient(sandbox.url, BasicAuth("sandbox", "sandbox-password"), timeout=0.2) as client:
        with pytest.raises(SmpUnavailable, match="timeout"):
            client.put_service_group(PARTICIPANT)
        assert time.monotonic() - started < 1.0
        client.put_service_group(PARTICIPANT)  # a fresh connection works


def test_a_slow_smp_is_slow_but_answers(sandbox: SmpSandbox, smp: SmpClient) -> None:
    sandbox.faults(delay=0.3)
    started = time.monotonic()
    smp.put_service_group(PARTICIPANT)
    assert time.monotonic() - started >= 0.3


def test_an_unreachable_smp_is_transient() -> None:
    client = SmpClient("http://127.0.0.1:9", BasicAuth("a", "b"), timeout=0.5, connect_timeout=0.5)
    with client, pytest.raises(SmpUnavailable, match="connection"):
        client.put_service_group(PARTICIPANT)


# --- migration ---------------------------------------------------------------------------------


@pytest.fixture
def second_smp(sandbox: SmpSandbox) -> Iterator[SmpSandbox]:
    """Another SMP on the same SML: where a participant moves to (or comes from)."""
    other = SmpSandbox(sml=sandbox.sml).start()
    yield other
    other.stop()


def test_migration_key_round_trip_between_two_smps(
    sandbox: SmpSandbox, smp: SmpClient, second_smp: SmpSandbox, sml: DnsSmlLookup
) -> None:
    register(smp)
    outbound = smp.start_outbound_migration(PARTICIPANT)
    assert outbound.participant_id == PARTICIPANT and outbound.expires_at is None
    assert outbound.migration_key not in repr(outbound)
    # Asking again while one is in progress (phoss: 400 "already in progress") replaces the key.
    replaced = smp.start_outbound_migration(PARTICIPANT)
    assert replaced.migration_key != outbound.migration_key
    assert [m["state"] for m in sandbox.state()["migrations"]] == ["cancelled", "in_progress"]

    with SmpClient(second_smp.url, BasicAuth("sandbox", "sandbox-password")) as new_smp:
        with pytest.raises(SmlWriteFailed):  # the first key is void now
            new_smp.migrate_inbound(PARTICIPANT, outbound.migration_key)
        inbound = new_smp.migrate_inbound(PARTICIPANT, replaced.migration_key)
        assert inbound.complete and inbound.service_group_created and not inbound.already_here
        assert sml.lookup(PARTICIPANT) == second_smp.url
        assert smp_elsewhere(sml, PARTICIPANT, [sandbox.url]) == second_smp.url
        again = new_smp.migrate_inbound(PARTICIPANT, replaced.migration_key)
        assert again.already_here and again.complete

    assert smp.finalize_outbound_migration(PARTICIPANT) is True
    assert smp.service_group(PARTICIPANT) is None
    assert smp.finalize_outbound_migration(PARTICIPANT) is False
    assert sml.lookup(PARTICIPANT) == second_smp.url  # finalizing did not touch the SML


def test_cancelling_an_outbound_migration(smp: SmpClient, sandbox: SmpSandbox) -> None:
    smp.put_service_group(PARTICIPANT)
    assert smp.cancel_outbound_migration(PARTICIPANT) is False
    smp.start_outbound_migration(PARTICIPANT)
    assert smp.cancel_outbound_migration(PARTICIPANT) is True
    assert [m["state"] for m in sandbox.state()["migrations"]] == ["cancelled"]
    assert smp.start_outbound_migration(PARTICIPANT).migration_key  # a new one may start


def test_outbound_migration_of_an_unknown_participant_is_refused(smp: SmpClient) -> None:
    with pytest.raises(SmpRejected) as refused:
        smp.start_outbound_migration(PARTICIPANT)
    assert refused.value.status == 400 and "does not exist" in refused.value.reason


def test_moving_here_with_a_key_full_of_special_characters(
    sandbox: SmpSandbox, smp: SmpClient, sml: DnsSmlLookup
) -> None:
    key = "Ab1#%[]Cd2{}|^+=~!"
    prepared = httpx.post(
        f"{sandbox.url}/_sandbox/prepare-migration",
        json={"participant_id": "0106:69599076", "migration_key": key},
    )
    assert prepared.json()["migration_key"] == key
    assert smp.migrate_inbound("0106:69599076", key).complete
    assert sml.lookup("0106:69599076") == sandbox.url


def test_a_wrong_migration_key_fails_at_the_sml(sandbox: SmpSandbox, smp: SmpClient) -> None:
    sandbox.sml.prepare_elsewhere("0106:69599076", "Right1#Key2$")
    with pytest.raises(SmlWriteFailed) as failed:
        smp.migrate_inbound("0106:69599076", "Wrong1#Key2$")
    assert failed.value.operation == "inbound migration"
    assert not smp.has_service_group("0106:69599076")


# --- the SML lookup through DNS ----------------------------------------------------------------


def test_nxdomain_means_not_registered(sml: DnsSmlLookup) -> None:
    assert sml.lookup("0106:00000001") is None


def test_servfail_is_a_failed_lookup_not_an_answer(sandbox: SmpSandbox, sml: DnsSmlLookup) -> None:
    sandbox.sml.servfail.add("0106:69599076")
    with pytest.raises(SmlLookupFailed, match="SERVFAIL"):
        sml.lookup("0106:69599076")


def test_a_silent_nameserver_fails_quickly(sandbox: SmpSandbox) -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))  # bound but never read: queries go unanswered
    try:
        lookup = DnsSmlLookup(
            sandbox.sml.zone,
            nameservers=["127.0.0.1"],
            port=silent.getsockname()[1],
            timeout=0.2,
            lifetime=0.4,
        )
        started = time.monotonic()
        with pytest.raises(SmlLookupFailed, match="timeout"):
            lookup.lookup(PARTICIPANT)
        assert time.monotonic() - started < 1.5
    finally:
        silent.close()


def test_a_closed_nameserver_port_fails_quickly(sandbox: SmpSandbox) -> None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there any more
    lookup = DnsSmlLookup(sandbox.sml.zone, nameservers=["127.0.0.1"], port=port, timeout=0.2, lifetime=0.4)
    started = time.monotonic()
    with pytest.raises(SmlLookupFailed):
        lookup.lookup(PARTICIPANT)
    assert time.monotonic() - started < 1.5
