"""The tenant provisioner: the custom resource of every tenant's stack (``Custom::TenantLogin``)
and, locally, what ``make dev`` calls for each tenant file. A thin adapter: CloudFormation's
request in, ``TenantProvisioning`` called, its answer put to CloudFormation's response URL.

Its answer names the tenant (the physical id is its slug). A set-up that fails answers FAILED
with the reason (a clear sentence: which domain another tenant owns, which environment does
not exist); CloudFormation then rolls the stack back: the Delete of a resource that was never
made (its physical id marks it) changes nothing, and one that was partly made (it failed after
its record was written) is taken down. A tenant's record names the resource that manages it,
so only that resource's Delete takes it down (a resource replaced by another of the stack, say).
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


def _manager(request: CustomResourceRequest) -> str:
    """The resource that asks: its stack and logical id (what a tenant's record keeps)."""
    return f"{request.stack_id}|{request.logical_resource_id}"


def _made_here(request: CustomResourceRequest, definition: TenantDefinition) -> bool:
    """Whether this request's set-up was written before it failed (so that CloudFormation's
    rollback, the Delete of this physical id, takes it down again)."""
    stored = provisioning().tenants.get(definition.slug)
    return (
        stored is not None
        and stored.managed_by == _manager(request)
        and stored.client_id == definition.client_id
    )


def handle(request: CustomResourceRequest) -> CustomResourceResponse:
    if request.request_type == "Delete":
        physical = request.physical_resource_id or ""
        if not physical.startswith(NOT_CREATED):
            provisioning().take_down(physical, managed_by=_manager(request))
        return CustomResourceResponse.to(request, physical_resource_id=physical)
    # A Create that failed before it wrote anything has made nothing; an Update keeps its id.
    unchanged = request.physical_resource_id or f"{NOT_CREATED}{request.request_id}"
    try:
        definition = TenantDefinition.model_validate(request.own_properties())
    except ValidationError as exc:
        reason = f"Not a valid tenant: {_problem(exc)}"
        return CustomResourceResponse.to(request, physical_resource_id=unchanged, failed=True, reason=reason)
    if request.physical_resource_id and request.physical_resource_id != definition.slug:
        reason = "A tenant's slug cannot change: add a stack for the new one instead."
        return CustomResourceResponse.to(request, physical_resource_id=unchanged, failed=True, reason=reason)
    try:
        done = provisioning().set_up(definition, managed_by=_manager(request))
    except Exception as exc:
        # Written before it failed (its people partly restricted, say): the rollback takes it down.
        physical = definition.slug if _made_here(request, definition) else unchanged
        if isinstance(exc, DomainError):
            return CustomResourceResponse.to(
                request, physical_resource_id=physical, failed=True, reason=exc.message
            )
        logger.exception("tenant provisioning failed", extra={"tenant": definition.slug})
        reason = "The tenant could not be set up; the tenant provisioner's log says why."
        return CustomResourceResponse.to(request, physical_resource_id=physical, failed=True, reason=reason)
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
