"""The sender identity and a configuration set that suppresses bounces and complaints."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ses as ses
from constructs import Construct

from infra.config import StageConfig


class Mail(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        self.sender = config.mail_sender
        domain = config.mail_sender.rpartition("@")[2]
        # A domain identity gives DKIM; ops publish the DNS records it outputs.
        self.identity = ses.EmailIdentity(self, "Identity", identity=ses.Identity.domain(domain))
        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            configuration_set_name=config.name("mail"),
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
            reputation_metrics=True,
            sending_enabled=True,
        )
        stack = Stack.of(self)
        self.send_arns = [
            stack.format_arn(service="ses", resource="identity", resource_name=domain),
            stack.format_arn(
                service="ses",
                resource="configuration-set",
                resource_name=self.configuration_set.configuration_set_name,
            ),
        ]
