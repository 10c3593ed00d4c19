"""Creates, on the emulator, what the CDK app creates in AWS, from the same description:
the table, the queues, the user pool with its API client and groups, the mail sender.
Idempotent, so it can run against an external moto server that already has them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from infra.platform import (
    BRIDGE,
    GENERATED_SECRETS,
    IDENTITY_PROVIDERS,
    PASSWORD_MIN_LENGTH,
    PLATFORM,
    SECRETS,
    Resources,
    custom_attributes,
    function_environment,
    mapped_attributes,
    resource_name,
)

PREFIX = "peppol-onboarding"
# The clients the local identity provider knows (locally, Google, Apple and Entra ID are it).
LOCAL_CLIENTS = {
    "google": "local-google-client",
    "apple": "local-apple-services-id",
    "microsoft": "local-entra-app",
}


@dataclass(frozen=True)
class LocalResources:
    endpoint_url: str
    region: str
    table_name: str
    user_pool_id: str
    api_client_id: str
    queue_urls: dict[str, str]
    mail_sender: str
    web_client_id: str = ""
    secret_arns: dict[str, str] = field(default_factory=dict)
    queue_arns: dict[str, str] = field(default_factory=dict)
    dead_letter_queue_urls: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def queue_visibility_seconds() -> dict[str, int]:
        """Locally a failed message comes back after seconds, not minutes (README, Local run)."""
        return {queue.name: queue.local_visibility_timeout_seconds for queue in PLATFORM.queues}

    def environment(self, public_url: str, server_url: str | None = None) -> dict[str, str]:
        """The functions' environment, as the CDK app sets it in AWS (plus where AWS is).
        ``server_url`` is where the local stand-ins of Cognito's hosted login and of the
        providers answer (``public_url`` unless the app is reached another way)."""
        local = server_url or public_url
        resources = Resources(
            public_url=public_url,
            table_name=self.table_name,
            user_pool_id=self.user_pool_id,
            api_client_id=self.api_client_id,
            mail_sender=self.mail_sender,
            queue_urls=self.queue_urls,
            secret_arns=self.secret_arns,
            web_client_id=self.web_client_id or None,
            hosted_domain=f"{local}/_local/cognito",
            queue_visibility_seconds=self.queue_visibility_seconds(),
        )
        stage_settings = {
            "identity": {"jwks_url": f"{local}/_local/cognito/{self.user_pool_id}/.well-known/jwks.json"},
            "federation": {"providers": [spec.provider for spec in IDENTITY_PROVIDERS]},
            "bridge": {
                "microsoft_client_id": LOCAL_CLIENTS["microsoft"],
                "microsoft_authority": f"{local}/_local/idp/microsoft",
            },
        }
        return {
            **function_environment(resources, stage_settings),
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
            Schema=[
                {"Name": "email", "AttributeDataType": "String", "Mutable": True, "Required": True},
                *(
                    {"Name": name, "AttributeDataType": "String", "Mutable": True}
                    for name in custom_attributes()
                ),
            ],
        )["UserPool"]["Id"]
        cognito.create_group(
            GroupName=PLATFORM.operators_group,
            UserPoolId=pool_id,
            Description="Platform staff: review activations, top up credit",
        )
    else:  # a pool of an earlier run (an external emulator): the attributes it may lack
        schema = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("SchemaAttributes", [])
        missing = set(custom_attributes()) - {a["Name"].removeprefix("custom:") for a in schema}
        if missing:
            cognito.add_custom_attributes(
                UserPoolId=pool_id,
                CustomAttributes=[
                    {"Name": n, "AttributeDataType": "String", "Mutable": True} for n in sorted(missing)
                ],
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


def _secret(secretsmanager: Any, name: str, value: str) -> str:
    try:
        return str(secretsmanager.describe_secret(SecretId=name)["ARN"])
    except secretsmanager.exceptions.ResourceNotFoundException:
        return str(secretsmanager.create_secret(Name=name, SecretString=value)["ARN"])


def create_secrets(secretsmanager: Any, stage: str) -> dict[str, str]:
    """The secrets of the login providers, with local values: the bridge's signing keys and
    its client secret, and the local identity provider's secret for the Entra app."""
    import json
    import secrets

    from infra.keys import new_key_set

    def value(name: str) -> str:
        if name == "federation-signing-keys":
            return json.dumps(new_key_set())
        return secrets.token_urlsafe(32)  # a client secret (or a stand-in for Apple's key)

    return {
        name: _secret(secretsmanager, resource_name(PREFIX, stage, name), value(name))
        for name in SECRETS
        if name in GENERATED_SECRETS or any(name in spec.secrets for spec in IDENTITY_PROVIDERS)
    }


