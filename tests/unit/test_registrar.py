"""The Peppol worker's logic over fakes of the SMP and the SML: what a job does at the SMP,
and how each delivery of its message moves it through the state machine."""

from __future__ import annotations

from typing import Any

import pytest

from onboarding.domain import errors
from onboarding.domain.organisations import PeppolState
from onboarding.domain.peppol import document_type
from onboarding.domain.registration import JobStatus, RegistrationMessage
from peppol_api.registrar import RetryLater
from tests.support.services import SETTINGS, World

KVK = "0106:68750110"
INVOICE, CREDIT_NOTE = document_type("bis-billing-invoice"), document_type("bis-billing-credit-note")


def _peppol(world: World) -> Any:
    return world.peppol_service()


def _participant(world: World, organisation_id: str, participant_id: str = KVK) -> Any:
    return world.organisation(organisation_id).find(participant_id)


def test_approval_registers_the_primary_identifier_for_sending_with_a_business_card(
    world: World, admin: Any
) -> None:
    organisation = world.active_organisation(admin)
    [job] = world.work()
    assert job.status is JobStatus.SUCCEEDED and job.attempts == 1
    participant = _participant(world, organisation.id)
    assert (participant.send, participant.receive, participant.directory) == (
        PeppolState.REGISTERED,
        PeppolState.NOT_REGISTERED,
        PeppolState.REGISTERED,
    )
    group = world.smp.groups["0106:68750110"]
    assert group.documents == {} and group.card is not None
    assert (group.card.name, group.card.country_code, group.card.identifiers[0].scheme) == (
        "Handwerk BV",
        "NL",
        "NL:KVK",
    )
    assert world.smp.sml["0106:68750110"] == world.smp.base_url
    assert world.sml.asked == [KVK]  # looked up before the service group was created


def test_receiving_registers_the_default_document_types_and_off_removes_them(
    world: World, admin: Any
) -> None:
    organisation = world.active_organisation(admin, receiving=True)
    world.work()  # the approval's job is superseded by receiving's, which carries everything
    participant = _participant(world, organisation.id)
    assert participant.receive is PeppolState.REGISTERED
    assert participant.document_types == ("bis-billing-invoice", "bis-billing-credit-note")
    group = world.smp.groups["0106:68750110"]
    assert set(group.documents) == {INVOICE.url_id, CREDIT_NOTE.url_id}
    assert group.endpoints[INVOICE.url_id].url == "https://ap.example/as4"
    world.organisation_service().set_receiving(admin, organisation.id, enabled=False, accept_costs=False)
    world.work()
    assert _participant(world, organisation.id).receive is PeppolState.NOT_REGISTERED
    assert group.documents == {} and "0106:68750110" in world.smp.groups  # still registered for sending


def test_other_document_types_replace_the_registered_ones(world: World, admin: Any) -> None:
    organisation = world.active_organisation(admin, receiving=True)
    world.work()
    _peppol(world).request(admin, organisation.id, KVK, send=True, receive=True, document_types=["mlr"])
    world.work()
    assert set(world.smp.groups["0106:68750110"].documents) == {document_type("mlr").url_id}
    assert _participant(world, organisation.id).document_types == ("mlr",)


def test_deregistering_removes_card_and_service_group_from_smp_and_sml(world: World, admin: Any) -> None:
    organisation = world.active_organisation(admin)
    world.work()
    _peppol(world).request(admin, organisation.id, KVK, send=False, receive=False, document_types=None)
    assert _participant(world, organisation.id).send is PeppolState.DEREGISTERING
    world.work()
    participant = _participant(world, organisation.id)
    assert (participant.send, participant.directory) == (PeppolState.NOT_REGISTERED,) * 2
    assert "0106:68750110" not in world.smp.groups and "0106:68750110" not in world.smp.sml


def test_a_message_delivered_twice_registers_once(world: World, admin: Any) -> None:
    world.active_organisation(admin)
    [message] = world.queue.take()
    registrar = world.registrar()
    first = registrar.carry_out(message, 1)
    calls = len(world.smp.calls)
    second = registrar.carry_out(message, 2)
    assert first.status is JobStatus.SUCCEEDED and second == first
    assert len(world.smp.calls) == calls  # nothing asked of the SMP again


