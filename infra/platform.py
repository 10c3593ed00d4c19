"""The platform, described once: functions, their routes (from the OpenAPI document the
resolvers generate), the table, the queues, and which function may touch what.

Both renderings read this: ``infra.stack`` (CDK) and ``infra.local`` (moto + HTTP). It
imports neither CDK nor the functions' code, only their paths.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

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


# The table layout is the layer's own (onboarding.adapters.dynamo); repeated here as plain
# values because infra must not import function code. A test pins the two together.
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
    table=TableSpec(
        name="main",
        partition_key="pk",
        sort_key="sk",
        ttl_attribute="expires_ttl",
        indexes=(
            IndexSpec("by_token_hash", "token_hash"),
            IndexSpec("by_review_queue", "review_queue", "requested_at"),
        ),
    ),
    queues=(QueueSpec(name="peppol-registrations"),),
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