def _provider_details(spec_kind: str, provider: str, public_url: str, secret: str) -> dict[str, str]:
    if spec_kind == "google":
        return {
            "client_id": LOCAL_CLIENTS["google"],
            "client_secret": secret,
            "authorize_scopes": "openid email profile",
        }
    if spec_kind == "apple":
        return {
            "client_id": LOCAL_CLIENTS["apple"],
            "team_id": "LOCALTEAM1",
            "key_id": "LOCALKEY01",
            "private_key": secret,
            "authorize_scopes": "email name",
        }
    issuer = f"{public_url}{BRIDGE}"
    return {
        "client_id": "cognito",
        "client_secret": secret,
        "oidc_issuer": issuer,
        "authorize_url": f"{issuer}/authorize",
        "token_url": f"{issuer}/token",
        "attributes_url": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks.json",
        "attributes_request_method": "GET",
        "authorize_scopes": "openid email profile",
    }


def create_federation(
    cognito: Any, secretsmanager: Any, pool_id: str, public_url: str, secret_arns: dict[str, str]
) -> str:
    """The pool's login providers (as the CDK app makes them) and the hosted login's client;
    an existing client gets this run's URLs."""
    kinds = {"google": "Google", "apple": "SignInWithApple", "oidc": "OIDC"}
    secret_of = {
        "google": "google-client-secret",
        "apple": "apple-private-key",
        "oidc": "federation-client-secret",
    }
    existing = {
        p["ProviderName"]
        for p in cognito.list_identity_providers(UserPoolId=pool_id, MaxResults=60)["Providers"]
    }
    for spec in IDENTITY_PROVIDERS:
        secret = secretsmanager.get_secret_value(SecretId=secret_arns[secret_of[spec.kind]])["SecretString"]
        details = _provider_details(spec.kind, spec.provider, public_url, secret)
        arguments = {
            "UserPoolId": pool_id,
            "ProviderName": spec.cognito_name,
            "ProviderDetails": details,
            "AttributeMapping": dict(spec.attribute_mapping),
        }
        if spec.cognito_name in existing:
            cognito.update_identity_provider(**arguments)
        else:
            cognito.create_identity_provider(ProviderType=kinds[spec.kind], **arguments)
    return hosted_login_client(
        cognito,
        pool_id,
        "web",
        providers=[spec.cognito_name for spec in IDENTITY_PROVIDERS],
        mapped=mapped_attributes(),
        public_url=public_url,
    )


def hosted_login_client(
    cognito: Any, pool_id: str, name: str, *, providers: list[str], mapped: Sequence[str], public_url: str
) -> str:
    """An app client of the hosted login (as ``infra.constructs.identity.hosted_login_client``
    makes it): the code flow through exactly ``providers``, to the API's callback; an existing
    client of that name gets this run's values. Its id."""
    client = {
        "UserPoolId": pool_id,
        "ClientName": name,
        "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],
        "PreventUserExistenceErrors": "ENABLED",
        "EnableTokenRevocation": True,
        "ReadAttributes": ["email", "email_verified", "name"],
        "WriteAttributes": list(mapped),
        "SupportedIdentityProviders": providers,
        "CallbackURLs": [f"{public_url}/auth/callback"],
        "LogoutURLs": [f"{public_url}/login"],
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthScopes": ["openid", "email", "profile"],
        "AllowedOAuthFlowsUserPoolClient": True,
    }
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_id = next((c["ClientId"] for c in clients if c["ClientName"] == name), None)
    if client_id is None:
        return str(
            cognito.create_user_pool_client(GenerateSecret=False, **client)["UserPoolClient"]["ClientId"]
        )
    cognito.update_user_pool_client(ClientId=client_id, **client)
    return str(client_id)


def bootstrap(
    endpoint_url: str,
    region: str = "eu-west-1",
    stage: str = "local",
    mail_sender: str = "no-reply@peppol-onboarding.local",
    public_url: str = "http://127.0.0.1:3000",
) -> LocalResources:
    ddb = _client("dynamodb", endpoint_url, region)
    table_name = resource_name(PREFIX, stage, PLATFORM.table.name)
    create_table(ddb, table_name)
    queues = create_queues(_client("sqs", endpoint_url, region), stage)
    cognito = _client("cognito-idp", endpoint_url, region)
    pool_id, client_id = create_user_pool(cognito, stage)
    secretsmanager = _client("secretsmanager", endpoint_url, region)
    secret_arns = create_secrets(secretsmanager, stage)
    web_client_id = create_federation(cognito, secretsmanager, pool_id, public_url.rstrip("/"), secret_arns)
    _client("ses", endpoint_url, region).verify_email_identity(EmailAddress=mail_sender)
    return LocalResources(
        endpoint_url=endpoint_url,
        region=region,
        table_name=table_name,
        user_pool_id=pool_id,
        api_client_id=client_id,
        queue_urls={name: queue.url for name, queue in queues.items()},
        mail_sender=mail_sender,
        web_client_id=web_client_id,
        secret_arns=secret_arns,
        queue_arns={name: queue.arn for name, queue in queues.items()},
        dead_letter_queue_urls={name: queue.dead_letter_url for name, queue in queues.items()},
    )
