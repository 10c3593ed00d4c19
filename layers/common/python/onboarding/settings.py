"""One typed settings object per container, read from the environment on first use.

The model is the one description of the configuration: every setting's environment variable
is derived from its place in the model (``mail.sender`` is ``MAIL_SENDER``, ``public_url`` is
``PUBLIC_URL``) and its default is written here only. ``environment()`` goes the other way, for
the two renderings that set the variables (the CDK app and the local runner), so a misspelt
setting fails there instead of being silently ignored. ``os.environ`` is read here and nowhere
else.

Why not pydantic-settings, which does the same: importing it added about 80 ms (13%) to a
handler's cold start on the development machine, for what ``_read`` does in a few lines.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from onboarding.domain.rules import CURRENT_TERMS_VERSION


class Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _split(value: Any) -> Any:
    """Lists travel as comma-separated values in the environment."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class TableSettings(Part):
    name: str = Field(description="The platform table (every aggregate, one key layout)")


class IdentitySettings(Part):
    user_pool_id: str
    api_client_id: str
    operators_group: str = Field(description="The user pool group of platform staff")
    web_client_id: str | None = Field(
        default=None, description="The app client of the hosted (federated) login; none: no federated login"
    )
    hosted_domain: str | None = Field(
        default=None,
        description="The user pool's hosted domain, https://<prefix>.auth.<region>.amazoncognito.com",
    )
    jwks_url: str | None = Field(
        default=None,
        description="The pool's signing keys; only set where they are not at cognito-idp (local)",
    )

    def issuer(self, region: str) -> str:
        return f"https://cognito-idp.{region}.amazonaws.com/{self.user_pool_id}"

    def keys_url(self, region: str) -> str:
        return self.jwks_url or f"{self.issuer(region)}/.well-known/jwks.json"