def test_a_message_without_a_job_changes_nothing(world: World, admin: Any) -> None:
    organisation = world.active_organisation(admin)
    [real] = world.queue.take()
    stray = real.model_copy(update={"job_id": "no-such-job"})
    assert world.registrar().carry_out(stray, 1) is None
    lying = real.model_copy(update={"organisation_id": "another-organisation"})
    assert world.registrar().carry_out(lying, 1) is None
    assert world.smp.calls == [] and world.jobs.get(real.job_id).status is JobStatus.QUEUED  # type: ignore[union-attr]
    assert world.organisation(organisation.id).version == organisation.version


def test_an_older_job_that_comes_later_is_superseded_and_the_last_request_wins(
    world: World, admin: Any
) -> None:
    organisation = world.active_organisation(admin, receiving=True)
    service = world.organisation_service()
    service.set_receiving(admin, organisation.id, enabled=False, accept_costs=False)
    service.set_receiving(admin, organisation.id, enabled=True, accept_costs=True)
    messages = world.queue.take()
    registrar = world.registrar()
    outcomes = [registrar.carry_out(m, 1) for m in reversed(messages)]  # newest first: the worst order
    assert [o.status for o in outcomes] == [JobStatus.SUCCEEDED] + [JobStatus.FAILED] * 3
    assert {o.error.code for o in outcomes[1:]} == {"superseded"}
    participant = _participant(world, organisation.id)
    assert participant.receive is PeppolState.REGISTERED and participant.last_error is None
    assert set(world.smp.groups["0106:68750110"].documents) == {INVOICE.url_id, CREDIT_NOTE.url_id}


def test_timeouts_are_retried_by_the_queue_until_the_job_succeeds(world: World, admin: Any) -> None:
    organisation = world.active_organisation(admin)
    [message] = world.queue.take()
    registrar = world.registrar()
    world.smp.fail_next = [
        errors.SmpUnavailable("timeout (ReadTimeout)"),
        errors.SmpUnavailable("HTTP 503", 503),
    ]
    for delivery in (1, 2):
        with pytest.raises(RetryLater):
            registrar.carry_out(message, delivery)
        job = world.jobs.get(message.job_id)
        assert job is not None and job.status is JobStatus.QUEUED and job.error is None
        assert _participant(world, organisation.id).send is PeppolState.PENDING
    done = registrar.carry_out(message, 3)
    assert done.status is JobStatus.SUCCEEDED and done.attempts == 3
    notes = [e.note for e in done.history if e.note and "failed" in e.note]
    assert notes == [
        "attempt 1 failed: timeout (ReadTimeout); will retry",
        "attempt 2 failed: HTTP 503; will retry",
    ]


def test_the_last_delivery_fails_the_job_with_the_reason_and_still_goes_to_the_dead_letter_queue(
    world: World, admin: Any
) -> None:
    organisation = world.active_organisation(admin)
    [message] = world.queue.take()
    world.smp.fail_next = [errors.SmpUnavailable("HTTP 502", 502)] * 5
    registrar = world.registrar()
    for delivery in range(1, SETTINGS.peppol.max_receive_count + 1):
        with pytest.raises(RetryLater):
            registrar.carry_out(message, delivery)
    job = world.jobs.get(message.job_id)
    assert job is not None and job.status is JobStatus.FAILED and job.attempts == 5
    assert job.error is not None and job.error.code == "smp_unavailable" and "HTTP 502" in job.error.message
    participant = _participant(world, organisation.id)
    assert participant.send is PeppolState.FAILED and participant.last_error == job.error
    assert message.job_id not in world.memory.outbox  # final: out of the outbox


def test_a_dns_failure_is_passing_too(world: World, admin: Any) -> None:
    world.active_organisation(admin)
    [message] = world.queue.take()
    world.sml.failing = True
    with pytest.raises(RetryLater, match="DNS timeout"):
        world.registrar().carry_out(message, 1)
    assert world.smp.groups == {}


def test_registered_elsewhere_fails_at_once_and_explains_the_migration_key(world: World, admin: Any) -> None:
    world.smp.register_elsewhere(KVK)
    organisation = world.active_organisation(admin)
    [job] = world.work()
    assert job.status is JobStatus.FAILED and job.attempts == 1
    assert job.error.code == "registered_elsewhere" and "migration key" in job.error.message
    assert world.smp.ELSEWHERE in job.error.message
    participant = _participant(world, organisation.id)
    assert participant.send is PeppolState.FAILED and participant.last_error.code == "registered_elsewhere"
    assert ("put service group", KVK) not in world.smp.calls  # never asked the SMP to take it


