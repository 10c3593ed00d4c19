"""Deployment configuration: one typed object per stage, from ``cdk.json`` context."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class GoogleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    client_id: str = Field(description="The OAuth client of the Google Cloud project (public)")


class AppleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    services_id: str = Field(description="The Services ID (the client id at Apple)")
    team_id: str
    key_id: str = Field(description="The id of the key whose .p8 is in the secret apple-private-key")


class MicrosoftConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    client_id: str = Field(description="The Entra ID app registration (multi-tenant + personal accounts)")


class IdentityProvidersConfig(BaseModel):
    """The login providers of a stage; one left out is not offered there."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    google: GoogleConfig | None = None
    apple: AppleConfig | None = None
    microsoft: MicrosoftConfig | None = None

    def enabled(self) -> list[str]:
        return [name for name in ("google", "microsoft", "apple") if getattr(self, name) is not None]


class StageConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    prefix: str = "peppol-onboarding"
    stage: str
    public_url: str = Field(default="", description="Where users open the app; empty: the API's own URL")
    mail_sender: str
    cors_origins: list[str] = Field(default_factory=list)
    throttle_rate: float = 50
    throttle_burst: int = 100
    signup_throttle_rate: float = 2
    signup_throttle_burst: int = 10
    deletion_protection: bool = True
    cognito_plus: bool = Field(default=False, description="Cognito Plus plan: threat protection")
    log_retention_days: int = 90
    # Settings of the functions that differ per stage; unset ones keep the functions' defaults
    # (onboarding.settings), which are written there only.
    kvk_base_url: str | None = Field(default=None, description="KvK test or production API")
    vies_base_url: str | None = None
    free_plan_organisations: int | None = None
    terms_url: str | None = Field(default=None, description="Where the current terms are published")
    # Peppol: the SMP the worker registers participants at (its login is the smp-credentials
    # secret), the access point every registration points senders at, the SML's DNS zone.
    smp_base_url: str | None = Field(default=None, description="The phoss-smp REST API")
    smp_public_url: str | None = Field(default=None, description="The SMP's URL as the SML publishes it")
    sml_zone: str | None = Field(default=None, description="SML DNS zone: test or production")
    access_point_url: str | None = Field(default=None, description="The access point's AS4 endpoint")
    access_point_certificate: str | None = Field(default=None, description="Its Peppol AP certificate")
    peppol_directory: bool | None = Field(default=None, description="Publish business cards")
    identity_providers: IdentityProvidersConfig = Field(default_factory=IdentityProvidersConfig)

    def name(self, resource: str) -> str:
        return f"{self.prefix}-{self.stage}-{resource}"

    def function_settings(self) -> dict[str, Any]:
        """This stage's own settings of the functions, nested like ``onboarding.settings``."""
        return {
            "kvk": {"base_url": self.kvk_base_url},
            "vies": {"base_url": self.vies_base_url},
            "plan": {"free_organisations": self.free_plan_organisations},
            "terms": {"url": self.terms_url},
            "smp": {"base_url": self.smp_base_url, "public_url": self.smp_public_url},
            "sml": {"zone": self.sml_zone},
            "access_point": {"url": self.access_point_url, "certificate": self.access_point_certificate},
            "peppol": {"directory": self.peppol_directory},
            "federation": {"providers": self.identity_providers.enabled()},
            "bridge": {
                "microsoft_client_id": (
                    self.identity_providers.microsoft.client_id if self.identity_providers.microsoft else None
                )
            },
        }


def stage_config(context: Any) -> StageConfig:
    """``context`` is ``node.try_get_context``; ``-c stage=prod`` picks the stage."""
    stage = context("stage") or "dev"
    stages = context("stages") or {}
    if stage not in stages:
        raise ValueError(f"unknown stage {stage!r}: add it under context.stages in cdk.json")
    return StageConfig(prefix=context("prefix") or "peppol-onboarding", stage=stage, **stages[stage])
