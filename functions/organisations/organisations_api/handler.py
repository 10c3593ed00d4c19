"""HTTP adapter of the organisations function: parse, call the service, shape the answer."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from onboarding.accounts import SignedIn
from onboarding.adapters.dynamo import Table
from onboarding.adapters.kvk import KvkClient
from onboarding.adapters.queue import RegistrationQueue
from onboarding.adapters.repositories.environments import EnvironmentRepository
from onboarding.adapters.repositories.idempotency import IdempotencyRepository
from onboarding.adapters.repositories.jobs import RegistrationJobRepository
from onboarding.adapters.repositories.organisations import OrganisationRepository
from onboarding.adapters.repositories.users import UserRepository
from onboarding.adapters.secrets import secret_string
from onboarding.adapters.vies import ViesClient
from onboarding.domain.organisations import Identifier, Organisation
from onboarding.observability import logger, metrics
from onboarding.settings import get_settings
from onboarding.web.app import COGNITO, create_app, resolve
from onboarding.web.idempotency import IDEMPOTENCY_KEY, idempotent
from onboarding.web.schemas import BODY_ERRORS, documented
from organisations_api.models import (
    KVK_NUMBER_PATTERN,
    ActivationOut,
    ActivationRequest,
    ActivationRequestOut,
    ActivationStatusOut,
    AddressOut,
    ContactOut,
    CreditEntryOut,
    CreditLedgerOut,
    CreditOut,
    CreditRequest,
    DecisionRequest,
    IdentifierIn,
    IdentifierOut,
    OrganisationCreate,
    OrganisationOut,
    OrganisationUpdate,
    PeppolOut,
    ReceivePromptRequest,
    ReceivingOut,
    ReceivingRequest,
    ReceivingStatusOut,
    ReviewedIdentifierOut,
    SearchResultOut,
    VerificationOut,
)
from organisations_api.service import IdentifierInput, OrganisationService

app = create_app()
TAG, ADMIN_TAG = ["Organisations"], ["Operators"]
OrganisationId = Annotated[str, Path(min_length=1, max_length=64)]
# Path parameters arrive decoded once (onboarding.web.app.decoded_path): ':' may be sent as %3A.
ParticipantId = Annotated[
    str, Path(min_length=3, max_length=160, description="0106:12345678 (':' may be %3A)")
]


@lru_cache(maxsize=1)
def service() -> OrganisationService:
    settings = get_settings()
    table, kvk = Table(settings.table.name), settings.kvk

    def kvk_api_key() -> str:
        if kvk.api_key_secret_arn:
            return secret_string(kvk.api_key_secret_arn)
        return kvk.api_key or ""

    return OrganisationService(
        settings=settings,
        organisations=OrganisationRepository(table),
        environments=EnvironmentRepository(table),
        jobs=RegistrationJobRepository(table),
        kvk=KvkClient(kvk.base_url, kvk_api_key),
        vies=ViesClient(settings.vies.base_url),
        queue=RegistrationQueue(settings.peppol.queue_url),
    )


@lru_cache(maxsize=1)
def _users() -> UserRepository:
    return UserRepository(Table(get_settings().table.name))


_signed_in = SignedIn(app, _users)
_user, _operator = _signed_in.user, _signed_in.operator


def _idempotent() -> Any:
    return idempotent(lambda: IdempotencyRepository(Table(get_settings().table.name)))


def _identifier_out(identifier: Identifier) -> IdentifierOut:
    return IdentifierOut(
        scheme=identifier.scheme,
        value=identifier.value,
        participant_id=identifier.participant_id,
        primary=identifier.primary,
        verification=identifier.verification.value,
        peppol=PeppolOut(send=identifier.send.value, receive=identifier.receive.value),
    )


def _out(organisation: Organisation) -> OrganisationOut:
    activation = organisation.activation
    return OrganisationOut(
        id=organisation.id,
        name=organisation.name,
        country=organisation.country,
        address=AddressOut(**organisation.address.model_dump()),
        contact=ContactOut(**organisation.contact.model_dump()),
        kvk_number=organisation.kvk_number,
        rsin=organisation.rsin,
        legal_form=organisation.legal_form,
        status=organisation.status.value,
        identifiers=[_identifier_out(i) for i in organisation.identifiers],
        receiving=ReceivingOut(
            enabled=organisation.receiving.enabled, prompt=organisation.receiving.prompt.value
        ),
        activation=ActivationOut(
            method=activation.method,
            requested_at=activation.requested_at,
            decided_at=activation.decided_at,
            decided_by=activation.decided_by,
            reason=activation.reason,
        )
        if activation
        else None,
        created_at=organisation.created_at,
        updated_at=organisation.updated_at,
    )


# --- KvK search and organisations ---------------------------------------------------------
@app.get(
    "/organisations/search",
    tags=TAG,
    security=COGNITO,
    summary="Search the KvK by number or name",
    responses=documented(200, list[SearchResultOut], 401, 403, 422, 503),
)
def search(
    kvk_number: Annotated[str | None, Query(pattern=KVK_NUMBER_PATTERN)] = None,
    name: Annotated[str | None, Query(min_length=2, max_length=100)] = None,
) -> list[SearchResultOut]:
    _user()
    found = service().search(kvk_number=kvk_number, name=name)
    return [
        SearchResultOut(kvk_number=r.kvk_number, name=r.name, city=r.city, type=r.type, active=r.active)
        for r in found
    ]


@app.post(
    "/organisations",
    status_code=201,
    tags=TAG,
    security=COGNITO,
    summary="Add an organisation: from its KvK number, or by hand",
    responses=documented(
        201, OrganisationOut, *BODY_ERRORS, 401, 402, 403, 404, 409, 503, description="Created"
    ),
    middlewares=[_idempotent()],
)
def create(body: OrganisationCreate, idempotency_key: IDEMPOTENCY_KEY = None) -> OrganisationOut:
    user = _user()
    if body.kvk_number:
        return _out(service().create_from_kvk(user, body.kvk_number))
    assert body.name and body.country and body.address  # the model makes sure
    organisation = service().create_by_hand(
        user,
        name=body.name,
        country=body.country,
        address=body.address.model_dump(exclude_none=True),
        identifiers=[IdentifierInput(i.scheme, i.value) for i in body.identifiers],
        contact=body.contact.model_dump() if body.contact else None,
    )
    return _out(organisation)


@app.get(
    "/organisations",
    tags=TAG,
    security=COGNITO,
    summary="The organisations of your environment",
    responses=documented(200, list[OrganisationOut], 401, 403),
)
def list_organisations() -> list[OrganisationOut]:
    return [_out(o) for o in service().list_organisations(_user())]


@app.get(
    "/organisations/<organisation_id>",
    tags=TAG,
    security=COGNITO,
    summary="One organisation",
    responses=documented(200, OrganisationOut, 401, 403, 404),
)
def get_organisation(organisation_id: OrganisationId) -> OrganisationOut:
    return _out(service().get(_user(), organisation_id))


@app.patch(
    "/organisations/<organisation_id>",
    tags=TAG,
    security=COGNITO,
    summary="Change name, address (not of an active organisation) or contact",
    responses=documented(200, OrganisationOut, *BODY_ERRORS, 401, 403, 404, 409),
)
def update_organisation(organisation_id: OrganisationId, body: OrganisationUpdate) -> OrganisationOut:
    changes = body.model_dump(exclude_unset=True)  # a null contact (or part of it) clears it
    return _out(service().update(_user(), organisation_id, changes))


@app.delete(
    "/organisations/<organisation_id>",
    tags=TAG,
    security=COGNITO,
    summary="Delete an organisation",
    responses=documented(204, None, 401, 403, 404, 409, description="Deleted"),
)
def delete_organisation(organisation_id: OrganisationId) -> Response[None]:
    service().delete(_user(), organisation_id)
    return Response(status_code=204, body=None)


# --- Identifiers ----------------------------------------------------------------------------
@app.post(
    "/organisations/<organisation_id>/identifiers",
    status_code=201,
    tags=TAG,
    security=COGNITO,
    summary="Add an identifier (KvK, VAT ID, OIN, GLN, ...)",
    responses=documented(201, IdentifierOut, *BODY_ERRORS, 401, 403, 404, 409, description="Created"),
    middlewares=[_idempotent()],
)
def add_identifier(
    organisation_id: OrganisationId, body: IdentifierIn, idempotency_key: IDEMPOTENCY_KEY = None
) -> IdentifierOut:
    identifier = service().add_identifier(_user(), organisation_id, IdentifierInput(body.scheme, body.value))
    return _identifier_out(identifier)


@app.delete(
    "/organisations/<organisation_id>/identifiers/<participant_id>",
    tags=TAG,
    security=COGNITO,
    summary="Remove an identifier",
    responses=documented(204, None, 401, 403, 404, 409, description="Removed"),
)
def remove_identifier(organisation_id: OrganisationId, participant_id: ParticipantId) -> Response[None]:
    service().remove_identifier(_user(), organisation_id, participant_id)
    return Response(status_code=204, body=None)


@app.post(
    "/organisations/<organisation_id>/identifiers/<participant_id>/verify",
    tags=TAG,
    security=COGNITO,
    summary="Verify an identifier: a VAT ID against VIES, a KvK number against the KvK",
    responses=documented(200, VerificationOut, 401, 403, 404, 422),
)
def verify_identifier(organisation_id: OrganisationId, participant_id: ParticipantId) -> VerificationOut:
    result = service().verify_identifier(_user(), organisation_id, participant_id)
    return VerificationOut(
        verification=result.verification.value,
        source=result.source,  # type: ignore[arg-type]
        details=result.details,
    )


# --- Activation and receiving ---------------------------------------------------------------
@app.post(
    "/organisations/<organisation_id>/activation",
    status_code=202,
    tags=TAG,
    security=COGNITO,
    summary="Ask for activation: an operator reviews the request",
    responses=documented(202, ActivationStatusOut, *BODY_ERRORS, 401, 403, 404, 409, description="Accepted"),
)
def request_activation(organisation_id: OrganisationId, body: ActivationRequest) -> ActivationStatusOut:
    service().request_activation(_user(), organisation_id, body.method)
    return ActivationStatusOut(status="pending_review")


@app.put(
    "/organisations/<organisation_id>/receiving",
    tags=TAG,
    security=COGNITO,
    summary="Receive e-invoices (a paid service) or stop receiving them",
    responses=documented(200, ReceivingStatusOut, *BODY_ERRORS, 401, 402, 403, 404, 409),
)
def set_receiving(organisation_id: OrganisationId, body: ReceivingRequest) -> ReceivingStatusOut:
    organisation = service().set_receiving(
        _user(), organisation_id, enabled=body.enabled, accept_costs=body.accept_costs
    )
    return ReceivingStatusOut(
        enabled=organisation.receiving.enabled, registration_job_id=organisation.receiving.registration_job_id
    )


@app.post(
    "/organisations/<organisation_id>/receive-prompt",
    tags=TAG,
    security=COGNITO,
    summary="Answer the question whether to receive e-invoices: enable, later, never",
    responses=documented(200, OrganisationOut, *BODY_ERRORS, 401, 402, 403, 404, 409),
)
def answer_receive_prompt(organisation_id: OrganisationId, body: ReceivePromptRequest) -> OrganisationOut:
    return _out(service().answer_receive_prompt(_user(), organisation_id, body.choice))


# --- Operators ------------------------------------------------------------------------------
@app.get(
    "/admin/activation-requests",
    tags=ADMIN_TAG,
    security=COGNITO,
    summary="Organisations waiting for an activation review, oldest first, with what is approved",
    responses=documented(200, list[ActivationRequestOut], 401, 403),
)
def activation_requests() -> list[ActivationRequestOut]:
    _operator()
    return [
        ActivationRequestOut(
            organisation_id=o.id,
            environment_id=o.environment_id,
            name=o.name,
            method=o.activation.method,
            requested_at=o.activation.requested_at,
            country=o.country,
            kvk_number=o.kvk_number,
            identifiers=[
                ReviewedIdentifierOut(
                    scheme=i.scheme,
                    value=i.value,
                    participant_id=i.participant_id,
                    primary=i.primary,
                    verification=i.verification.value,
                    verification_source=i.verification_source,
                    verified_at=i.verified_at,
                )
                for i in o.identifiers
            ],
        )
        for o in service().activation_requests()
        if o.activation
    ]


@app.post(
    "/admin/organisations/<organisation_id>/activation/<decision>",
    tags=ADMIN_TAG,
    security=COGNITO,
    summary="Approve or reject an activation request",
    responses=documented(200, OrganisationOut, *BODY_ERRORS, 401, 403, 404, 409),
)
def decide(
    organisation_id: OrganisationId,
    decision: Annotated[Literal["approve", "reject"], Path()],
    body: Annotated[DecisionRequest | None, Body()] = None,
) -> OrganisationOut:
    operator = _operator()
    reason = body.reason if body else None
    return _out(service().decide(operator.id, organisation_id, decision, reason))


@app.post(
    "/admin/environments/<environment_id>/credit",
    tags=ADMIN_TAG,
    security=COGNITO,
    summary="Top up an environment's credit (kept in its ledger)",
    responses=documented(200, CreditOut, *BODY_ERRORS, 401, 403, 404, 409),
    middlewares=[_idempotent()],
)
def add_credit(
    environment_id: OrganisationId, body: CreditRequest, idempotency_key: IDEMPOTENCY_KEY = None
) -> CreditOut:
    operator = _operator()
    environment = service().add_credit(operator.id, environment_id, body.amount_cents, body.reference)
    return CreditOut(balance_cents=environment.credit_balance_cents, currency=environment.currency)


@app.get(
    "/admin/environments/<environment_id>/credit",
    tags=ADMIN_TAG,
    security=COGNITO,
    summary="An environment's credit and its ledger, newest first",
    responses=documented(200, CreditLedgerOut, 401, 403, 404),
)
def credit_ledger(environment_id: OrganisationId) -> CreditLedgerOut:
    _operator()
    environment, entries = service().credit_entries(environment_id)
    return CreditLedgerOut(
        balance_cents=environment.credit_balance_cents,
        currency=environment.currency,
        entries=[
            CreditEntryOut(amount_cents=e.amount_cents, by=e.by, at=e.at, reference=e.reference)
            for e in entries
        ],
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return resolve(app, event, context)
