"""The peppol functions' adapters, built once per container from the settings: the API
handler, the worker and the sweeper are each a composition root over these."""

from __future__ import annotations

import json
from functools import lru_cache

from pydantic import ValidationError

from onboarding.adapters.dynamo import Table
from onboarding.adapters.queue import RegistrationQueue
from onboarding.adapters.repositories.jobs import RegistrationJobRepository
from onboarding.adapters.repositories.organisations import OrganisationRepository
from onboarding.adapters.secrets import secret_string
from onboarding.adapters.sml import DnsSmlLookup
from onboarding.adapters.smp import BasicAuth, BearerToken, SmpAuth, SmpClient
from onboarding.domain.peppol import AccessPointEndpoint
from onboarding.settings import get_settings
from peppol_api.registrar import NotConfigured


@lru_cache(maxsize=1)
def table() -> Table:
    return Table(get_settings().table.name)


def organisations() -> OrganisationRepository:
    return OrganisationRepository(table())


def jobs() -> RegistrationJobRepository:
    return RegistrationJobRepository(table())


@lru_cache(maxsize=1)
def queue() -> RegistrationQueue:
    return RegistrationQueue(get_settings().peppol.queue_url)


def _credentials() -> SmpAuth:
    """In AWS from the secret (JSON: ``{"username", "password"}`` or ``{"token"}``), read on
    the first SMP write; locally from ``SMP_TOKEN`` or ``SMP_USERNAME``/``SMP_PASSWORD``."""
    smp = get_settings().smp
    if smp.credentials_secret_arn:
        return _secret_credentials(smp.credentials_secret_arn)
    if smp.token:
        return BearerToken(smp.token)
    return BasicAuth(smp.username or "", smp.password or "")


def _secret_credentials(secret_id: str) -> SmpAuth:
    """The secret's credentials: a token wins over a username and password. ``NotConfigured``
    (the jobs fail with that reason, never with the secret's text) when it holds neither."""
    try:
        values = json.loads(secret_string(secret_id))
    except ValueError:
        values = None
    if isinstance(values, dict):
        token, username, password = (values.get(name) for name in ("token", "username", "password"))
        if isinstance(token, str) and token:
            return BearerToken(token)
        if isinstance(username, str) and username and isinstance(password, str) and password:
            return BasicAuth(username, password)
    secret_string.cache_clear()  # read it afresh next time: it is probably being put right
    raise NotConfigured(
        "The SMP credentials secret (SMP_CREDENTIALS_SECRET_ARN) must be a JSON object with a "
        '"token", or a "username" and a "password".'
    )


@lru_cache(maxsize=1)
def smp() -> SmpClient:
    settings = get_settings().smp
    if not settings.base_url:
        raise NotConfigured("SMP_BASE_URL is not set: the platform does not know its SMP.")
    return SmpClient(
        settings.base_url,
        _credentials,
        timeout=settings.timeout_seconds,
        connect_timeout=min(settings.timeout_seconds, 3.0),
    )


@lru_cache(maxsize=1)
def sml() -> DnsSmlLookup | None:
    settings = get_settings().sml
    if not settings.lookup:
        return None
    return DnsSmlLookup(
        settings.zone,
        nameservers=settings.nameservers or None,
        port=settings.port,
        timeout=settings.timeout_seconds,
        lifetime=settings.timeout_seconds * 2,
    )


@lru_cache(maxsize=1)
def endpoint() -> AccessPointEndpoint:
    """The access point every service metadata record publishes; ``NotConfigured`` if it is
    not set up (the receive registrations fail with that reason until it is)."""
    access_point = get_settings().access_point
    if not access_point.url or not access_point.certificate:
        raise NotConfigured(
            "The access point is not configured: set ACCESS_POINT_URL and ACCESS_POINT_CERTIFICATE."
        )
    try:
        return AccessPointEndpoint(
            url=access_point.url,
            certificate=access_point.certificate,
            service_description=access_point.service_description,
            technical_contact_url=access_point.technical_contact,
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise NotConfigured(f"The access point's settings are not valid: {problems}") from exc
