"""HTTP adapter of the peppol function: parse, call the service, shape the answer."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path

from onboarding.accounts import SignedIn
from onboarding.adapters.repositories.idempotency import IdempotencyRepository
from onboarding.adapters.repositories.users import UserRepository
from onboarding.domain.organisations import Identifier, PeppolError
from onboarding.domain.registration import RegistrationJob
from onboarding.observability import logger, metrics
from onboarding.settings import get_settings
from onboarding.web.app import COGNITO, create_app, resolve
from onboarding.web.idempotency import IDEMPOTENCY_KEY, idempotent
from onboarding.web.schemas import BODY_ERRORS, documented
from peppol_api import wiring
from peppol_api.models import (
    JobAccepted,
    JobEventOut,
    JobOut,
    MigrationKeyOut,
    MigrationRequest,
    ParticipantOut,
    ParticipantsOut,
    PeppolErrorOut,
    PeppolRequest,
    TargetOut,
)
from peppol_api.service import PeppolService

app = create_app()
TAG, ADMIN_TAG = ["Peppol registration"], ["Operators"]
OrganisationId = Annotated[str, Path(min_length=1, max_length=64)]
JobId = Annotated[str, Path(min_length=1, max_length=64)]
ParticipantId = Annotated[
    str, Path(min_length=3, max_length=160, description="0106:12345678 (':' may be %3A)")
]


@lru_cache(maxsize=1)
def service() -> PeppolService:
    return PeppolService(
        settings=get_settings(),
        organisations=wiring.organisations(),
        jobs=wiring.jobs(),
        queue=wiring.queue(),
        smp=wiring.smp,
    )


@lru_cache(maxsize=1)
def _users() -> UserRepository:
    return UserRepository(wiring.table())


_signed_in = SignedIn(app, _users)
_user, _operator = _signed_in.user, _signed_in.operator


def _idempotent() -> Any:
    return idempotent(lambda: IdempotencyRepository(wiring.table()))


def _error(error: PeppolError | None) -> PeppolErrorOut | None:
    return PeppolErrorOut(code=error.code, message=error.message) if error else None


def _participant(identifier: Identifier) -> ParticipantOut:
    return ParticipantOut(
        participant_id=identifier.participant_id,
        send=identifier.send.value,
        receive=identifier.receive.value,
        document_types=list(identifier.document_types),
        directory=identifier.directory.value,
        last_error=_error(identifier.last_error),
        updated_at=identifier.peppol_updated_at,
        job_id=identifier.job_id,
    )


def _job(job: RegistrationJob) -> JobOut:
    return JobOut(
        job_id=job.id,
        status=job.status.value,
        attempts=job.attempts,
        error=_error(job.error),
        history=[
            JobEventOut(status=e.status.value, at=e.at, attempt=e.attempt, note=e.note) for e in job.history
        ],
        organisation_id=job.organisation_id,
        participant_id=job.participant_id,
        origin=job.origin.value,
        target=TargetOut(
            send=job.target.send,
            receive=job.target.receive,
            document_types=list(job.target.document_types),
            directory=job.target.directory,
        ),
        created_at=job.created_at,
        updated_at=job.updated_at,
    )


@app.get(
    "/organisations/<organisation_id>/peppol",
    tags=TAG,
    security=COGNITO,
    summary="Each participant's Peppol registration: send, receive, Directory, last error",
    responses=documented(200, ParticipantsOut, 401, 403, 404),
)
def participants(organisation_id: OrganisationId) -> ParticipantsOut:
    organisation = service().participants(_user(), organisation_id)
    return ParticipantsOut(participants=[_participant(i) for i in organisation.identifiers])


@app.put(
    "/organisations/<organisation_id>/peppol/<participant_id>",
    status_code=202,
    tags=TAG,
    security=COGNITO,
    summary="Register a participant for sending and/or receiving, or deregister it (a job)",
    responses=documented(
        202, JobAccepted, *BODY_ERRORS, 401, 402, 403, 404, 409, description="Accepted: a job carries it out"
    ),
)
def request_registration(
    organisation_id: OrganisationId, participant_id: ParticipantId, body: PeppolRequest
) -> JobAccepted:
    job = service().request(
        _user(),
        organisation_id,
        participant_id,
        send=body.send,
        receive=body.receive,
        document_types=body.document_types,
    )
    return JobAccepted(job_id=job.id)


@app.get(
    "/peppol/jobs/<job_id>",
    tags=TAG,
    security=COGNITO,
    summary="A registration job: status, attempts, error and history",
    responses=documented(200, JobOut, 401, 403, 404),
)
def get_job(job_id: JobId) -> JobOut:
    return _job(service().job(_user(), job_id))


@app.post(
    "/organisations/<organisation_id>/peppol/<participant_id>/migration-key",
    status_code=201,
    tags=TAG,
    security=COGNITO,
    summary="A migration key to move the participant to another provider",
    responses=documented(201, MigrationKeyOut, 401, 403, 404, 409, 503, description="Created"),
    middlewares=[_idempotent()],
)
def migration_key(
    organisation_id: OrganisationId, participant_id: ParticipantId, idempotency_key: IDEMPOTENCY_KEY = None
) -> MigrationKeyOut:
    issued = service().migration_key(_user(), organisation_id, participant_id)
    return MigrationKeyOut(migration_key=issued.migration_key, expires_at=issued.expires_at)


@app.post(
    "/organisations/<organisation_id>/peppol/<participant_id>/migration",
    status_code=202,
    tags=TAG,
    security=COGNITO,
    summary="Move the participant here with the migration key of its current provider (a job)",
    responses=documented(
        202, JobAccepted, *BODY_ERRORS, 401, 403, 404, 409, description="Accepted: a job carries it out"
    ),
    middlewares=[_idempotent()],
)
def migrate(
    organisation_id: OrganisationId,
    participant_id: ParticipantId,
    body: MigrationRequest,
    idempotency_key: IDEMPOTENCY_KEY = None,
) -> JobAccepted:
    job = service().migrate(_user(), organisation_id, participant_id, body.migration_key)
    return JobAccepted(job_id=job.id)


@app.post(
    "/admin/peppol/jobs/<job_id>/retry",
    status_code=202,
    tags=ADMIN_TAG,
    security=COGNITO,
    summary="Queue a failed registration job again",
    responses=documented(202, JobAccepted, 401, 403, 404, 409, description="Accepted"),
)
def retry_job(job_id: JobId) -> JobAccepted:
    operator = _operator()
    return JobAccepted(job_id=service().retry(operator.id, job_id).id)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return resolve(app, event, context)
