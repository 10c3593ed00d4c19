"""The CDK app (``cdk.json`` runs it): ``make synth``, ``make deploy STAGE=prod``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.config import stage_config
from infra.platform import ROOT
from infra.stack import PlatformStack
from infra.tenant_stack import TenantStack, tenant_stack_name
from infra.tenants import TenantFileError, load_tenants


def cdk_json_context(**overrides: object) -> dict[str, object]:
    """cdk.json's context, for runs without the CDK CLI (tests, ``python -m infra.app``)."""
    context: dict[str, object] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return {**context, **overrides}


def build_app(
    context: dict[str, object] | None = None, *, outdir: str | None = None, tenants_dir: Path | None = None
) -> tuple[cdk.App, PlatformStack]:
    """The platform's stack, and one stack per tenant file (``tenants/``, or ``TENANTS_DIR``);
    ``TenantFileError`` for a tenant file that breaks a rule."""
    tenants = load_tenants(tenants_dir)  # a bad file stops synth before anything is built
    if context is None and "CDK_CONTEXT_JSON" not in os.environ:
        context = cdk_json_context()
    app = cdk.App(context=context, outdir=outdir)
    config = stage_config(app.node.try_get_context)
    env = cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
        region=os.environ.get("CDK_DEFAULT_REGION", "eu-west-1"),
    )
    stack = PlatformStack(app, f"PeppolOnboarding-{config.stage}", config=config, env=env)
    for tenant in tenants:
        TenantStack(
            app,
            tenant_stack_name(config.stage, tenant.slug),
            config=config,
            tenant=tenant,
            platform=stack,
            env=env,
        )
    # Every AwsSolutions finding fails synth unless it is acknowledged on its resource.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


if __name__ == "__main__":
    try:
        built = build_app()[0]
    except TenantFileError as problem:
        sys.exit(f"A tenant file is not valid:\n{problem}")
    built.synth()
