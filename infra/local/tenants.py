"""The tenant files on the local platform, as their stacks are in AWS: for each tenant, its IdP
in the emulator's user pool (an OIDC provider: the local identity provider under the tenant's
slug stands in for the tenant's own OIDC or SAML IdP), an app client that offers only it, and
its login policy, set up by the same tenant provisioner (its handler, with the request
CloudFormation sends a custom resource, its answer put to a local response URL).

``make dev`` loads them at start; ``POST /_local/tenants/reload`` loads the folder again, as a
deploy would: new and changed files are set up, removed ones taken down (their IdP and client
deleted: the way in is gone).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.local.bootstrap import hosted_login_client
from infra.local.events import custom_resource_event
from infra.local.identity_provider import Client, LocalIdentityProvider
from infra.tenants import Tenant, load_tenants
from onboarding.domain.tenancy import TenantDefinition, login_path

RESPONSES = "/_local/cloudformation/responses"
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


class TenantNotSetUp(Exception):
    """The tenant provisioner answered FAILED; the message is its reason."""


@dataclass
class LocalTenants:
    cognito: Any
    user_pool_id: str
    public_url: str
    server_url: str
    idp: LocalIdentityProvider
    provisioner: Invoke  # the tenant provisioner's function
    audiences: list[str]  # the local authorizer's app clients: a tenant's client joins them
    folder: Path
    service_token: str = "arn:aws:lambda:eu-west-1:123456789012:function:tenant-provisioner"
    _loaded: dict[str, TenantDefinition] = field(default_factory=dict)
    _answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- CloudFormation's response URL ----------------------------------------------------------
    def answer(self, request_id: str, body: bytes) -> None:
        """What the provisioner PUT to its response URL."""
        with self._lock:
            self._answers[request_id] = json.loads(body or b"{}")

    # --- Loading ----------------------------------------------------------------------------------
    def load(self) -> list[dict[str, str]]:
        """Set up every tenant file of the folder and take down those that are gone; the
        tenants now served. ``TenantFileError`` (nothing changed) or ``TenantNotSetUp``."""
        tenants = load_tenants(self.folder)
        for tenant in tenants:
            self._set_up(tenant)
        for slug in sorted(set(self._loaded) - {t.slug for t in tenants}):
            self._take_down(slug)
        return [
            {"tenant": t.slug, "name": t.file.name, "login_url": f"{self.public_url}{login_path(t.slug)}"}
            for t in tenants
        ]

    def _set_up(self, tenant: Tenant) -> None:
        secret = secrets.token_urlsafe(32)
        self.idp.clients[tenant.slug] = Client(
            f"local-{tenant.slug}-client", f"{self.server_url}/_local/cognito/oauth2/idpresponse", secret
        )
        root = self.idp.root(tenant.slug)
        details = {
            "client_id": f"local-{tenant.slug}-client",
            "client_secret": secret,
            "oidc_issuer": root,
            "authorize_url": f"{root}/authorize",
            "token_url": f"{root}/token",
            "jwks_uri": f"{root}/jwks.json",
            "attributes_request_method": "GET",
            "authorize_scopes": "openid email profile",
        }
        # The local IdP speaks OIDC claims, whatever the tenant's own IdP speaks.
        arguments = {
            "UserPoolId": self.user_pool_id,
            "ProviderName": tenant.provider_name,
            "ProviderDetails": details,
            "AttributeMapping": {"email": "email", "name": "name"},
            "IdpIdentifiers": [d for d in tenant.file.email_domains if len(d) <= 40],
        }
        try:
            self.cognito.update_identity_provider(**arguments)
        except self.cognito.exceptions.ResourceNotFoundException:
            self.cognito.create_identity_provider(ProviderType="OIDC", **arguments)
        client_id = hosted_login_client(
            self.cognito,
            self.user_pool_id,
            f"tenant-{tenant.slug}",
            providers=[tenant.provider_name],
            mapped=("email", "name"),
            public_url=self.public_url,
        )
        if client_id not in self.audiences:
            self.audiences.append(client_id)
        definition = tenant.definition(client_id)
        previous = self._loaded.get(tenant.slug)
        self._provision("Update" if previous else "Create", definition, previous)
        self._loaded[tenant.slug] = definition

    def _take_down(self, slug: str) -> None:
        definition = self._loaded.pop(slug)
        self._provision("Delete", definition, None)
        clients = self.cognito.list_user_pool_clients(UserPoolId=self.user_pool_id, MaxResults=60)
        for client in clients["UserPoolClients"]:
            if client["ClientName"] == f"tenant-{slug}":
                self.cognito.delete_user_pool_client(
                    UserPoolId=self.user_pool_id, ClientId=client["ClientId"]
                )
                if client["ClientId"] in self.audiences:
                    self.audiences.remove(client["ClientId"])
        self.cognito.delete_identity_provider(
            UserPoolId=self.user_pool_id, ProviderName=definition.provider_name
        )
        self.idp.clients.pop(slug, None)

    def _provision(
        self, request_type: str, definition: TenantDefinition, previous: TenantDefinition | None
    ) -> None:
        event = custom_resource_event(
            request_type,
            definition.model_dump(mode="json", exclude_none=True),
            response_url="",
            service_token=self.service_token,
            stack_id=f"arn:aws:cloudformation:eu-west-1:123456789012:stack/tenant-{definition.slug}/local",
            physical_id=definition.slug if request_type != "Create" else None,
            old_properties=previous.model_dump(mode="json", exclude_none=True) if previous else None,
        )
        event["ResponseURL"] = f"{self.server_url}{RESPONSES}/{event['RequestId']}"
        self.provisioner(event)
        with self._lock:
            answer = self._answers.pop(event["RequestId"], None)
        if answer is None:
            raise TenantNotSetUp(f"{definition.slug}: the tenant provisioner put no answer")
        if answer.get("Status") != "SUCCESS":
            raise TenantNotSetUp(f"{definition.slug}: {answer.get('Reason') or 'failed'}")
