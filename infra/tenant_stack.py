"""A restricted tenant's stack: its identity provider, its app client and its login policy on
the platform's user pool (``infra.constructs.tenant_identity``), and its login URL as an output.
One per tenant file; ``make deploy-tenant TENANT=<slug>`` deploys one."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.tenant_identity import TenantIdentity
from infra.stack import PlatformStack
from infra.tenants import Tenant


def tenant_stack_name(stage: str, slug: str) -> str:
    return f"PeppolOnboarding-{stage}-tenant-{slug}"


class TenantStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        tenant: Tenant,
        platform: PlatformStack,
        **kwargs: object,
    ) -> None:
        super().__init__(
            scope,
            id,
            description=f"peppol-onboarding tenant {tenant.slug} ({config.stage}): login through its own IdP",
            **kwargs,  # type: ignore[arg-type]
        )
        identity = TenantIdentity(
            self,
            "Identity",
            tenant=tenant,
            user_pool=platform.identity.user_pool,
            public_url=platform.public_url,
            provisioner_arn=platform.functions.functions["tenant-provisioner"].function_arn,
        )
        cdk.Tags.of(self).add("project", "peppol-onboarding")
        cdk.Tags.of(self).add("stage", config.stage)
        cdk.Tags.of(self).add("tenant", tenant.slug)
        cdk.CfnOutput(self, "LoginUrl", value=identity.login_url, description="The tenant's own login URL")
        cdk.CfnOutput(self, "AppClientId", value=identity.client.user_pool_client_id)
        cdk.CfnOutput(self, "IdentityProviderName", value=tenant.provider_name)
