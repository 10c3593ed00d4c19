"""A restricted tenant set up as its stack sets it up: CloudFormation's request to the tenant
provisioner (the same handler Lambda runs), its answer caught at a response URL of our own."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from infra.local.events import LambdaContext, custom_resource_event
from onboarding.domain.tenancy import TenantDefinition, provider_name

SERVICE_TOKEN = "arn:aws:lambda:eu-west-1:123456789012:function:tenant-provisioner"


class ResponseUrl:
    """CloudFormation's pre-signed response URL: every answer PUT there, by request id."""

    def __init__(self) -> None:
        self.answers: dict[str, dict[str, Any]] = {}
        self.content_types: list[str | None] = []
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                catcher.content_types.append(self.headers.get("Content-Type"))
                catcher.answers[body["RequestId"]] = body
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/response"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def response_url() -> Iterator[ResponseUrl]:
    catcher = ResponseUrl()
    try:
        yield catcher
    finally:
        catcher.close()


def definition(
    slug: str | None = None,
    *,
    domains: tuple[str, ...] | None = None,
    admins: tuple[str, ...] | None = None,
    environment_id: str | None = None,
    client_id: str | None = None,
) -> TenantDefinition:
    """A tenant of its own per test (the tests share one emulator): ``t<random>``, with the
    domain ``<slug>.example`` unless told otherwise."""
    slug = slug or f"t{uuid.uuid4().hex[:10]}"
    domains = domains or (f"{slug}.example",)
    return TenantDefinition(
        slug=slug,
        name=f"{slug.title()} B.V.",
        environment_id=environment_id,
        provider_name=provider_name(slug),
        client_id=client_id or f"{slug}-client",
        email_domains=domains,
        admins=admins or (f"it@{domains[0]}",),
    )


def provision(
    catcher: ResponseUrl,
    request_type: str,
    tenant: TenantDefinition | dict[str, Any],
    *,
    physical_id: str | None = None,
    old: TenantDefinition | None = None,
) -> dict[str, Any]:
    """What the tenant provisioner answers CloudFormation for ``request_type``."""
    from auth_api.provisioner import lambda_handler

    properties = (
        tenant.model_dump(mode="json", exclude_none=True) if isinstance(tenant, TenantDefinition) else tenant
    )
    event = custom_resource_event(
        request_type,
        properties,
        response_url=catcher.url,
        service_token=SERVICE_TOKEN,
        physical_id=physical_id,
        old_properties=old.model_dump(mode="json", exclude_none=True) if old else None,
    )
    lambda_handler(event, LambdaContext("tenant-provisioner", 300))
    return catcher.answers[event["RequestId"]]


def set_up(catcher: ResponseUrl, tenant: TenantDefinition) -> dict[str, Any]:
    answer = provision(catcher, "Create", tenant)
    assert answer["Status"] == "SUCCESS", answer
    return answer
