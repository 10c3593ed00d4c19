"""Creates, on the emulator, what the CDK app creates in AWS, from the same description:
the table, the queues, the user pool with its API client and groups, the mail sender.
Idempotent, so it can run against an external moto server that already has them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from infra.platform import PASSWORD_MIN_LENGTH, PLATFORM, Resources, function_environment, resource_name

PREFIX = "peppol-onboarding"


@dataclass(frozen=True)
class LocalResources:
    endpoint_url: str
    region: str
    table_name: str
    user_pool_id: str
    api_client_id: str
    queue_urls: dict[str, str]
    mail_sender: str
    queue_arns: dict[str, str] = field(default_factory=dict)
    dead_letter_queue_urls: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def queue_visibility_seconds() -> dict[str, int]:
        """Locally a failed message comes back after seconds, not minutes (README, Local run)."""
        return {queue.name: queue.local_visibility_timeout_seconds for queue in PLATFORM.queues}

    def environment(self, public_url: str) -> dict[str, str]:
        """The functions' environment, as the CDK app sets it in AWS (plus where AWS is)."""
        resources = Resources(
            public_url=public_url,
            table_name=self.table_name,
            user_pool_id=self.user_pool_id,
            api_client_id=self.api_client_id,
            mail_sender=self.mail_sender,
            queue_urls=self.queue_urls,
            queue_visibility_seconds=self.queue_visibility_seconds(),
        )
        return {
            **function_environment(resources),
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "POWERTOOLS_METRICS_NAMESPACE": "PeppolOnboardingLocal",
        }


def _client(service: str, endpoint_url: str, region: str) -> Any:
    import boto3

    return boto3.session.Session().client(service, endpoint_url=endpoint_url, region_name=region)  # type: ignore[call-overload]


def create_table(ddb: Any, name: str) -> None:
    spec = PLATFORM.table
    attributes = {
        spec.partition_key,
        spec.sort_key,
        *(i.partition_key for i in spec.indexes),
        *(i.sort_key for i in spec.indexes if i.sort_key),
    }
    try:
        ddb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
            KeySchema=[
                {"AttributeName": spec.partition_key, "KeyType": "HASH"},
                {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": index.name,
                    "KeySchema": [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
                    + ([{"AttributeName": index.sort_key, "KeyType": "RANGE"}] if index.sort_key else []),
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index in spec.indexes
            ],
        )
    except ddb.exceptions.ResourceInUseException:
        return
    ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute}
    )


@dataclass(frozen=True)
class LocalQueue:
    url: str
    arn: str
    dead_letter_url: str


def create_queues(sqs: Any, stage: str) -> dict[str, LocalQueue]:
    created: dict[str, LocalQueue] = {}
    for queue in PLATFORM.queues:
        fifo = {"FifoQueue": "true"} if queue.fifo else {}
        dlq_url = sqs.create_queue(
            QueueName=resource_name(PREFIX, stage, f"{queue.name}-dlq") + queue.suffix, Attributes=fifo
        )["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        url = sqs.create_queue(
            QueueName=resource_name(PREFIX, stage, queue.name) + queue.suffix,
            Attributes={
                **fifo,
                **({"ContentBasedDeduplication": "false"} if queue.fifo else {}),
                "VisibilityTimeout": str(queue.local_visibility_timeout_seconds),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(queue.max_receive_count)}
                ),
            },
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        created[queue.name] = LocalQueue(url=url, arn=arn, dead_letter_url=dlq_url)
    return created


def create_user_pool(cognito: Any, stage: str) -> tuple[str, str]:
    pool_name = resource_name(PREFIX, stage, "users")
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    pool_id = next((p["Id"] for p in pools if p["Name"] == pool_name), None)
    if pool_id is None:
        pool_id = cognito.create_user_pool(
            PoolName=pool_name,
            Policies={
                "PasswordPolicy": {
                    "MinimumLength": PASSWORD_MIN_LENGTH,
                    "RequireUppercase": False,
                    "RequireLowercase": False,
                    "RequireNumbers": False,
                    "RequireSymbols": False,
                }
            },
            AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
            UsernameConfiguration={"CaseSensitive": False},
            Schema=[{"Name": "email", "AttributeDataType": "String", "Mutable": True, "Required": True}],
        )["UserPool"]["Id"]
        cognito.create_group(
            GroupName=PLATFORM.operators_group,
            UserPoolId=pool_id,
            Description="Platform staff: review activations, top up credit",
        )
    client_name = "api"
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_id = next((c["ClientId"] for c in clients if c["ClientName"] == client_name), None)
    if client_id is None:
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=client_name,
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            PreventUserExistenceErrors="ENABLED",
            EnableTokenRevocation=True,
        )["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def bootstrap(
    endpoint_url: str,
    region: str = "eu-west-1",
    stage: str = "local",
    mail_sender: str = "no-reply@peppol-onboarding.local",
) -> LocalResources:
    ddb = _client("dynamodb", endpoint_url, region)
    table_name = resource_name(PREFIX, stage, PLATFORM.table.name)
    create_table(ddb, table_name)
    queues = create_queues(_client("sqs", endpoint_url, region), stage)
    pool_id, client_id = create_user_pool(_client("cognito-idp", endpoint_url, region), stage)
    _client("ses", endpoint_url, region).verify_email_identity(EmailAddress=mail_sender)
    return LocalResources(
        endpoint_url=endpoint_url,
        region=region,
        table_name=table_name,
        user_pool_id=pool_id,
        api_client_id=client_id,
        queue_urls={name: queue.url for name, queue in queues.items()},
        mail_sender=mail_sender,
        queue_arns={name: queue.arn for name, queue in queues.items()},
        dead_letter_queue_urls={name: queue.dead_letter_url for name, queue in queues.items()},
    )