def test_registered_elsewhere_is_found_when_the_sml_refuses_the_smp(world: World, admin: Any) -> None:
    world.active_organisation(admin)
    [message] = world.queue.take()
    original = world.smp.put_service_group

    def put_service_group(participant_id: str, *, create_in_sml: bool = True) -> None:
        world.smp.register_elsewhere(KVK)  # between our lookup and the SMP's SML write
        original(participant_id, create_in_sml=create_in_sml)

    world.smp.put_service_group = put_service_group  # type: ignore[method-assign]
    job = world.registrar().carry_out(message, 1)
    assert job.error.code == "registered_elsewhere"


def test_an_sml_write_failure_without_another_owner_is_retried(world: World, admin: Any) -> None:
    world.active_organisation(admin)
    [message] = world.queue.take()
    original = world.smp.put_service_group
    failures = [errors.SmlWriteFailed("put service group: could not update the SML", "put")]

    def put_service_group(participant_id: str, *, create_in_sml: bool = True) -> None:
        if failures:
            raise failures.pop()
        original(participant_id, create_in_sml=create_in_sml)

    world.smp.put_service_group = put_service_group  # type: ignore[method-assign]
    with pytest.raises(RetryLater):
        world.registrar().carry_out(message, 1)
    assert world.registrar().carry_out(message, 2).status is JobStatus.SUCCEEDED


def test_an_smp_refusal_fails_at_once(world: World, admin: Any) -> None:
    world.active_organisation(admin)
    [message] = world.queue.take()
    world.smp.fail_next = [errors.SmpAuthRejected("get service group: credentials refused (HTTP 403)", 403)]
    job = world.registrar().carry_out(message, 1)
    assert job.status is JobStatus.FAILED and job.error.code == "smp_rejected"
    assert "credentials refused" in job.error.message


def test_without_an_access_point_a_receive_registration_fails_and_says_why(world: World, admin: Any) -> None:
    from peppol_api.registrar import NotConfigured

    organisation = world.active_organisation(admin, receiving=True)
    registrar = world.registrar()

    def not_configured() -> Any:
        raise NotConfigured(
            "The access point is not configured: set ACCESS_POINT_URL and ACCESS_POINT_CERTIFICATE."
        )

    registrar.endpoint = not_configured
    outcomes = [registrar.carry_out(m, 1) for m in world.queue.take()]
    assert outcomes[-1].error.code == "not_configured"
    assert _participant(world, organisation.id).receive is PeppolState.FAILED


def test_a_running_job_whose_attempt_stopped_is_started_again(world: World, admin: Any) -> None:
    world.active_organisation(admin)
    [message] = world.queue.take()
    registrar = world.registrar()
    original = registrar._apply

    def crash(job: Any, organisation: Any, *read: Any) -> None:
        raise TimeoutError("the function timed out")

    registrar._apply = crash
    with pytest.raises(TimeoutError):
        registrar.carry_out(message, 1)
    assert world.jobs.get(message.job_id).status is JobStatus.RUNNING  # type: ignore[union-attr]
    registrar._apply = original
    job = registrar.carry_out(message, 2)
    assert job.status is JobStatus.SUCCEEDED and job.attempts == 2
    assert any(e.note == "attempt 1 did not finish" for e in job.history)


def test_a_change_to_the_organisation_while_the_job_ran_is_kept(world: World, admin: Any) -> None:
    organisation = world.active_organisation(admin)
    [message] = world.queue.take()
    registrar = world.registrar()
    original = registrar._apply

    def meanwhile(job: Any, found: Any, *read: Any) -> None:
        original(job, found, *read)
        world.organisation_service().update(admin, organisation.id, {"contact": {"name": "Changed"}})

    registrar._apply = meanwhile
    assert registrar.carry_out(message, 1).status is JobStatus.SUCCEEDED
    stored = world.organisation(organisation.id)
    assert stored.contact.name == "Changed" and stored.find(KVK).send is PeppolState.REGISTERED


def test_a_verification_while_the_job_ran_is_kept(world: World, admin: Any) -> None:
    organisation = world.active_organisation(admin, ("9944", "NL000099998B57"))
    [message] = world.queue.take()
    registrar = world.registrar()
    original = registrar._apply

    def meanwhile(job: Any, found: Any, *read: Any) -> None:
        original(job, found, *read)
        world.organisation_service().verify_identifier(admin, organisation.id, "9944:NL000099998B57")

    registrar._apply = meanwhile
    assert registrar.carry_out(message, 1).status is JobStatus.SUCCEEDED
    identifier = world.organisation(organisation.id).find("9944:NL000099998B57")
    assert identifier.verification == "verified" and identifier.send is PeppolState.REGISTERED


