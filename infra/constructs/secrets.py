"""The secrets the functions read (PLATFORM's SECRETS). Ops set the values after the first
deploy (`aws secretsmanager put-secret-value`); templates never hold them."""

from __future__ import annotations

from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.nag import acknowledge
from infra.platform import SECRETS


class Secrets(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        self.secrets: dict[str, secretsmanager.Secret] = {}
        for name, description in SECRETS.items():
            secret = secretsmanager.Secret(self, name, secret_name=config.name(name), description=description)
            acknowledge(
                secret,
                "AwsSolutions-SMG4",
                "A credential issued by an outside service (the KvK's API key, the SMP's login); it is "
                "rotated by having that service issue a new one, which no rotation Lambda can do.",
            )
            self.secrets[name] = secret
