"""Deployment configuration: one typed object per stage, from ``cdk.json`` context."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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
    kvk_base_url: str = Field(default="https://api.kvk.nl/test", description="KvK test or production API")
    vies_base_url: str = "https://ec.europa.eu/taxation_customs/vies/rest-api"
    free_plan_organisations: int = 2

    def name(self, resource: str) -> str:
        return f"{self.prefix}-{self.stage}-{resource}"


def stage_config(context: Any) -> StageConfig:
    """``context`` is ``node.try_get_context``; ``-c stage=prod`` picks the stage."""
    stage = context("stage") or "dev"
    stages = context("stages") or {}
    if stage not in stages:
        raise ValueError(f"unknown stage {stage!r}: add it under context.stages in cdk.json")
    return StageConfig(prefix=context("prefix") or "peppol-onboarding", stage=stage, **stages[stage])
