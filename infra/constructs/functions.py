"""The Lambda functions and the common layer, each with exactly the permissions the
platform description gives it, and what starts the ones that serve no route: a queue's
event source (partial batch failures reported, concurrency capped) or a schedule."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.data import Data
from infra.constructs.identity import Identity
from infra.constructs.mail import Mail
from infra.constructs.messaging import Messaging
from infra.constructs.nag import acknowledge
from infra.constructs.secrets import Secrets
from infra.platform import (
    PLATFORM,
    ROOT,
    FunctionSpec,
    Resources,
    environment_of,
    function_environment,
    queue,
)

LAYER_BUILD = ROOT / "build" / "layer"
RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
_DYNAMODB_ACTIONS = {
    "read": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"],
    "read_write": [
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:ConditionCheckItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    ],
}


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        data: Data,
        identity: Identity,
        mail: Mail,
        messaging: Messaging,
        secrets: Secrets,
        public_url: str,
    ) -> None:
        super().__init__(scope, id)
        if not (LAYER_BUILD / "python").is_dir():
            raise FileNotFoundError(f"{LAYER_BUILD} is missing: run `make layer` first")
        self.layer = lambda_.LayerVersion(
            self,
            "CommonLayer",
            code=lambda_.Code.from_asset(str(LAYER_BUILD), exclude=[".deps"]),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="peppol-onboarding common layer: onboarding package and its dependencies",
        )
        resources = Resources(
            public_url=public_url,
            table_name=data.table.table_name,
            user_pool_id=identity.user_pool.user_pool_id,
            api_client_id=identity.api_client.user_pool_client_id,
            mail_sender=mail.sender,
            mail_configuration_set=mail.configuration_set.configuration_set_name,
            queue_urls={name: queue.queue_url for name, queue in messaging.queues.items()},
            secret_arns={name: secret.secret_arn for name, secret in secrets.secrets.items()},
            cors_origins=tuple(config.cors_origins) or ("*",),
            web_client_id=identity.web_client.user_pool_client_id if identity.web_client else None,
            hosted_domain=identity.domain.base_url() if identity.web_client else None,
        )
        settings = function_environment(resources, config.function_settings())
        powertools = {"POWERTOOLS_METRICS_NAMESPACE": "PeppolOnboarding", "POWERTOOLS_LOG_LEVEL": "INFO"}
        self.functions: dict[str, lambda_.Function] = {}
        for spec in PLATFORM.functions:
            environment = {**environment_of(spec, settings), **powertools}
            self.functions[spec.name] = self._function(spec, config, environment, data, identity, mail)
            role = self.functions[spec.name].role
            assert role is not None
            for name in spec.sends_to_queues:
                role.add_to_principal_policy(
                    iam.PolicyStatement(
                        actions=["sqs:SendMessage"], resources=[messaging.queues[name].queue_arn]
                    )
                )
            for secret in spec.reads_secrets:
                if secret not in secrets.secrets:
                    continue  # a provider this stage does not offer
                role.add_to_principal_policy(
                    iam.PolicyStatement(
                        actions=["secretsmanager:GetSecretValue"],
                        resources=[secrets.secrets[secret].secret_arn],
                    )
                )
            self._triggers(spec, self.functions[spec.name], config, messaging)

    def _triggers(
        self, spec: FunctionSpec, function: lambda_.Function, config: StageConfig, messaging: Messaging
    ) -> None:
        source = spec.queue_source
        if source is not None:
            visibility = queue(source.queue).visibility_timeout_seconds
            if visibility < 6 * spec.timeout_seconds:
                raise ValueError(f"{source.queue}: visibility timeout below six times {spec.name}'s timeout")
            # The event source grants the role ReceiveMessage, DeleteMessage, ChangeMessageVisibility
            # and GetQueueAttributes on this queue, nothing else.
            function.add_event_source(
                event_sources.SqsEventSource(
                    messaging.queues[source.queue],
                    batch_size=source.batch_size,
                    report_batch_item_failures=True,
                    max_concurrency=source.max_concurrency,
                )
            )
        if spec.schedule_minutes is not None:
            rule = events.Rule(
                self,
                f"{spec.name}-schedule",
                rule_name=config.name(f"{spec.name}-schedule"),
                description=f"Runs {config.name(spec.name)} every {spec.schedule_minutes} minute(s)",
                schedule=events.Schedule.rate(cdk.Duration.minutes(spec.schedule_minutes)),
            )
            rule.add_target(targets.LambdaFunction(function, retry_attempts=0))

    def _function(
        self,
        spec: FunctionSpec,
        config: StageConfig,
        environment: dict[str, str],
        data: Data,
        identity: Identity,
        mail: Mail,
    ) -> lambda_.Function:
        name = config.name(spec.name)
        log_group = logs.LogGroup(
            self,
            f"{spec.name}-logs",
            log_group_name=f"/aws/lambda/{name}",
            retention=_retention(config.log_retention_days),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # Our own role instead of AWSLambdaBasicExecutionRole: it may write to its log group only.
        role = iam.Role(
            self,
            f"{spec.name}-role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{name}: least privilege",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        if spec.table_access != "none":
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=_DYNAMODB_ACTIONS[spec.table_access],
                    resources=[data.table.table_arn, *data.index_arns()],
                )
            )
        if spec.cognito_actions and not spec.user_pool_triggers:  # a trigger's: Identity.add_triggers
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=list(spec.cognito_actions), resources=[identity.user_pool.user_pool_arn]
                )
            )
        if spec.sends_mail:
            role.add_to_policy(
                iam.PolicyStatement(actions=["ses:SendEmail", "ses:SendRawEmail"], resources=mail.send_arns)
            )
        function = lambda_.Function(
            self,
            spec.name,
            function_name=name,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=lambda_.Code.from_asset(str(spec.source), exclude=["**/__pycache__", "**/*.pyc"]),
            layers=[self.layer],
            role=role,
            memory_size=spec.memory_mb,
            timeout=cdk.Duration.seconds(spec.timeout_seconds),
            environment=environment,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            environment_encryption=None,
            description=f"peppol-onboarding {spec.description or spec.name + ' API'}",
        )
        acknowledge(
            function,
            "AwsSolutions-L1",
            "The design card fixes the Lambda runtime at Python 3.12 (the code is also tested on 3.11).",
        )
        cloudwatch.Alarm(
            self,
            f"{spec.name}-errors",
            metric=function.metric_errors(period=cdk.Duration.minutes(5)),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            alarm_description=f"{name} failed (an unhandled error: a bug or an outage)",
        )
        return function


_RETENTION = {
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
}


def _retention(days: int) -> logs.RetentionDays:
    """The shortest CloudWatch retention that keeps logs at least ``days``."""
    return _RETENTION[min((d for d in _RETENTION if d >= days), default=731)]
