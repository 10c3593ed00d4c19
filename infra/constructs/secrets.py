"""The secrets the functions and the user pool's identity providers read (PLATFORM's SECRETS).
Ops set the values after the first deploy (`aws secretsmanager put-secret-value`); templates
never hold them. A generated secret (the pool's client secret at the Microsoft bridge) is made
by Secrets Manager itself. A provider's secrets exist only in stages that offer it."""

from __future__ import annotations

from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.nag import acknowledge
from infra.platform import GENERATED_SECRETS, IDENTITY_PROVIDERS, SECRETS

_ROTATION = {
    "kvk-api-key": "An API key issued by an outside service (the KvK); it is rotated by having the service "
    "issue a new key, which no rotation Lambda can do.",
    "smp-credentials": "The SMP's REST API login, issued by the SMP's operator; it is rotated by having the "
    "SMP issue a new one, which no rotation Lambda can do.",
    "google-client-secret": "Issued by Google for the OAuth client; rotated in the Google Cloud console, "
    "then put here.",
    "apple-private-key": "A key issued by Apple for Sign in with Apple; rotated in the Apple developer "
    "account, then put here with its new key id in cdk.json.",
    "microsoft-client-secret": "Issued by Entra ID for the app registration (it expires there); rotated in "
    "Entra ID, then put here.",
    "federation-signing-keys": "Rotated by ops with make signing-keys (a new key first, the old one kept "
    "until tokens signed with it have expired), see the README.",
    "federation-client-secret": "Shared by the user pool's Microsoft provider and the bridge; rotating it "
    "means updating both at once, which a redeploy does.",
}


class Secrets(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        enabled = set(config.identity_providers.enabled())
        offered = {name for spec in IDENTITY_PROVIDERS if spec.provider in enabled for name in spec.secrets}
        unused = {name for spec in IDENTITY_PROVIDERS for name in spec.secrets} - offered
        self.secrets: dict[str, secretsmanager.Secret] = {}
        for name, description in SECRETS.items():
            if name in unused:
                continue
            generated = (
                secretsmanager.SecretStringGenerator(password_length=48, exclude_punctuation=True)
                if name in GENERATED_SECRETS
                else None
            )
            secret = secretsmanager.Secret(
                self,
                name,
                secret_name=config.name(name),
                description=description,
                generate_secret_string=generated,
            )
            acknowledge(secret, "AwsSolutions-SMG4", _ROTATION[name])
            self.secrets[name] = secret