class FederationSettings(Part):
    providers: list[str] = Field(
        default_factory=list,
        description="The login providers this deployment offers: google, microsoft, apple",
    )
    login_ttl_seconds: int = Field(default=600, description="How long a started login may take")
    session_ttl_seconds: int = Field(default=60, description="How long a #session code is valid")
    refresh_token_days: int = Field(
        default=30, description="How long the user pool's refresh tokens live (its app clients' setting)"
    )

    @field_validator("providers", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split(value)


class BridgeSettings(Part):
    """The OIDC bridge that Cognito trusts as its "Microsoft" provider (see the README)."""

    client_id: str = Field(default="cognito", description="Cognito's client id at the bridge")
    client_secret_arn: str | None = Field(default=None, description="Cognito's client secret at the bridge")
    signing_keys_secret_arn: str | None = Field(
        default=None, description="The bridge's signing keys (a JWK set)"
    )
    microsoft_client_id: str | None = Field(default=None, description="The Entra ID app registration")
    microsoft_client_secret_arn: str | None = None
    microsoft_authority: str = Field(
        default="https://login.microsoftonline.com",
        description="Entra ID; locally the local identity provider",
    )


class MailSettings(Part):
    sender: str
    configuration_set: str | None = None
    per_address_per_hour: int = Field(
        default=5, description="Further mails to one address are dropped silently"
    )


class SignupSettings(Part):
    activation_ttl_hours: int = 24
    per_ip_per_hour: int = Field(
        default=100, description="Sign-ups and resends from one client IP (then 429)"
    )


class TermsSettings(Part):
    version: str = Field(default=CURRENT_TERMS_VERSION, description="Users accept exactly this version")
    url: str = "https://example.org/terms/2026-01"


class KvkSettings(Part):
    base_url: str = "https://api.kvk.nl/test"
    api_key: str | None = Field(default=None, description="Only for local runs; AWS uses the secret")
    api_key_secret_arn: str | None = None


class ViesSettings(Part):
    base_url: str = "https://ec.europa.eu/taxation_customs/vies/rest-api"


class PeppolSettings(Part):
    queue_url: str = Field(description="The Peppol registration queue")
    max_receive_count: int = Field(
        default=5, description="Deliveries of a job's message before it goes to the dead-letter queue"
    )
    watchdog_seconds: int = Field(
        default=2160,
        description="A job sent this long ago and still not final is failed by the outbox sweeper",
    )
    directory: bool = Field(default=True, description="Publish business cards in the Peppol Directory")
    migration_key_days: int = Field(
        default=14, description="How long a migration key handed out for moving away is valid (our policy)"
    )


class SmpSettings(Part):
    base_url: str | None = Field(default=None, description="The phoss-smp REST API")
    public_url: str | None = Field(
        default=None, description="The SMP's URL as the SML publishes it; default: base_url"
    )
    username: str | None = Field(default=None, description="HTTP Basic user (local runs; AWS: the secret)")
    password: str | None = Field(default=None, description="Only for local runs; AWS uses the secret")
    token: str | None = Field(default=None, description="A phoss-smp user token instead of Basic")
    credentials_secret_arn: str | None = None
    timeout_seconds: float = Field(default=5.0, description="Per SMP call (read/write)")

    def own_urls(self) -> list[str]:
        return [url for url in (self.public_url, self.base_url) if url]


class SmlSettings(Part):
    lookup: bool = Field(default=True, description="Look a participant up in the SML before registering it")
    # onboarding.domain.peppol.SML_ZONE_TEST (written out: importing the Peppol rules here would
    # cost every function's cold start; a unit test keeps the two equal).
    zone: str = Field(default="participant.sml.test.tech.peppol.org", description="The SML's DNS zone")
    nameservers: list[str] = Field(default_factory=list, description="Empty: the system resolver")
    port: int = 53
    timeout_seconds: float = 2.0

    @field_validator("nameservers", mode="before")
    @classmethod
    def _list(cls, value: Any) -> Any:
        return _split(value)


class AccessPointSettings(Part):
    """The access point every service metadata record points senders at."""

    url: str | None = Field(default=None, description="Its AS4 endpoint (https)")
    certificate: str | None = Field(default=None, description="Its Peppol AP certificate (base64 DER or PEM)")
    service_description: str = "Peppol access point"
    technical_contact: str = Field(default="mailto:peppol@example.org", description="mailto: or https URL")


class PlanSettings(Part):
    free_organisations: int = Field(
        default=2, description="Organisations an environment on the free plan may have"
    )

    def organisation_limit(self, plan: str) -> int:
        return {"free": self.free_organisations}.get(plan, 0)


class CorsSettings(Part):
    allowed_origins: list[str] = Field(default_factory=lambda: ["*"])
    allowed_headers: list[str] = Field(default_factory=list)

    @field_validator("allowed_origins", "allowed_headers", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split(value)


class Settings(Part):
    public_url: str = Field(default="http://127.0.0.1:3000", description="Where users open the app")
    region: str = "eu-west-1"
    table: TableSettings
    identity: IdentitySettings
    mail: MailSettings
    signups: SignupSettings = SignupSettings()
    terms: TermsSettings = TermsSettings()
    kvk: KvkSettings = KvkSettings()
    vies: ViesSettings = ViesSettings()
    peppol: PeppolSettings
    smp: SmpSettings = SmpSettings()
    sml: SmlSettings = SmlSettings()
    access_point: AccessPointSettings = AccessPointSettings()
    plan: PlanSettings = PlanSettings()
    cors: CorsSettings = CorsSettings()
    federation: FederationSettings = FederationSettings()
    bridge: BridgeSettings = BridgeSettings()

    @field_validator("public_url")
    @classmethod
    def _without_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


# Where a setting's variable is not derived from its name: AWS's own.
_OWN_NAMES = {"region": ("AWS_REGION", "AWS_DEFAULT_REGION")}
Model = TypeVar("Model", bound=BaseModel)


def variable(path: str) -> str:
    """The environment variable of a setting: ``mail.sender`` -> ``MAIL_SENDER``."""
    return path.replace(".", "_").upper()


def _read(model: type[Model], prefix: str = "") -> dict[str, Any]:
    """The values of ``model``'s fields that the environment sets (defaults stay the model's)."""
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            nested = _read(annotation, f"{path}.")
            if nested or field.is_required():
                values[name] = nested
            continue
        for candidate in _OWN_NAMES.get(path, (variable(path),)):
            raw = os.environ.get(candidate)
            if raw not in (None, ""):
                values[name] = raw
                break
    return values


def variables(model: type[BaseModel] | None = None, prefix: str = "") -> dict[str, Any]:
    """Every setting's environment variable and its default (``None``: required), for docs
    and for tests that start a clean platform."""
    found: dict[str, Any] = {}
    for name, field in (model or Settings).model_fields.items():
        path = f"{prefix}{name}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.update(variables(annotation, f"{path}."))
        else:
            default = None if field.is_required() else field.get_default(call_default_factory=True)
            for candidate in _OWN_NAMES.get(path, (variable(path),)):
                found[candidate] = default
    return found


def environment(values: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """The variables that set ``values`` (nested like ``Settings``); ``KeyError`` for a
    setting that does not exist. Values may be CDK tokens, so they are not validated here."""
    found: dict[str, str] = {}
    model_fields = _fields_at(prefix)
    for name, value in values.items():
        if name not in model_fields:
            raise KeyError(f"there is no setting {prefix}{name}")
        if value is None:
            continue
        if isinstance(value, Mapping):
            found.update(environment(value, f"{prefix}{name}."))
        else:
            text = ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
            found[variable(f"{prefix}{name}")] = text
    return found


def _fields_at(prefix: str) -> Mapping[str, Any]:
    model: type[BaseModel] = Settings
    for part in filter(None, prefix.rstrip(".").split(".")):
        annotation = model.model_fields[part].annotation
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation
    return model.model_fields


def region() -> str:
    """The AWS region, without validating the rest (a Cognito trigger has only its table)."""
    for name in _OWN_NAMES["region"]:
        if os.environ.get(name):
            return os.environ[name]
    return str(Settings.model_fields["region"].get_default())


def table_settings() -> TableSettings:
    """The table alone: all a Cognito trigger gets (its user pool id would make a CloudFormation
    cycle: the pool names the trigger, so the trigger cannot name the pool)."""
    return TableSettings.model_validate(_read(TableSettings, "table."))


def cors_settings() -> CorsSettings:
    """Read at import by the resolvers, so kept apart from ``get_settings``, which validates
    everything else on first use."""
    return CorsSettings.model_validate(_read(CorsSettings, "cors."))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this container; validated once, on first use."""
    return Settings.model_validate(_read(Settings))
