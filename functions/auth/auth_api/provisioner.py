"""The tenant provisioner: the custom resource of every tenant's stack (``Custom::TenantLogin``)
and, locally, what ``make dev`` calls for each tenant file. A thin adapter: CloudFormation's
request in, ``TenantProvisioning`` called, its answer put to CloudFormation's response URL.

Its answer names the tenant (the physical id is its slug). A set-up that fails answers FAILED
with the reason (a clear sentence: which domain another tenant owns, which environment does
not exist); CloudFormation then rolls the stack back, and the Delete of a resource that was
never made (its physical id marks it) changes nothing.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from auth_api.tenants import TenantProvisioning
from onboarding.adapters.cloudformation import CustomResourceRequest, CustomResourceResponse, respond
from onboarding.adapters.dynamo import Table
from onboarding.adapters.identity import CognitoIdentity
from onboarding.adapters.mailer import SesMailer
from onboarding.adapters.repositories.environments import EnvironmentRepository
from onboarding.adapters.repositories.tenants import TenantRepository
from onboarding.adapters.repositories.users import UserRepository
from onboarding.domain.errors import DomainError
from onboarding.domain.tenancy import TenantDefinition
from onboarding.observability import logger
from onboarding.settings import get_settings

NOT_CREATED = "not-created:"  # the physical id of a set-up that failed: its Delete does nothing


@lru_cache(maxsize=1)
def provisioning() -> TenantProvisioning:
    settings = get_settings()
    table = Table(settings.table.name)
    return TenantProvisioning(
        tenants=TenantRepository(table),
        users=UserRepository(table),
        environments=EnvironmentRepository(table),
        identity=CognitoIdentity(settings.identity.user_pool_id, settings.identity.api_client_id),
        mailer=SesMailer(settings.mail.sender, settings.mail.configuration_set),
        public_url=settings.public_url,
    )


def _problem(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'properties'}: {e['msg']}" for e in exc.errors(include_url=False)
    )


def handle(request: CustomResourceRequest) -> CustomResourceResponse:
    if request.request_type == "Delete":
        physical = request.physical_resource_id or ""
        if not physical.startswith(NOT_CREATED):
            provisioning().take_down(physical)
        return CustomResourceResponse.to(request, physical_resource_id=physical)
    # A failed Create has made nothing; a failed Update keeps what its stack had.
    unchanged = request.physical_resource_id or f"{NOT_CREATED}{request.request_id}"
    try:
        definition = TenantDefinition.model_validate(request.own_properties())
        old = request.own_properties(old=True)
        previous = TenantDefinition.model_validate(old) if old else None
    except ValidationError as exc:
        return CustomResourceResponse.to(
            request,
            physical_resource_id=unchanged,
            failed=True,
            reason=f"Not a valid tenant: {_problem(exc)}",
        )
    if request.physical_resource_id and request.physical_resource_id != definition.slug:
        reason = "A tenant's slug cannot change: add a stack for the new one instead."
        return CustomResourceResponse.to(request, physical_resource_id=unchanged, failed=True, reason=reason)
    try:
        done = provisioning().set_up(definition, previous)
    except DomainError as exc:
        return CustomResourceResponse.to(
            request, physical_resource_id=unchanged, failed=True, reason=exc.message
        )
    return CustomResourceResponse.to(
        request,
        physical_resource_id=done.tenant.slug,
        data={"EnvironmentId": done.tenant.environment_id, "LoginPath": done.tenant.login_path},
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = CustomResourceRequest.model_validate(event)
    try:
        response = handle(request)
    except Exception:
        # An answer must go back whatever happens, or the stack waits an hour for nothing.
        logger.exception("tenant provisioning failed", extra={"request_type": request.request_type})
        response = CustomResourceResponse.to(
            request,
            physical_resource_id=request.physical_resource_id or f"{NOT_CREATED}{request.request_id}",
            failed=True,
            reason="The tenant could not be set up; the tenant provisioner's log says why.",
        )
    logger.info(
        "custom resource answered",
        extra={"request_type": request.request_type, "status": response.status, "reason": response.reason},
    )
    respond(request, response)
    return response.model_dump(by_alias=True)
