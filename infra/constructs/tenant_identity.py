"""A restricted tenant's way in, on the platform's user pool: its own identity provider (OIDC
or SAML), an app client that offers only that provider, and its login policy (the tenant
provisioner, as a custom resource: the tenant's record, domains and environment, and its people
restricted to this client). Everything here goes with the tenant's stack: deleting the stack
removes the way in."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.constructs.identity import attribute_mapping, hosted_login_client
from infra.platform import function
from infra.tenants import OidcIdp, Tenant
from onboarding.domain.tenancy import login_path


class TenantIdentity(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        tenant: Tenant,
        user_pool: cognito.IUserPool,
        public_url: str,
        provisioner_arn: str,
    ) -> None:
        super().__init__(scope, id)
        self.provider = self._provider(tenant, user_pool)
        self.client = hosted_login_client(
            self,
            "Client",
            user_pool=user_pool,
            name=f"tenant-{tenant.slug}",
            providers=[tenant.provider_name],
            mapped=tuple(tenant.attribute_mapping()),
            public_url=public_url,
        )
        self.client.node.add_dependency(self.provider)
        definition = tenant.definition(client_id=self.client.user_pool_client_id)
        self.login_policy = cdk.CustomResource(
            self,
            "LoginPolicy",
            service_token=provisioner_arn,
            resource_type="Custom::TenantLogin",
            properties=definition.model_dump(mode="json", exclude_none=True),
            # A provisioner that never answers fails the deploy after this, not after an hour.
            service_timeout=cdk.Duration.seconds(function("tenant-provisioner").timeout_seconds + 60),
        )
        self.login_url = f"{public_url}{login_path(tenant.slug)}"

    def _provider(self, tenant: Tenant, user_pool: cognito.IUserPool) -> cognito.IUserPoolIdentityProvider:
        idp = tenant.file.idp
        mapping = attribute_mapping(tenant.attribute_mapping())
        # The tenant's domains as the IdP's identifiers: Cognito can route an address to it
        # (routing only; Cognito takes identifiers of at most 40 characters).
        identifiers = [domain for domain in tenant.file.email_domains if len(domain) <= 40]
        if isinstance(idp, OidcIdp):
            return cognito.UserPoolIdentityProviderOidc(
                self,
                "Provider",
                user_pool=user_pool,
                name=tenant.provider_name,
                client_id=idp.client_id,
                # A dynamic reference ({{resolve:secretsmanager:...}}): the template holds no secret.
                client_secret=cdk.SecretValue.secrets_manager(idp.client_secret_name).unsafe_unwrap(),
                issuer_url=idp.issuer,
                scopes=list(idp.scopes),
                attribute_request_method=cognito.OidcAttributeRequestMethod.GET,
                attribute_mapping=mapping,
                identifiers=identifiers,
            )
        metadata = (
            cognito.UserPoolIdentityProviderSamlMetadata.url(idp.metadata_url)
            if idp.metadata_url
            else cognito.UserPoolIdentityProviderSamlMetadata.file(tenant.saml_metadata or "")
        )
        return cognito.UserPoolIdentityProviderSaml(
            self,
            "Provider",
            user_pool=user_pool,
            name=tenant.provider_name,
            metadata=metadata,
            attribute_mapping=mapping,
            identifiers=identifiers,
        )
