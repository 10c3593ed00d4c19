"""One typed settings object per container, read from the environment on first use.

``os.environ`` is read here and nowhere else.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TableSettings(BaseModel):
    model_config = ConfigDict(frozen=True)
    main: str = Field(description="The platform table (users, environments, sign-ups, sentinels)")


class IdentitySettings(BaseModel):
    model_config = ConfigDict(frozen=True)
    user_pool_id: str
    api_client_id: str
    operators_group: str = "operators"


class MailSettings(BaseModel):
    model_config = ConfigDict(frozen=True)
    sender: str
    configuration_set: str | None = None
    per_address_per_hour: int = 5


class AuthSettings(BaseModel):
    model_config = ConfigDict(frozen=True)
    activation_ttl_hours: int = 24
    signups_per_ip_per_hour: int = 100
    terms_version: str = "2026-01"
    terms_url: str = "https://example.org/terms/2026-01"


class OrganisationSettings(BaseModel):
    model_config = ConfigDict(frozen=True)
    kvk_base_url: str = "https://api.kvk.nl/test"
    kvk_api_key: str | None = Field(default=None, description="Only for local runs; AWS uses the secret")
    kvk_api_key_secret_arn: str | None = None
    vies_base_url: str = "https://ec.europa.eu/taxation_customs/vies/rest-api"
    peppol_queue_url: str = ""
    # Organisations an environment may have, per plan.
    plan_limits: dict[str, int] = Field(default_factory=lambda: {"free": 2})


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)
    stage: str = "local"
    region: str = "eu-west-1"
    public_url: str = Field(description="Where users open the app; links in mail point here")
    aws_endpoint_url: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    tables: TableSettings
    identity: IdentitySettings
    mail: MailSettings
    auth: AuthSettings = AuthSettings()
    organisations: OrganisationSettings = OrganisationSettings()


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def cors_origins() -> list[str]:
    """Origins allowed to call the API from a browser (``CORS_ALLOWED_ORIGINS``, comma
    separated; ``*`` when unset). Read at import by the resolver, so kept apart from
    ``get_settings``, which validates everything else on first use."""
    raw = _env("CORS_ALLOWED_ORIGINS", "*") or "*"
    return [origin.strip() for origin in raw.split(",") if origin.strip()] or ["*"]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this container; validated once, on first use."""
    auth_defaults, organisation_defaults = AuthSettings(), OrganisationSettings()
    return Settings(
        stage=_env("STAGE", "local") or "local",
        region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", "eu-west-1")) or "eu-west-1",
        public_url=(_env("PUBLIC_URL", "http://127.0.0.1:3000") or "").rstrip("/"),
        aws_endpoint_url=_env("AWS_ENDPOINT_URL"),
        log_level=_env("LOG_LEVEL", "INFO"),  # type: ignore[arg-type]
        tables=TableSettings(main=_env("MAIN_TABLE", "") or ""),
        identity=IdentitySettings(
            user_pool_id=_env("USER_POOL_ID", "") or "",
            api_client_id=_env("API_CLIENT_ID", "") or "",
        ),
        mail=MailSettings(
            sender=_env("MAIL_SENDER", "") or "",
            configuration_set=_env("MAIL_CONFIGURATION_SET"),
            per_address_per_hour=int(_env("MAIL_PER_ADDRESS_PER_HOUR", "5") or 5),
        ),
        organisations=OrganisationSettings(
            kvk_base_url=_env("KVK_BASE_URL", organisation_defaults.kvk_base_url) or "",
            kvk_api_key=_env("KVK_API_KEY"),
            kvk_api_key_secret_arn=_env("KVK_API_KEY_SECRET_ARN"),
            vies_base_url=_env("VIES_BASE_URL", organisation_defaults.vies_base_url) or "",
            peppol_queue_url=_env("PEPPOL_QUEUE_URL", "") or "",
            plan_limits={"free": int(_env("FREE_PLAN_ORGANISATIONS", "2") or 2)},
        ),
        auth=AuthSettings(
            activation_ttl_hours=int(_env("ACTIVATION_TTL_HOURS", "24") or 24),
            signups_per_ip_per_hour=int(_env("SIGNUPS_PER_IP_PER_HOUR", "100") or 100),
            terms_version=_env("TERMS_VERSION", auth_defaults.terms_version) or auth_defaults.terms_version,
            terms_url=_env("TERMS_URL", auth_defaults.terms_url) or auth_defaults.terms_url,
        ),
    )
