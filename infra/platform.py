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
from onboarding.domain import linking

ROOT = Path(__file__).resolve().parent.parent
LAYER_SOURCE = ROOT / "layers" / "common" / "python"
OPENAPI_FILE = LAYER_SOURCE / "onboarding" / "web" / "openapi.json"


@dataclass(frozen=True)
class QueueSource:
    """Lambda polls a queue and invokes the function with batches of its messages; the
    function reports the records that failed (``ReportBatchItemFailures``)."""

    queue: str  # a name of PLATFORM.queues
    batch_size: int = 10
    # At most this many batches at once: what the SMP behind the worker is asked to bear
    # (batch_size jobs per batch run at the same time). 2 is Lambda's minimum.
    max_concurrency: int = 2


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    source: Path  # the asset folder; the handler's package sits right inside it
    handler: str  # module.attribute that Lambda calls
    # module:attribute of the Powertools resolver (OpenAPI); None: no HTTP routes (a queue's,
    # a schedule's or the user pool's function)
    app: str | None = None
    memory_mb: int = 512
    timeout_seconds: int = 10
    description: str = ""
    # What starts it besides API routes: a queue's messages, or a schedule.
    queue_source: QueueSource | None = None
    schedule_minutes: int | None = None
    # What the function may do; the CDK grants exactly this.
    table_access: str = "read_write"  # read | read_write | none
    cognito_actions: tuple[str, ...] = ()
    sends_mail: bool = False
    sends_to_queues: tuple[str, ...] = ()  # names of PLATFORM.queues
    reads_secrets: tuple[str, ...] = ()  # names of SECRETS
    # The user pool triggers it serves (USER_POOL_TRIGGERS); such a function gets only the
    # settings in ``settings`` (the pool names it, so it cannot name the pool: a cycle).
    user_pool_triggers: tuple[str, ...] = ()
    settings: tuple[str, ...] | None = None  # the settings groups it gets; None: all


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
    visibility_timeout_seconds: int = 360  # at least six times its consumer's timeout (AWS's advice)
    # FIFO: one message group per participant (never two of its jobs at once), deduplication
    # per job sending. Its dead-letter queue is FIFO as well, as SQS requires.
    fifo: bool = False
    # Locally a failed message comes back after this, not after minutes (README, Local run).
    local_visibility_timeout_seconds: int = 10

    @property
    def suffix(self) -> str:
        """What SQS requires at the end of the queue's name."""
        return ".fifo" if self.fifo else ""

    def watchdog_seconds(self, visibility_timeout_seconds: int) -> int:
        """After this long a message sent and never finished has certainly run out of
        deliveries (one visibility timeout per delivery, and one to spare)."""
        return visibility_timeout_seconds * (self.max_receive_count + 1)


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
            name="auth-triggers",
            source=ROOT / "functions" / "auth",
            handler="auth_api.triggers.lambda_handler",
            description="auth-triggers (user pool triggers)",
            timeout_seconds=5,  # Cognito waits 5 seconds for a trigger, whatever Lambda allows
            cognito_actions=("cognito-idp:AdminLinkProviderForUser", "cognito-idp:AdminGetUser"),
            user_pool_triggers=("PreSignUp", "PreAuthentication", "PreTokenGeneration"),
            settings=("table",),
        ),
        FunctionSpec(
            name="tenant-provisioner",
            source=ROOT / "functions" / "auth",
            handler="auth_api.provisioner.lambda_handler",
            description="Sets up and takes down a restricted tenant's login (its stack's custom resource)",
            # It restricts every account of the tenant's environment and domains, one by one.
            timeout_seconds=300,
            cognito_actions=("cognito-idp:AdminUserGlobalSignOut",),  # what its people had is revoked
            sends_mail=True,  # the tenant's first admins learn their login URL
        ),
        FunctionSpec(
            name="federation",
            source=ROOT / "functions" / "federation",
            handler="federation_api.handler.lambda_handler",
            app="federation_api.handler:app",
            reads_secrets=("federation-client-secret", "federation-signing-keys", "microsoft-client-secret"),
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
        FunctionSpec(
            name="peppol",
            source=ROOT / "functions" / "peppol",
            handler="peppol_api.handler.lambda_handler",
            app="peppol_api.handler:app",
            timeout_seconds=20,  # a migration key is asked from the SMP while the caller waits
            description="Peppol registration API",
            sends_to_queues=("peppol-registrations",),
            reads_secrets=("smp-credentials",),
        ),
        FunctionSpec(
            name="peppol-worker",
            source=ROOT / "functions" / "peppol",
            handler="peppol_api.worker.lambda_handler",
            # A job makes a handful of SMP calls of at most SMP_TIMEOUT_SECONDS each.
            timeout_seconds=60,
            description="Peppol worker: carries out registration jobs at the SMP",
            queue_source=QueueSource(queue="peppol-registrations", batch_size=10, max_concurrency=2),
            reads_secrets=("smp-credentials",),
        ),
        FunctionSpec(
            name="peppol-sweeper",
            source=ROOT / "functions" / "peppol",
            handler="peppol_api.sweeper.lambda_handler",
            timeout_seconds=60,
            description="Peppol outbox sweeper: sends unsent registration jobs, fails unfinished ones",
            schedule_minutes=1,
            sends_to_queues=("peppol-registrations",),
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
    queues=(QueueSpec(name="peppol-registrations", fifo=True, visibility_timeout_seconds=360),),
    operators_group="operators",
    cors_allowed_headers=("Authorization", "Content-Type", "Idempotency-Key", "Accept-Language"),
)


# How long the user pool's refresh tokens live (every app client): the API keeps which client
# issued a tenant login's refresh token for as long.
REFRESH_TOKEN_DAYS = 30

# The user pool's password minimum: the API's own rule (onboarding.domain.rules, which also
# refuses common passwords); Cognito must never be stricter. A test pins the two together.
PASSWORD_MIN_LENGTH = 12

# Secrets the functions (or the user pool's identity providers) read; ops set their values
# (never in code or templates), except the generated ones.
SECRETS = {
    "kvk-api-key": "The KvK API key (header apikey) for Zoeken and Basisprofiel",
    "smp-credentials": 'The SMP\'s REST API login: JSON {"username", "password"} or {"token"}',
    "google-client-secret": "The Google OAuth client's secret (the pool's Google provider)",
    "apple-private-key": "The Sign in with Apple private key, PEM (the pool's Apple provider)",
    "microsoft-client-secret": "The Entra ID app registration's client secret (the Microsoft bridge)",
    "federation-signing-keys": "The Microsoft bridge's signing keys, a JWK set (make signing-keys)",
    "federation-client-secret": "The user pool's client secret at the Microsoft bridge (generated)",
}
GENERATED_SECRETS = frozenset({"federation-client-secret"})

# Where Lambda triggers of the user pool go, by name (the CDK maps them to its operations).
USER_POOL_TRIGGERS = ("PreSignUp", "PreAuthentication", "PreTokenGeneration")


@dataclass(frozen=True)
class IdentityProviderSpec:
    """A login provider of the user pool: its name there, how it is built, which of its claims
    go into which pool attribute (``onboarding.domain.linking`` names the attributes the
    linking rule reads), and the secrets it needs. Rendered by the CDK and by the local
    stand-in of Cognito alike."""

    provider: str  # linking.Provider.id
    cognito_name: str
    kind: str  # google | apple | oidc
    attribute_mapping: Mapping[str, str]  # pool attribute -> the provider's claim
    scopes: tuple[str, ...]
    secrets: tuple[str, ...] = ()


IDENTITY_PROVIDERS = (
    IdentityProviderSpec(
        provider=linking.GOOGLE.id,
        cognito_name=linking.GOOGLE.cognito_name,
        kind="google",
        attribute_mapping={
            linking.EMAIL: "email",
            linking.NAME: "name",
            linking.EMAIL_VERIFIED: "email_verified",
            linking.GOOGLE_HD: "hd",
        },
        scopes=("openid", "email", "profile"),
        secrets=("google-client-secret",),
    ),
    IdentityProviderSpec(
        provider=linking.APPLE.id,
        cognito_name=linking.APPLE.cognito_name,
        kind="apple",
        attribute_mapping={
            linking.EMAIL: "email",
            linking.NAME: "name",
            linking.EMAIL_VERIFIED: "email_verified",
            linking.APPLE_PRIVATE: "is_private_email",
        },
        scopes=("email", "name"),
        secrets=("apple-private-key",),
    ),
    IdentityProviderSpec(
        provider=linking.MICROSOFT.id,
        cognito_name=linking.MICROSOFT.cognito_name,
        kind="oidc",  # the bridge (functions/federation), see the README
        attribute_mapping={linking.EMAIL: "email", linking.NAME: "name", linking.MS_EDOV: "xms_edov"},
        scopes=("openid", "email", "profile"),
        secrets=("federation-client-secret", "federation-signing-keys", "microsoft-client-secret"),
    ),
)


def identity_provider(provider: str) -> IdentityProviderSpec:
    return next(p for p in IDENTITY_PROVIDERS if p.provider == provider)


def mapped_attributes(providers: tuple[IdentityProviderSpec, ...] = IDENTITY_PROVIDERS) -> tuple[str, ...]:
    """Every pool attribute a provider writes at sign-in: Cognito requires each of them in the
    WriteAttributes of the client that signs in through the provider."""
    return tuple(sorted({attribute for p in providers for attribute in p.attribute_mapping}))


def custom_attributes() -> tuple[str, ...]:
    """The custom attributes the pool needs (without ``custom:``)."""
    return tuple(a.removeprefix("custom:") for a in mapped_attributes() if a.startswith("custom:"))


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
# The Microsoft bridge's OpenID provider endpoints (called by the user pool and browsers, in
# OAuth's own protocol and error shape): routes, but not part of the API's document.
BRIDGE = "/federation/microsoft"
PROTOCOL_ROUTES = (
    Route("GET", f"{BRIDGE}/.well-known/openid-configuration", "federation", False),
    Route("GET", f"{BRIDGE}/jwks.json", "federation", False),
    Route("GET", f"{BRIDGE}/authorize", "federation", False),
    Route("GET", f"{BRIDGE}/callback", "federation", False),
    Route("POST", f"{BRIDGE}/token", "federation", False),
    Route("GET", f"{BRIDGE}/userinfo", "federation", False),
)


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
    return (*found, *DOCUMENT_ROUTES, *PROTOCOL_ROUTES)


def function(name: str) -> FunctionSpec:
    return next(f for f in PLATFORM.functions if f.name == name)


def queue(name: str) -> QueueSpec:
    return next(q for q in PLATFORM.queues if q.name == name)


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
    web_client_id: str | None = None  # the hosted (federated) login's client
    hosted_domain: str | None = None  # https://<prefix>.auth.<region>.amazoncognito.com
    # Where a rendering gives a queue another visibility timeout than the description (locally).
    queue_visibility_seconds: Mapping[str, int] = field(default_factory=dict)


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
            "web_client_id": resources.web_client_id,
            "hosted_domain": resources.hosted_domain,
        },
        "mail": {"sender": resources.mail_sender, "configuration_set": resources.mail_configuration_set},
        "federation": {"refresh_token_days": REFRESH_TOKEN_DAYS},
        "peppol": _peppol_settings(resources),
        "kvk": {"api_key_secret_arn": resources.secret_arns.get("kvk-api-key")},
        "smp": {"credentials_secret_arn": resources.secret_arns.get("smp-credentials")},
        "bridge": {
            "client_secret_arn": resources.secret_arns.get("federation-client-secret"),
            "signing_keys_secret_arn": resources.secret_arns.get("federation-signing-keys"),
            "microsoft_client_secret_arn": resources.secret_arns.get("microsoft-client-secret"),
        },
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


def environment_of(spec: FunctionSpec, environment: Mapping[str, str]) -> dict[str, str]:
    """What of the functions' environment ``spec`` gets: everything, or only the variables of
    its ``settings`` groups."""
    if spec.settings is None:
        return dict(environment)
    prefixes = tuple(settings.variable(group) + "_" for group in spec.settings)
    return {name: value for name, value in environment.items() if name.startswith(prefixes)}


def _peppol_settings(resources: Resources) -> dict[str, Any]:
    """The worker's view of its queue: when a delivery is the last, and when a job that was
    sent has certainly run out of deliveries."""
    registrations = queue("peppol-registrations")
    visibility = resources.queue_visibility_seconds.get(
        registrations.name, registrations.visibility_timeout_seconds
    )
    return {
        "queue_url": resources.queue_urls[registrations.name],
        "max_receive_count": registrations.max_receive_count,
        "watchdog_seconds": registrations.watchdog_seconds(visibility),
    }
