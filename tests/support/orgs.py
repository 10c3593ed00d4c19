"""Driving the organisations function with API Gateway events, as signed-in users."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from infra.platform import PLATFORM
from tests.support.events import body_of, call
from tests.support.flows import claims_of, login, new_account


@dataclass
class Account:
    user_id: str
    username: str
    environment_id: str
    claims: dict[str, Any]

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return call(method, path, claims=self.claims, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        assert response["statusCode"] == status, (method, path, response["statusCode"], response.get("body"))
        return body_of(response)


def make_account(resources: Any, *, operator: bool = False) -> Account:
    created = new_account(resources, f"org-{uuid.uuid4().hex[:12]}@example.nl")
    claims = claims_of(login(created["user"]["username"])["id_token"])
    if operator:
        claims["cognito:groups"] = PLATFORM.operators_group  # as API Gateway passes the group claim on
    return Account(
        user_id=created["user"]["id"],
        username=created["user"]["username"],
        environment_id=created["environment"]["id"],
        claims={k: str(v) for k, v in claims.items()},
    )


def drain_queue(resources: Any) -> list[dict[str, Any]]:
    """Every message on the Peppol registration queue (removed from it)."""
    import boto3

    sqs = boto3.client("sqs", endpoint_url=resources.endpoint_url, region_name=resources.region)
    url = resources.queue_urls["peppol-registrations"]
    found: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
