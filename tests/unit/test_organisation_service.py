"""The rules of organisations, identifiers, activation, receiving and credit, over in-memory
fakes. Checks answer in the contract's order: 422, 404, 403, 409, 402."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from onboarding.domain import errors
from onboarding.domain.models import Role, User
from onboarding.domain.organisations import OrganisationStatus, PeppolState, ReceivePrompt, Verification
from tests.support.services import World

ADDRESS = {"street": "Hoofdstraat 1", "postal_code": "1234AB", "city": "Utrecht"}


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def service(world: World) -> Any:
    return world.organisation_service()


def _user(world: World, role: Role = Role.ADMIN, environment_id: str | None = None) -> User:
    return world.user(role.value, environment_id)  # type: ignore[no-any-return]


@pytest.fixture
def admin(world: World) -> User:
    return _user(world)


def _by_hand(
    service: Any, user: User, *identifiers: tuple[str, str], country: str = "NL", **extra: Any
) -> Any:
    from organisations_api.service import IdentifierInput

    given = identifiers or (("0190", f"{uuid.uuid4().int % 10**20:020d}"),)
    return service.create_by_hand(
        user,
        name=extra.get("name", "Handwerk BV"),
        country=country,
        address=extra.get("address", ADDRESS),
        identifiers=[IdentifierInput(s, v) for s, v in given],
        contact=extra.get("contact"),
    )


def _active(world: World, service: Any, user: User, *identifiers: tuple[str, str]) -> Any:
    organisation = _by_hand(service, user, *identifiers)
    service.request_activation(user, organisation.id, "manual_review")
    return service.decide("operator-1", organisation.id, "approve", None)


def _credit(world: World, environment_id: str, cents: int = 1000) -> None:
    world.organisation_service().add_credit("operator-1", environment_id, cents)


# --- KvK ----------------------------------------------------------------------------------------
def test_search_takes_either_a_number_or_a_name(service: Any) -> None:
    for query in ({}, {"kvk_number": "68750110", "name": "Test"}):
        with pytest.raises(errors.InvalidInput):
            service.search(kvk_number=query.get("kvk_number"), name=query.get("name"))
    assert [r.kvk_number for r in service.search(kvk_number="68750110", name=None)] == ["68750110"]


def test_a_kvk_outage_is_503_kvk_unavailable(world: World, service: Any, admin: User) -> None:
    world.kvk.unavailable = True
    with pytest.raises(errors.KvkUnavailable):
        service.search(kvk_number="68750110", name=None)
    with pytest.raises(errors.KvkUnavailable):
        service.create_from_kvk(admin, "68750110")


def test_an_organisation_from_the_kvk_gets_its_number_as_verified_primary(service: Any, admin: User) -> None:
    organisation = service.create_from_kvk(admin, "68750110")
    assert (organisation.name, organisation.rsin, organisation.country) == (
        "Test BV Donald",
        "857587973",
        "NL",
    )
    [identifier] = organisation.identifiers
    assert identifier.participant_id == "0106:68750110" and identifier.primary
    assert identifier.verification is Verification.VERIFIED and identifier.verification_source == "kvk"


def test_unknown_and_ended_kvk_numbers_are_refused(service: Any, admin: User) -> None:
    with pytest.raises(errors.KvkNotFound):
        service.create_from_kvk(admin, "12345678")
    with pytest.raises(errors.InvalidInput):
        service.create_from_kvk(admin, "55505201")


def test_a_member_may_not_add_organisations(world: World, service: Any) -> None:
    member = _user(world, Role.MEMBER)
    with pytest.raises(errors.Forbidden):
        service.create_from_kvk(member, "68750110")
    with pytest.raises(errors.InvalidInput):  # the body's problem comes first
        _by_hand(service, member, ("0106", "1234"))


# --- By hand and identifiers ---------------------------------------------------------------------
def test_by_hand_the_first_identifier_is_primary_and_values_are_canonical(service: Any, admin: User) -> None:
    organisation = _by_hand(service, admin, ("NL:VAT", "nl 0000.99998.b57"), ("0088", "8712345678906"))
    assert [(i.participant_id, i.primary) for i in organisation.identifiers] == [
        ("9944:NL000099998B57", True),
        ("0088:8712345678906", False),
    ]


@pytest.mark.parametrize(
    ("identifiers", "country", "code"),
    [
        ((("9944", "NL000099998B58"),), "NL", "invalid_identifier_check_digit"),
        ((("0106", "1234"),), "NL", "invalid_identifier_format"),
        ((("9999", "1"),), "NL", "invalid_identifier_unknown_scheme"),
        ((("0106", "68750110"),), "BE", "invalid_identifier_country"),
        ((("0088", "8712345678906"), ("GLN", "8712345678906")), "NL", "validation_error"),
    ],
)
def test_bad_identifiers_are_422_with_a_code(
    service: Any, admin: User, identifiers: tuple[tuple[str, str], ...], country: str, code: str
) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        _by_hand(service, admin, *identifiers, country=country)
    assert refused.value.code == code


def test_the_address_country_must_be_the_organisations(service: Any, admin: User) -> None:
    with pytest.raises(errors.InvalidInput):
        _by_hand(service, admin, address={**ADDRESS, "country": "BE"})


def test_an_identifier_is_claimed_once_on_the_whole_platform(world: World, service: Any, admin: User) -> None:
    _by_hand(service, admin, ("0088", "8712345678906"))
    stranger = _user(world)
    with pytest.raises(errors.OrganisationExists):
        _by_hand(service, stranger, ("0088", "8712345678906"))
    mine = _by_hand(service, stranger)
    with pytest.raises(errors.OrganisationExists):
        service.add_identifier(stranger, mine.id, _identifier("0088", "8712345678906"))


def test_the_plan_limits_organisations_but_a_claimed_identifier_answers_first(
    world: World, service: Any, admin: User
) -> None:
    _by_hand(service, admin, ("0088", "8712345678906"))
    _by_hand(service, admin)
    with pytest.raises(errors.PlanLimitReached):
        _by_hand(service, admin)
    with pytest.raises(errors.OrganisationExists):
        _by_hand(service, admin, ("0088", "8712345678906"))


def test_another_tenants_organisation_is_not_found(world: World, service: Any, admin: User) -> None:
    organisation = _by_hand(service, admin)
    stranger = _user(world)
    for attempt in (
        lambda: service.get(stranger, organisation.id),
        lambda: service.update(stranger, organisation.id, {"name": "Mine"}),
        lambda: service.delete(stranger, organisation.id),
        lambda: service.request_activation(stranger, organisation.id, "manual_review"),
    ):
        with pytest.raises(errors.OrganisationNotFound):
            attempt()


def _identifier(scheme: str, value: str) -> Any:
    from organisations_api.service import IdentifierInput

    return IdentifierInput(scheme, value)


def test_identifiers_are_added_once_and_the_next_becomes_primary(service: Any, admin: User) -> None:
    organisation = _by_hand(service, admin)
    first = organisation.identifiers[0].participant_id
    added = service.add_identifier(admin, organisation.id, _identifier("0088", "8712345678906"))
    assert not added.primary
    with pytest.raises(errors.IdentifierExists):
        service.add_identifier(admin, organisation.id, _identifier("GLN", "8712345678906"))
    service.remove_identifier(admin, organisation.id, first)
    [left] = service.get(admin, organisation.id).identifiers
    assert left.participant_id == "0088:8712345678906" and left.primary
    with pytest.raises(errors.IdentifierNotFound):
        service.remove_identifier(admin, organisation.id, first)


def test_a_removed_identifier_can_be_claimed_again(world: World, service: Any, admin: User) -> None:
    organisation = _by_hand(service, admin, ("0088", "8712345678906"), ("0190", "00000001820029336000"))
    service.remove_identifier(admin, organisation.id, "0088:8712345678906")
    assert _by_hand(service, _user(world), ("0088", "8712345678906")).identifiers


# --- Verification -------------------------------------------------------------------------------
def test_vat_ids_are_verified_against_vies(world: World, service: Any, admin: User) -> None:
    organisation = _by_hand(service, admin, ("9944", "NL000099998B57"), ("9944", "NL002455799B11"))
    result = service.verify_identifier(admin, organisation.id, "9944:NL000099998B57")
    assert (result.verification, result.source) == (Verification.VERIFIED, "vies")
    assert world.vies.asked == [("NL", "000099998B57")]
    world.vies.results.pop("NL002455799B11")
    assert service.verify_identifier(admin, organisation.id, "9944:nl002455799b11").verification is (
        Verification.REJECTED
    )
    stored = {i.participant_id: i for i in service.get(admin, organisation.id).identifiers}
    assert stored["9944:NL000099998B57"].verification is Verification.VERIFIED
    assert stored["9944:NL002455799B11"].verification is Verification.REJECTED


def test_an_outage_is_inconclusive_never_rejected(world: World, service: Any, admin: User) -> None:
    organisation = _by_hand(service, admin, ("0106", "68750110"))
    world.kvk.unavailable = True
    result = service.verify_identifier(admin, organisation.id, "0106:68750110")
    assert result.verification is Verification.INCONCLUSIVE and "retry" in result.details


def test_schemes_without_a_registry_cannot_be_verified(service: Any, admin: User) -> None:
    organisation = _by_hand(service, admin, ("0088", "8712345678906"))
    with pytest.raises(errors.InvalidInput) as refused:
        service.verify_identifier(admin, organisation.id, "0088:8712345678906")
    assert refused.value.code == "verification_not_supported"


# --- Changes ------------------------------------------------------------------------------------
def test_name_and_address_lock_during_review_and_once_active(world: World, service: Any, admin: User) -> None:
    organisation = _by_hand(service, admin)
    service.request_activation(admin, organisation.id, "manual_review")
    with pytest.raises(errors.LockedDuringReview):
        service.update(admin, organisation.id, {"name": "Other"})
    service.decide("operator-1", organisation.id, "approve", None)
    with pytest.raises(errors.OrganisationActive):
        service.update(admin, organisation.id, {"address": ADDRESS})
    changed = service.update(admin, organisation.id, {"contact": {"name": "Inkoop"}})
    assert changed.contact.name == "Inkoop" and changed.version == organisation.version + 3


def test_a_stale_write_is_organisation_changed(world: World, service: Any, admin: User) -> None:
    organisation = _by_hand(service, admin)
    world.organisations.save(
        organisation.model_copy(update={"version": organisation.version + 1}),
        previous_version=organisation.version,
    )
    with pytest.raises(errors.OrganisationChanged):
        world.organisations.save(organisation, previous_version=organisation.version)


def test_what_is_on_peppol_cannot_be_deleted_and_the_answer_says_how_to_deregister(
    world: World, service: Any, admin: User
) -> None:
    organisation = _active(world, service, admin)
    participant = organisation.identifiers[0].participant_id
    with pytest.raises(errors.RegisteredOnPeppol) as refused:
        service.delete(admin, organisation.id)
    how = f'PUT /organisations/{organisation.id}/peppol/{participant} {{"send": false, "receive": false}}'
    assert how in refused.value.message and how in (refused.value.message_nl or "")
    with pytest.raises(errors.RegisteredOnPeppol):
        service.remove_identifier(admin, organisation.id, participant)
    # Registered, then deregistered: now it can go.
    world.work()
    world.peppol_service().request(
        admin, organisation.id, participant, send=False, receive=False, document_types=None
    )
    world.work()
    service.remove_identifier(admin, organisation.id, participant)
    service.delete(admin, organisation.id)


# --- Activation ---------------------------------------------------------------------------------
def test_approval_activates_and_queues_the_send_registration(world: World, service: Any, admin: User) -> None:
    organisation = _by_hand(service, admin)
    service.request_activation(admin, organisation.id, "manual_review")
    assert [o.id for o in service.activation_requests()] == [organisation.id]
    with pytest.raises(errors.ActivationPending):
        service.request_activation(admin, organisation.id, "manual_review")
    approved = service.decide("operator-1", organisation.id, "approve", None)
    assert approved.status is OrganisationStatus.ACTIVE and approved.activation.decided_by == "operator-1"
    [primary] = approved.identifiers
    assert primary.send is PeppolState.PENDING
    [message] = world.queue.messages
    assert message.participant_id == primary.participant_id
    job = world.jobs.get(primary.job_id)
    assert job is not None and job.id == message.job_id and job.dispatched_at is not None
    assert (job.origin, job.requested_by) == ("approval", "operator-1")
    assert (job.target.send, job.target.receive, job.target.directory) == (True, False, True)
    assert service.activation_requests() == []
    with pytest.raises(errors.OrganisationAlreadyActive):
        service.request_activation(admin, organisation.id, "manual_review")
    with pytest.raises(errors.NotPendingReview):
        service.decide("operator-1", organisation.id, "reject", None)


def test_a_queue_outage_leaves_the_job_recorded_and_undispatched(
    world: World, service: Any, admin: User
) -> None:
    world.queue.unavailable = True
    approved = _active(world, service, admin)
    job = world.jobs.get(approved.identifiers[0].job_id)
    assert job is not None and job.dispatched_at is None


def test_rejection_records_the_reason(service: Any, admin: User) -> None:
    organisation = _by_hand(service, admin)
    service.request_activation(admin, organisation.id, "manual_review")
    rejected = service.decide("operator-1", organisation.id, "reject", "Unknown company")
    assert rejected.status is OrganisationStatus.REJECTED and rejected.activation.reason == "Unknown company"


def test_activation_needs_exactly_one_primary_identifier(service: Any, admin: User) -> None:
    organisation = _by_hand(service, admin)
    service.remove_identifier(admin, organisation.id, organisation.identifiers[0].participant_id)
    with pytest.raises(errors.PrimaryIdentifierRequired):
        service.request_activation(admin, organisation.id, "manual_review")


def test_an_unknown_organisation_cannot_be_decided(service: Any) -> None:
    with pytest.raises(errors.OrganisationNotFound):
        service.decide("operator-1", "nope", "approve", None)


# --- Receiving and credit -----------------------------------------------------------------------
def test_receiving_needs_accepted_costs_an_active_organisation_and_credit(
    world: World, service: Any, admin: User
) -> None:
    draft = _by_hand(service, admin)
    with pytest.raises(errors.InvalidInput) as refused:
        service.set_receiving(admin, draft.id, enabled=True, accept_costs=False)
    assert refused.value.code == "costs_not_accepted"
    with pytest.raises(errors.OrganisationNotActive):
        service.set_receiving(admin, draft.id, enabled=True, accept_costs=True)
    active = _active(world, service, admin)
    with pytest.raises(errors.InsufficientCredit):
        service.set_receiving(admin, active.id, enabled=True, accept_costs=True)
    _credit(world, admin.environment_id)
    receiving = service.set_receiving(admin, active.id, enabled=True, accept_costs=True)
    assert receiving.receiving.enabled and receiving.identifiers[0].receive is PeppolState.PENDING
    assert service.set_receiving(admin, active.id, enabled=True, accept_costs=True) == receiving  # no new job
    stopped = service.set_receiving(admin, active.id, enabled=False, accept_costs=False)
    assert stopped.identifiers[0].receive is PeppolState.DEREGISTERING
    targets = [world.jobs.get(m.job_id).target for m in world.queue.messages[-2:]]  # type: ignore[union-attr]
    assert [(t.send, t.receive, t.document_types) for t in targets] == [
        (True, True, ("bis-billing-invoice", "bis-billing-credit-note")),
        (True, False, ()),
    ]


def test_turning_receiving_off_deregisters_every_identifier_that_receives(
    world: World, service: Any, admin: User
) -> None:
    active = _active(world, service, admin)
    _credit(world, admin.environment_id)
    peppol = world.peppol_service()
    service.add_identifier(admin, active.id, _identifier("9944", "NL000099998B57"))
    service.set_receiving(admin, active.id, enabled=True, accept_costs=True)
    peppol.request(admin, active.id, "9944:NL000099998B57", send=False, receive=True, document_types=None)
    stopped = service.set_receiving(admin, active.id, enabled=False, accept_costs=False)
    assert [i.receive for i in stopped.identifiers] == [PeppolState.DEREGISTERING] * 2
    assert stopped.receiving.registration_job_id == stopped.identifiers[0].job_id


def test_the_receive_prompt_remembers_later_and_never(service: Any, admin: User, world: World) -> None:
    active = _active(world, service, admin)
    assert service.answer_receive_prompt(admin, active.id, "later").receiving.prompt is ReceivePrompt.LATER
    never = service.answer_receive_prompt(admin, active.id, "never")
    assert never.receiving.prompt is ReceivePrompt.NEVER and not never.asks_to_receive


def test_credit_top_ups_are_kept_in_a_ledger_newest_first(world: World, service: Any, admin: User) -> None:
    service.add_credit("operator-1", admin.environment_id, 500, "INV-1")
    topped = service.add_credit("operator-2", admin.environment_id, 250)
    assert topped.credit_balance_cents == 750
    environment, entries = service.credit_entries(admin.environment_id)
    assert environment.credit_balance_cents == 750
    assert [(e.amount_cents, e.by, e.reference) for e in entries] == [
        (250, "operator-2", None),
        (500, "operator-1", "INV-1"),
    ]
    with pytest.raises(errors.EnvironmentNotFound):
        service.add_credit("operator-1", "no-such-environment", 100)


# --- Issue 8: look-alike identifiers and review integrity -----------------------------------------
FULL_WIDTH = str.maketrans("0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19")
ARABIC_INDIC = str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")


@pytest.mark.parametrize("digits", [FULL_WIDTH, ARABIC_INDIC])
def test_look_alike_digits_never_claim_an_identifier_again(
    world: World, service: Any, admin: User, digits: dict[int, str]
) -> None:
    _by_hand(service, admin, ("0106", "68750110"))
    other = _user(world)
    for given in (("0106", "68750110".translate(digits)), ("0190", "00000001820029336000".translate(digits))):
        with pytest.raises(errors.InvalidInput) as refused:
            _by_hand(service, other, given)
        assert refused.value.code == "invalid_identifier_format"
    with pytest.raises(errors.InvalidInput):
        service.create_from_kvk(other, "68750110".translate(digits))
    assert all(key.isascii() for key in world.memory.claims)


LEI = "0199:5493001KJTIIGC8Y1R12"
# U+212A KELVIN SIGN, which str.lower() turns into an ASCII "k": a path that spells the LEI with
# it must not name the stored LEI (the rules refuse the character, so nothing can be claimed
# with it either).
KELVIN_LEI = "0199:5493001\u212aJTIIGC8Y1R12"


@pytest.mark.parametrize(
    "given",
    [KELVIN_LEI, f" {KELVIN_LEI} ", "0199:5493001\u212ajtiigc8y1r12", f"iso6523-actorid-upis::{KELVIN_LEI}"],
)
def test_a_look_alike_participant_id_in_a_path_names_no_identifier(
    world: World, service: Any, admin: User, given: str
) -> None:
    organisation = _by_hand(service, admin, ("0199", "5493001KJTIIGC8Y1R12"))
    assert organisation.find(given) is None
    with pytest.raises(errors.IdentifierNotFound):
        service.verify_identifier(admin, organisation.id, given)
    with pytest.raises(errors.IdentifierNotFound):
        service.remove_identifier(admin, organisation.id, given)
    assert [i.participant_id for i in service.get(admin, organisation.id).identifiers] == [LEI]
    for spelling in (LEI.lower(), f"iso6523-actorid-upis::{LEI}"):  # what is accepted still names it
        assert organisation.find(spelling) == organisation.identifiers[0]


def test_a_stored_id_the_rules_refuse_now_is_still_named_by_its_ascii_spelling(
    service: Any, admin: User
) -> None:
    from onboarding.domain.organisations import Identifier

    stored = Identifier(scheme="0106", value="1234567", participant_id="0106:1234567")  # 7 digits
    organisation = _by_hand(service, admin).model_copy(update={"identifiers": (stored,)})
    assert organisation.find(" 0106:1234567 ") == stored
    assert organisation.find("0106:\uff11234567") is None  # a full-width "1"


def test_what_the_kvk_answers_is_never_claimed_in_place_of_the_number_asked_for(
    world: World, service: Any, admin: User
) -> None:
    from onboarding.domain.ports import KvkProfile

    world.kvk.profiles["69599068"] = KvkProfile(
        "\uff16\uff19\uff15\uff19\uff19\uff10\uff16\uff18",
        "Look-alike BV",
        None,
        None,
        None,
        None,
        None,
        "NL",
        True,
    )
    with pytest.raises(errors.KvkUnavailable):
        service.create_from_kvk(admin, "69599068")
    assert not world.memory.claims


def test_identifiers_cannot_change_while_the_activation_is_reviewed(
    world: World, service: Any, admin: User
) -> None:
    from organisations_api.service import IdentifierInput

    organisation = _by_hand(service, admin, ("0106", "68750110"))
    service.request_activation(admin, organisation.id, "manual_review")
    with pytest.raises(errors.IdentifiersLockedDuringReview) as refused:
        service.remove_identifier(admin, organisation.id, "0106:68750110")
    assert (refused.value.status, refused.value.code) == (409, "activation_pending")
    with pytest.raises(errors.IdentifiersLockedDuringReview):
        service.add_identifier(admin, organisation.id, IdentifierInput("0088", "8712345678906"))
    assert world.memory.claims == {"0106:68750110": organisation.id}
    assert service.get(admin, organisation.id).kvk_number == "68750110"


def test_the_kvk_number_shown_is_always_one_that_is_claimed(world: World, service: Any, admin: User) -> None:
    from organisations_api.service import IdentifierInput

    organisation = _by_hand(service, admin, ("0190", "00000001820029336000"), ("0106", "68750110"))
    assert organisation.kvk_number == "68750110"
    service.remove_identifier(admin, organisation.id, "0106:68750110")
    assert service.get(admin, organisation.id).kvk_number is None
    assert "0106:68750110" not in world.memory.claims
    service.add_identifier(admin, organisation.id, IdentifierInput("NL:KVK", "6875 0110"))
    assert service.get(admin, organisation.id).kvk_number == "68750110"


def test_approval_still_needs_one_primary_identifier(world: World, service: Any, admin: User) -> None:
    organisation = _by_hand(service, admin)
    service.request_activation(admin, organisation.id, "manual_review")
    stored = world.memory.organisations[organisation.id]
    world.memory.organisations[organisation.id] = stored.model_copy(update={"identifiers": ()})
    with pytest.raises(errors.PrimaryIdentifierRequired):
        service.decide("operator-1", organisation.id, "approve", None)