def test_moving_here_with_a_migration_key(world: World, admin: Any) -> None:
    key = world.smp.register_elsewhere(KVK)
    organisation = world.active_organisation(admin)
    [failed] = world.work()
    assert failed.error.code == "registered_elsewhere"
    moving = _peppol(world).migrate(admin, organisation.id, KVK, key)
    assert moving.origin == "migration" and _participant(world, organisation.id).send is PeppolState.PENDING
    [done] = world.work()
    assert done.status is JobStatus.SUCCEEDED and done.migration_key is None
    assert world.smp.sml["0106:68750110"] == world.smp.base_url and "0106:68750110" in world.smp.groups
    assert _participant(world, organisation.id).send is PeppolState.REGISTERED


def test_a_wrong_migration_key_fails_the_job_at_once(world: World, admin: Any) -> None:
    world.smp.register_elsewhere(KVK)
    organisation = world.active_organisation(admin)
    world.work()
    _peppol(world).migrate(admin, organisation.id, KVK, "Wrong!!Key99zz")
    [job] = world.work()
    assert job.status is JobStatus.FAILED and job.error.code == "migration_refused"
    assert job.migration_key == "Wrong!!Key99zz"  # kept, in case an operator retries


def test_deregistering_a_participant_that_moved_away_removes_only_our_copy(world: World, admin: Any) -> None:
    organisation = world.active_organisation(admin)
    world.work()
    key = _peppol(world).migration_key(admin, organisation.id, KVK).migration_key
    world.smp.sml["0106:68750110"] = world.smp.ELSEWHERE  # the other provider used the key
    assert key
    _peppol(world).request(admin, organisation.id, KVK, send=False, receive=False, document_types=None)
    [job] = world.work()
    assert job.status is JobStatus.SUCCEEDED
    assert "0106:68750110" not in world.smp.groups and world.smp.sml["0106:68750110"] == world.smp.ELSEWHERE
    assert ("finalize outbound migration", KVK) in world.smp.calls


def test_without_the_sml_lookup_the_smp_is_asked_directly(world: World, admin: Any) -> None:
    world.sml_off = True
    world.active_organisation(admin)
    [job] = world.work()
    assert job.status is JobStatus.SUCCEEDED and world.sml.asked == []


def test_a_malformed_message_is_refused_by_the_message_model() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        RegistrationMessage.model_validate_json('{"job_id": "x", "action": "register"}')


# --- the service group read while the start is written (the worker's ``lookups``) ------------


def _reading_meanwhile(world: World) -> Any:
    import dataclasses
    from concurrent.futures import ThreadPoolExecutor

    return dataclasses.replace(world.registrar(), lookups=ThreadPoolExecutor(max_workers=1))


def test_with_the_read_started_early_a_job_does_the_same_at_the_smp(world: World, admin: Any) -> None:
    organisation = world.active_organisation(admin, receiving=True)
    registrar = _reading_meanwhile(world)
    for message in world.queue.take():
        registrar.carry_out(message, 1)
    participant = _participant(world, organisation.id)
    assert (participant.send, participant.receive) == (PeppolState.REGISTERED, PeppolState.REGISTERED)
    assert set(world.smp.groups["0106:68750110"].documents) == {INVOICE.url_id, CREDIT_NOTE.url_id}
    # The superseded approval's job read nothing: a read starts with a job that runs.
    assert [op for op, _ in world.smp.calls].count("get service group") == 1


def test_a_read_started_early_that_fails_is_retried_like_any_other_call(world: World, admin: Any) -> None:
    world.active_organisation(admin)
    [message] = world.queue.take()
    registrar = _reading_meanwhile(world)
    world.smp.fail_next = [errors.SmpUnavailable("timeout (ReadTimeout)")]
    with pytest.raises(RetryLater):
        registrar.carry_out(message, 1)
    job = world.jobs.get(message.job_id)
    assert job is not None and job.status is JobStatus.QUEUED
    assert registrar.carry_out(message, 2).status is JobStatus.SUCCEEDED


def test_a_repeated_message_reads_nothing_at_the_smp(world: World, admin: Any) -> None:
    world.active_organisation(admin)
    [message] = world.queue.take()
    registrar = _reading_meanwhile(world)
    assert registrar.carry_out(message, 1).status is JobStatus.SUCCEEDED
    calls = len(world.smp.calls)
    assert registrar.carry_out(message, 1).status is JobStatus.SUCCEEDED  # final already
    assert len(world.smp.calls) == calls
