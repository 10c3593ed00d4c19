"""The user pool: no self sign-up (the API runs activation and terms), the API's password
rule, an app client for the API, a hosted domain for federated login, the operators group."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.nag import acknowledge
from infra.platform import PASSWORD_MIN_LENGTH, PLATFORM


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
        # The API's own client: server-side password login and refresh; no secret because the
        # API holds no client secret to leak, and the flows need IAM (AdminInitiateAuth).
        self.api_client = self.user_pool.add_client(
            "ApiClient",
            user_pool_client_name="api",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(admin_user_password=True),
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=cdk.Duration.minutes(60),
            access_token_validity=cdk.Duration.minutes(60),
            refresh_token_validity=cdk.Duration.days(30),
            read_attributes=cognito.ClientAttributes().with_standard_attributes(
                email=True, email_verified=True
            ),
            write_attributes=cognito.ClientAttributes(),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
                callback_urls=[f"{config.public_url or 'https://localhost'}/auth/callback"],
            ),
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
