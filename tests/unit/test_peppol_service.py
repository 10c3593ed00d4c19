"""The peppol routes' rules over fakes: participants, asking for registrations, jobs, migration
keys both ways and operators' retries. Checks answer in the contract's order: 422, 404, 403,
409, 402."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from onboarding.domain import errors
from onboarding.domain.organisations import PeppolState
from onboarding.domain.registration import JobStatus
from tests.support.services import SETTINGS, World

KVK = "0106:68750110"
VAT = "9944:NL000099998B57"


@pytest.fixture
def service(world: World) -> Any:
    return world.peppol_service()


@pytest.fixture
def active(world: World, admin: Any) -> Any:
    organisation = world.active_organisation(admin, ("0106", "68750110"), ("9944", "NL000099998B57"))
    world.work()
    return organisation


def test_participants_show_each_identifiers_peppol_state(
    world: World, service: Any, admin: Any, active: Any
) -> None:
    organisation = service.participants(admin, active.id)
    kvk, vat = organisation.identifiers
    assert (kvk.participant_id, kvk.send, kvk.receive, kvk.directory) == (
        KVK,
        PeppolState.REGISTERED,
        PeppolState.NOT_REGISTERED,
        PeppolState.REGISTERED,
    )
    assert (vat.send, vat.job_id) == (PeppolState.NOT_REGISTERED, None)
    stranger = world.user()
    with pytest.raises(errors.OrganisationNotFound):
        service.participants(stranger, active.id)


def test_asking_to_send_gives_a_job_and_asking_the_same_again_gives_that_job(
    world: World, service: Any, admin: Any, active: Any
) -> None:
    job = service.request(admin, active.id, VAT.lower(), send=True, receive=False, document_types=None)
    assert job.status is JobStatus.QUEUED and job.participant_id == VAT
    assert world.organisation(active.id).find(VAT).send is PeppolState.PENDING
    again = service.request(admin, active.id, VAT, send=True, receive=False, document_types=None)
    assert again.id == job.id and len(world.queue.messages) == 1
    [done] = world.work()
    assert done.status is JobStatus.SUCCEEDED
    assert service.request(admin, active.id, VAT, send=True, receive=False, document_types=None).id == job.id


def test_asking_again_after_a_failure_starts_a_new_job(
    world: World, service: Any, admin: Any, active: Any
) -> None:
    failed = service.request(admin, active.id, VAT, send=True, receive=False, document_types=None)
    world.smp.fail_next = [errors.SmpRejected("get service group: HTTP 400 Bad request", 400)]
    world.work()
    assert world.jobs.get(failed.id).status is JobStatus.FAILED  # type: ignore[union-attr]
    fresh = service.request(admin, active.id, VAT, send=True, receive=False, document_types=None)
    assert fresh.id != failed.id


def test_the_checks_answer_in_the_contracts_order(
    world: World, service: Any, admin: Any, active: Any
) -> None:
    def ask(user: Any = admin, organisation_id: str = active.id, participant: str = VAT, **body: Any) -> Any:
        given = {"send": True, "receive": False, "document_types": None, **body}
        return service.request(user, organisation_id, participant, **given)

    with pytest.raises(errors.InvalidInput) as unknown:
        ask(receive=True, document_types=["bis-billing-invoice", "no-such-type"], organisation_id="nope")
    assert unknown.value.details[0]["field"] == "body.document_types.1"
    with pytest.raises(errors.InvalidInput):
        ask(receive=False, document_types=["mlr"])  # document types are for receiving
    with pytest.raises(errors.OrganisationNotFound):
        ask(organisation_id="nope")
    with pytest.raises(errors.IdentifierNotFound):
        ask(participant="0106:12345678")
    member = world.user("member", admin.environment_id)
    with pytest.raises(errors.Forbidden):
        ask(user=member)
    with pytest.raises(errors.ReceivingNotEnabled):
        ask(receive=True)


def test_receiving_needs_receiving_enabled_then_credit(world: World, service: Any, admin: Any) -> None:
    organisation = world.active_organisation(admin, receiving=True)
    world.work()
    environment = world.memory.environments[admin.environment_id]
    world.memory.environments[admin.environment_id] = environment.model_copy(
        update={"credit_balance_cents": 0}
    )
    with pytest.raises(errors.InsufficientCredit):
        service.request(admin, organisation.id, KVK, send=True, receive=True, document_types=["mlr"])
    world.memory.environments[admin.environment_id] = environment
    job = service.request(
        admin, organisation.id, KVK, send=True, receive=True, document_types=["nlcius-invoice"]
    )
    assert job.target.document_types == ("nlcius-invoice",)


def test_receive_without_document_types_keeps_what_it_receives_or_takes_the_default(
    world: World, service: Any, admin: Any
) -> None:
    organisation = world.active_organisation(
        admin, ("0106", "68750110"), ("9944", "NL000099998B57"), receiving=True
    )
    job = service.request(admin, organisation.id, VAT, send=False, receive=True, document_types=None)
    assert job.target.document_types == ("bis-billing-invoice", "bis-billing-credit-note")
    assert (job.target.send, job.target.directory) == (False, True)
    service.request(admin, organisation.id, VAT, send=False, receive=True, document_types=["mlr", "mlr"])
    kept = service.request(admin, organisation.id, VAT, send=True, receive=True, document_types=None)
    assert kept.target.document_types == ("mlr",)


def test_a_draft_organisation_cannot_be_registered(world: World, service: Any, admin: Any) -> None:
    from organisations_api.service import IdentifierInput

    draft = world.organisation_service().create_by_hand(
        admin,
        name="Concept BV",
        country="NL",
        address={"street": "Hoofdstraat 1", "postal_code": "1234AB", "city": "Utrecht"},
        identifiers=[IdentifierInput("0106", "68750110")],
        contact=None,
    )
    with pytest.raises(errors.OrganisationNotActive):
        service.request(admin, draft.id, KVK, send=True, receive=False, document_types=None)


def test_a_job_is_read_by_its_own_tenant_only(world: World, service: Any, admin: Any, active: Any) -> None:
    job_id = world.organisation(active.id).find(KVK).job_id
    member = world.user("member", admin.environment_id)
    assert service.job(member, job_id).status is JobStatus.SUCCEEDED
    with pytest.raises(errors.JobNotFound):
        service.job(world.user(), job_id)
    with pytest.raises(errors.JobNotFound):
        service.job(admin, "no-such-job")


def test_a_migration_key_for_moving_away_needs_a_registration_here(
    world: World, service: Any, admin: Any, active: Any
) -> None:
    issued = service.migration_key(admin, active.id, KVK)
    assert issued.migration_key == world.smp.outbound["0106:68750110"]
    assert issued.expires_at == world.clock.moment + timedelta(days=SETTINGS.peppol.migration_key_days)
    with pytest.raises(errors.NotRegisteredHere):
        service.migration_key(admin, active.id, VAT)
    with pytest.raises(errors.Forbidden):
        service.migration_key(world.user("member", admin.environment_id), active.id, KVK)


def test_the_smp_being_down_for_a_migration_key_is_503(
    world: World, service: Any, admin: Any, active: Any
) -> None:
    world.smp.fail_next = [errors.SmpUnavailable("timeout (ConnectTimeout)")]
    with pytest.raises(errors.SmpServiceUnavailable):
        service.migration_key(admin, active.id, KVK)
    world.smp.fail_next = [errors.SmpRejected("start outbound migration: HTTP 404 Not found", 404)]
    with pytest.raises(errors.NotRegisteredHere):
        service.migration_key(admin, active.id, KVK)


def test_moving_here_needs_a_key_by_the_sml_rules_and_a_participant_not_here_yet(
    world: World, service: Any, admin: Any, active: Any
) -> None:
    for bad in ("short", "no-specials-Here12", "two words!!AB12cd"):
        with pytest.raises(errors.InvalidInput) as refused:
            service.migrate(admin, "nope", VAT, bad)
        assert refused.value.code == "invalid_migration_key"
    with pytest.raises(errors.OrganisationNotFound):
        service.migrate(admin, "nope", VAT, "ab12CD!#ef")
    with pytest.raises(errors.AlreadyRegisteredHere):
        service.migrate(admin, active.id, KVK, "ab12CD!#ef")
    job = service.migrate(admin, active.id, VAT, "ab12CD!#ef")
    assert job.migration_key == "ab12CD!#ef" and job.target.send


def test_an_operator_retries_a_failed_job_which_then_succeeds(world: World, service: Any, admin: Any) -> None:
    organisation = world.active_organisation(admin)
    [message] = world.queue.take()
    world.smp.fail_next = [errors.SmpRejected("get service group: HTTP 400", 400)]
    failed = world.registrar().carry_out(message, 1)
    assert failed.status is JobStatus.FAILED
    retried = service.retry("operator-7", failed.id)
    assert retried.status is JobStatus.QUEUED and retried.error is None
    assert world.organisation(organisation.id).find(KVK).send is PeppolState.PENDING
    [again] = world.queue.take()
    assert again.job_id == failed.id and again.deduplication_id != message.deduplication_id
    done = world.registrar().carry_out(again, 1)
    assert done.status is JobStatus.SUCCEEDED
    assert [e.status for e in done.history] == [
        "queued",
        "running",
        "failed",
        "queued",
        "running",
        "succeeded",
    ]
    with pytest.raises(errors.JobNotFailed):
        service.retry("operator-7", failed.id)
    with pytest.raises(errors.JobNotFound):
        service.retry("operator-7", "no-such-job")


def test_a_superseded_job_is_not_retried(world: World, service: Any, admin: Any) -> None:
    organisation = world.active_organisation(admin, receiving=True)
    first, _ = world.work()
    assert first.error.code == "superseded"
    with pytest.raises(errors.JobSuperseded):
        service.retry("operator-7", first.id)
    assert world.organisation(organisation.id).find(KVK).receive is PeppolState.REGISTERED
