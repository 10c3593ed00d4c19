"""The user pool: no self sign-up (the API runs activation and terms), the API's password
rule, an app client for the API, a hosted domain for federated login, the operators group;
then (``add_federation``) the login providers and the hosted login's own client, and
(``add_triggers``) the Lambda triggers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypedDict

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.nag import acknowledge
from infra.platform import (
    BRIDGE,
    IDENTITY_PROVIDERS,
    PASSWORD_MIN_LENGTH,
    PLATFORM,
    REFRESH_TOKEN_DAYS,
    FunctionSpec,
    IdentityProviderSpec,
    custom_attributes,
    mapped_attributes,
)

_TRIGGERS = {
    "PreSignUp": (cognito.UserPoolOperation.PRE_SIGN_UP, None),
    # No password login for a restricted tenant's people (its IdP is their one way in).
    "PreAuthentication": (cognito.UserPoolOperation.PRE_AUTHENTICATION, None),
    # Version 2 (Essentials or Plus plan): it also runs on refresh and can shape access tokens.
    "PreTokenGeneration": (cognito.UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG, cognito.LambdaVersion.V2_0),
}


class Identity(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        plus = config.cognito_plus
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=config.name("users"),
            self_sign_up_enabled=False,
            sign_in_case_sensitive=False,
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            # Where the providers' linking claims arrive for the PreSignUp trigger (mapped
            # attributes must be mutable: Cognito rewrites them at every federated sign-in).
            custom_attributes={
                name: cognito.StringAttribute(max_len=2048, mutable=True) for name in custom_attributes()
            },
            keep_original=cognito.KeepOriginalAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=PASSWORD_MIN_LENGTH,
                require_lowercase=False,
                require_uppercase=False,
                require_digits=False,
                require_symbols=False,
                temp_password_validity=cdk.Duration.days(1),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            feature_plan=cognito.FeaturePlan.PLUS if plus else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=(
                cognito.StandardThreatProtectionMode.FULL_FUNCTION if plus else None
            ),
            deletion_protection=config.deletion_protection,
            removal_policy=cdk.RemovalPolicy.RETAIN
            if config.deletion_protection
            else cdk.RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG1",
            "ASVS v5 6.2.5 forbids composition rules: 12+ characters; the API also refuses "
            "common passwords (onboarding.domain.rules).",
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA is optional (TOTP); federated users get MFA from their own identity provider.",
        )
        if not plus:
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG8",
                f"Stage {config.stage} runs the Essentials plan for cost; production sets "
                "cognito_plus for threat protection.",
            )
        self.config = config
        self.web_client: cognito.UserPoolClient | None = None
        # The API's own client: server-side password login and refresh; no secret because the
        # API holds no client secret to leak, and the flows need IAM (AdminInitiateAuth). It
        # writes no attribute: its tokens carry aws.cognito.signin.user.admin (every
        # InitiateAuth token does), with which a user could rewrite whatever it may write.
        self.api_client = self.user_pool.add_client(
            "ApiClient",
            user_pool_client_name="api",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(admin_user_password=True),
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            **_token_validity(),
            read_attributes=cognito.ClientAttributes().with_standard_attributes(
                email=True, email_verified=True
            ),
            write_attributes=cognito.ClientAttributes(),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            disable_o_auth=True,  # the hosted login has its own client (add_federation)
        )
        self.domain = self.user_pool.add_domain(
            "Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=config.name("login"))
        )
        cognito.CfnUserPoolGroup(
            self,
            "OperatorsGroup",
            user_pool_id=self.user_pool.user_pool_id,
            group_name=PLATFORM.operators_group,
            description="Platform staff: review activations, top up credit",
        )

    def add_federation(self, *, public_url: str, secrets: dict[str, secretsmanager.Secret]) -> None:
        """The stage's login providers and the hosted login's client (``web_client``)."""
        enabled = self.config.identity_providers.enabled()
        specs = tuple(spec for spec in IDENTITY_PROVIDERS if spec.provider in enabled)
        if not specs:
            return
        providers = [self._provider(spec, public_url, secrets) for spec in specs]
        mapped = mapped_attributes(specs)
        self.web_client = hosted_login_client(
            self.user_pool,
            "WebClient",
            user_pool=self.user_pool,
            name="web",
            providers=[spec.cognito_name for spec in specs],
            mapped=mapped,
            public_url=public_url,
        )
        for provider in providers:
            self.web_client.node.add_dependency(provider)

    def _provider(
        self, spec: IdentityProviderSpec, public_url: str, secrets: dict[str, secretsmanager.Secret]
    ) -> cognito.IUserPoolIdentityProvider:
        mapping = attribute_mapping(spec.attribute_mapping)
        stage = self.config.identity_providers
        if spec.kind == "google":
            assert stage.google is not None
            return cognito.UserPoolIdentityProviderGoogle(
                self,
                "Google",
                user_pool=self.user_pool,
                client_id=stage.google.client_id,
                client_secret_value=cdk.SecretValue.secrets_manager(
                    secrets["google-client-secret"].secret_arn
                ),
                scopes=list(spec.scopes),
                attribute_mapping=mapping,
            )
        if spec.kind == "apple":
            assert stage.apple is not None
            return cognito.UserPoolIdentityProviderApple(
                self,
                "Apple",
                user_pool=self.user_pool,
                client_id=stage.apple.services_id,
                team_id=stage.apple.team_id,
                key_id=stage.apple.key_id,
                private_key_value=cdk.SecretValue.secrets_manager(secrets["apple-private-key"].secret_arn),
                scopes=list(spec.scopes),
                attribute_mapping=mapping,
            )
        issuer = f"{public_url}{BRIDGE}"
        return cognito.UserPoolIdentityProviderOidc(
            self,
            "Microsoft",
            user_pool=self.user_pool,
            name=spec.cognito_name,
            client_id="cognito",  # onboarding.settings.BridgeSettings.client_id
            # A dynamic reference ({{resolve:secretsmanager:...}}), resolved by CloudFormation:
            # the template holds no secret (this construct takes a string, not a SecretValue).
            client_secret=cdk.SecretValue.secrets_manager(
                secrets["federation-client-secret"].secret_arn
            ).unsafe_unwrap(),
            issuer_url=issuer,
            endpoints=cognito.OidcEndpoints(
                authorization=f"{issuer}/authorize",
                token=f"{issuer}/token",
                user_info=f"{issuer}/userinfo",
                jwks_uri=f"{issuer}/jwks.json",
            ),
            attribute_request_method=cognito.OidcAttributeRequestMethod.GET,
            scopes=list(spec.scopes),
            attribute_mapping=mapping,
        )

    def add_triggers(self, spec: FunctionSpec, function: lambda_.IFunction) -> None:
        """``spec``'s triggers on the pool. Its Cognito permissions go in a policy of their own:
        the pool names the function, so the function must not depend on anything that names
        the pool (its role's default policy, its environment)."""
        for name in spec.user_pool_triggers:
            operation, version = _TRIGGERS[name]
            self.user_pool.add_trigger(operation, function, version)
        if spec.cognito_actions and function.role is not None:
            iam.Policy(
                self,
                f"{spec.name}-cognito",
                roles=[function.role],
                statements=[
                    iam.PolicyStatement(
                        actions=list(spec.cognito_actions), resources=[self.user_pool.user_pool_arn]
                    )
                ],
            )


_STANDARD = {"email": "email", "name": "fullname"}  # pool attribute -> CDK's name for it


class _TokenValidity(TypedDict):
    id_token_validity: cdk.Duration
    access_token_validity: cdk.Duration
    refresh_token_validity: cdk.Duration


def _token_validity() -> _TokenValidity:
    """Every app client's: ID and access tokens for an hour, refresh tokens for 30 days."""
    return _TokenValidity(
        id_token_validity=cdk.Duration.minutes(60),
        access_token_validity=cdk.Duration.minutes(60),
        refresh_token_validity=cdk.Duration.days(REFRESH_TOKEN_DAYS),
    )


def attribute_mapping(mapping: Mapping[str, str]) -> cognito.AttributeMapping:
    """Pool attribute -> the provider's claim, as CDK writes it."""
    return cognito.AttributeMapping(
        **{_STANDARD[a]: cognito.ProviderAttribute.other(c) for a, c in mapping.items() if a in _STANDARD},
        custom={a: cognito.ProviderAttribute.other(c) for a, c in mapping.items() if a.startswith("custom:")},
    )


def hosted_login_client(
    scope: Construct,
    id: str,
    *,
    user_pool: cognito.IUserPool,
    name: str,
    providers: Sequence[str],
    mapped: Sequence[str],
    public_url: str,
) -> cognito.UserPoolClient:
    """An app client of the hosted login: the authorization code flow (PKCE, exchanged by the
    API) through exactly ``providers``, to the API's callback. The hosted login's own (Google,
    Microsoft, Apple) and each restricted tenant's (its IdP only) are made here.

    Cognito rewrites mapped attributes at every federated sign-in and refuses the sign-in when
    the client may not write them, so such a client may write exactly those (``mapped``). Its
    tokens never carry aws.cognito.signin.user.admin (not an allowed scope; no InitiateAuth
    flow; no password login through it), so no user can use that permission: what the
    providers assert stays theirs. Tenancy lives in DynamoDB, in no attribute at all."""
    client = cognito.UserPoolClient(
        scope,
        id,
        user_pool=user_pool,
        user_pool_client_name=name,
        generate_secret=False,  # the API exchanges codes server-side, with PKCE
        auth_flows=cognito.AuthFlow(),
        prevent_user_existence_errors=True,
        enable_token_revocation=True,
        **_token_validity(),
        read_attributes=cognito.ClientAttributes().with_standard_attributes(
            email=True, email_verified=True, fullname=True
        ),
        write_attributes=cognito.ClientAttributes()
        .with_standard_attributes(**{_STANDARD[a]: True for a in mapped if a in _STANDARD})
        .with_custom_attributes(*(a.removeprefix("custom:") for a in mapped if a.startswith("custom:"))),
        supported_identity_providers=[cognito.UserPoolClientIdentityProvider.custom(p) for p in providers],
        o_auth=cognito.OAuthSettings(
            flows=cognito.OAuthFlows(authorization_code_grant=True),
            scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
            callback_urls=[f"{public_url}/auth/callback"],
            logout_urls=[f"{public_url}/login"],
        ),
    )
    # No InitiateAuth flow at all: left out, Cognito would allow SRP and custom auth, whose
    # tokens carry aws.cognito.signin.user.admin (CDK leaves out an empty list).
    low_level = client.node.default_child
    assert isinstance(low_level, cognito.CfnUserPoolClient)
    low_level.explicit_auth_flows = ["ALLOW_REFRESH_TOKEN_AUTH"]
    return client
