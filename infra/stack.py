"""The platform stack: one construct per capability, composed."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.api import Api
from infra.constructs.data import Data
from infra.constructs.functions import Functions
from infra.constructs.identity import Identity
from infra.constructs.mail import Mail
from infra.constructs.messaging import Messaging
from infra.constructs.secrets import Secrets
from infra.platform import PLATFORM


class PlatformStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, **kwargs: object) -> None:
        super().__init__(scope, id, description=f"peppol-onboarding platform ({config.stage})", **kwargs)  # type: ignore[arg-type]
        data = Data(self, "Data", config=config)
        identity = Identity(self, "Identity", config=config)
        mail = Mail(self, "Mail", config=config)
        messaging = Messaging(self, "Messaging", config=config)
        secrets = Secrets(self, "Secrets", config=config)
        api = Api(self, "Api", config=config, identity=identity)
        public_url = config.public_url or api.url
        identity.add_federation(public_url=public_url, secrets=secrets.secrets)
        # What the tenants' stacks build on (infra.tenant_stack).
        self.identity, self.public_url = identity, public_url
        functions = Functions(
            self,
            "Functions",
            config=config,
            data=data,
            identity=identity,
            mail=mail,
            messaging=messaging,
            secrets=secrets,
            public_url=public_url,
        )
        for spec in PLATFORM.functions:
            if spec.user_pool_triggers:
                identity.add_triggers(spec, functions.functions[spec.name])
        api.add_routes({s.name: functions.functions[s.name] for s in PLATFORM.functions if s.app})
        self.functions = functions
        cdk.Tags.of(self).add("project", "peppol-onboarding")
        cdk.Tags.of(self).add("stage", config.stage)
        for name, value in {
            "ApiUrl": api.url,
            "UserPoolId": identity.user_pool.user_pool_id,
            "ApiClientId": identity.api_client.user_pool_client_id,
            "HostedLoginDomain": identity.domain.base_url(),
            "MicrosoftBridgeRedirectUri": f"{public_url}/federation/microsoft/callback",
            "TableName": data.table.table_name,
            "PeppolQueueUrl": messaging.queues["peppol-registrations"].queue_url,
        }.items():
            cdk.CfnOutput(self, name, value=value)
