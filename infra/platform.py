"""The platform, described once: functions, their routes (from the OpenAPI document the
resolvers generate), the table, the queues, the operators group, the CORS headers, the
functions' settings, and which function may touch what.

Both renderings read this: ``infra.stack`` (CDK) and ``infra.local`` (moto + HTTP). It
imports neither CDK nor the functions' code, only their paths; the table layout and the
settings model come from the common layer, where the code that uses them lives.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from onboarding import settings
from onboarding.adapters import dynamo

ROOT = Path(__file__).resolve().parent.parent
LAYER_SOURCE = ROOT / "layers" / "common" / "python"
OPENAPI_FILE = LAYER_SOURCE / "onboarding" / "web" / "openapi.json"


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    source: Path  # the asset folder; the handler's package sits right inside it
    handler: str  # module.attribute that Lambda calls
    app: str  # module:attribute of the Powertools resolver (for the OpenAPI document)
    memory_mb: int = 512
    timeout_seconds: int = 10
    # What the function may do; the CDK grants exactly this.
    table_access: str = "read_write"  # read | read_write | none
    cognito_actions: tuple[str, ...] = ()
    sends_mail: bool = False
    sends_to_queues: tuple[str, ...] = ()  # names of PLATFORM.queues
    reads_secrets: tuple[str, ...] = ()  # names of SECRETS


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: str
    sort_key: str | None = None


@dataclass(frozen=True)
class TableSpec:
    name: str
    partition_key: str
    sort_key: str
    ttl_attribute: str
    indexes: tuple[IndexSpec, ...] = ()


@dataclass(frozen=True)
class QueueSpec:
    name: str
    max_receive_count: int = 5
    visibility_timeout_seconds: int = 360


@dataclass(frozen=True)
class PlatformSpec:
    functions: tuple[FunctionSpec, ...]
    table: TableSpec
    queues: tuple[QueueSpec, ...] = field(default=())
    operators_group: str = "operators"
    # Headers a browser may send across origins (the API Gateway preflight, the local
    # runner's preflight, and the functions' own CORS answers).
    cors_allowed_headers: tuple[str, ...] = ()


PLATFORM = PlatformSpec(
    functions=(
        FunctionSpec(
            name="auth",
            source=ROOT / "functions" / "auth",
            handler="auth_api.handler.lambda_handler",
            app="auth_api.handler:app",
            cognito_actions=(
                "cognito-idp:AdminCreateUser",
                "cognito-idp:AdminSetUserPassword",
                "cognito-idp:AdminDeleteUser",
                "cognito-idp:AdminInitiateAuth",
                "cognito-idp:AdminUserGlobalSignOut",
            ),
            sends_mail=True,
        ),
        FunctionSpec(
            name="organisations",
            source=ROOT / "functions" / "organisations",
            handler="organisations_api.handler.lambda_handler",
            app="organisations_api.handler:app",
            timeout_seconds=20,  # a KvK or VIES call may take seconds
            sends_to_queues=("peppol-registrations",),
            reads_secrets=("kvk-api-key",),
        ),
    ),
    # The layout is the layer's own (onboarding.adapters.dynamo), where the repositories use it.
    table=TableSpec(
        name="main",
        partition_key=dynamo.PK,
        sort_key=dynamo.SK,
        ttl_attribute=dynamo.TTL_ATTRIBUTE,
        indexes=tuple(IndexSpec(*index) for index in dynamo.INDEXES),
    ),
    queues=(QueueSpec(name="peppol-registrations"),),
    operators_group="operators",
    cors_allowed_headers=("Authorization", "Content-Type", "Idempotency-Key", "Accept-Language"),
)


# The user pool's password minimum: the API's own rule (onboarding.domain.rules, which also
# refuses common passwords); Cognito must never be stricter. A test pins the two together.
PASSWORD_MIN_LENGTH = 12

# Secrets the functions read; ops set their values (never in code or templates).
SECRETS = {"kvk-api-key": "The KvK API key (header apikey) for Zoeken and Basisprofiel"}


@dataclass(frozen=True)
class Route:
    method: str  # upper case
    path: str  # API Gateway form: /organisations/{id}
    function: str
    secured: bool

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(self.path))
        return re.compile(f"^{regex}$")


# Served by the auth function but kept out of the document itself.
DOCUMENT_ROUTES = (Route("GET", "/openapi.json", "auth", False), Route("GET", "/docs", "auth", False))


@lru_cache(maxsize=1)
def routes() -> tuple[Route, ...]:
    """Every route of the API, read from the committed OpenAPI document."""
    document = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    found: list[Route] = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            found.append(
                Route(method.upper(), path, operation["x-function"], bool(operation.get("security")))
            )
    return (*found, *DOCUMENT_ROUTES)


def function(name: str) -> FunctionSpec:
    return next(f for f in PLATFORM.functions if f.name == name)


def resource_name(prefix: str, stage: str, name: str) -> str:
    return f"{prefix}-{stage}-{name}"


@dataclass(frozen=True)
class Resources:
    """What a rendering created (or, in CDK, the tokens that will name it): what the
    functions' settings point at."""

    public_url: str
    table_name: str
    user_pool_id: str
    api_client_id: str
    mail_sender: str
    queue_urls: Mapping[str, str]
    mail_configuration_set: str | None = None
    secret_arns: Mapping[str, str] = field(default_factory=dict)
    cors_origins: tuple[str, ...] = ("*",)


def function_environment(
    resources: Resources, stage_settings: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The functions' environment, the same in both renderings: the settings that point at
    the platform's resources, plus ``stage_settings`` (nested like ``onboarding.settings``)."""
    values: dict[str, Any] = {
        "public_url": resources.public_url,
        "table": {"name": resources.table_name},
        "identity": {
            "user_pool_id": resources.user_pool_id,
            "api_client_id": resources.api_client_id,
            "operators_group": PLATFORM.operators_group,
        },
        "mail": {"sender": resources.mail_sender, "configuration_set": resources.mail_configuration_set},
        "peppol": {"queue_url": resources.queue_urls["peppol-registrations"]},
        "kvk": {"api_key_secret_arn": resources.secret_arns.get("kvk-api-key")},
        "cors": {
            "allowed_origins": list(resources.cors_origins),
            "allowed_headers": list(PLATFORM.cors_allowed_headers),
        },
    }
    for group, entries in (stage_settings or {}).items():
        if isinstance(entries, Mapping):
            values[group] = {**values.get(group, {}), **entries}
        else:
            values[group] = entries
    return settings.environment(values)
