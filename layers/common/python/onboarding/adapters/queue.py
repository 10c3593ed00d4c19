"""The Peppol registration queue (SQS)."""

from __future__ import annotations

from typing import Any

from onboarding.adapters import aws
from onboarding.domain.errors import QueueUnavailable
from onboarding.domain.organisations import RegistrationMessage


class RegistrationQueue:
    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self.queue_url = queue_url
        self._client = client

    def send(self, message: RegistrationMessage) -> None:
        client = self._client if self._client is not None else aws.client("sqs")
        try:
            client.send_message(
                QueueUrl=self.queue_url,
                MessageBody=message.model_dump_json(),
                MessageAttributes={"job_id": {"DataType": "String", "StringValue": message.job_id}},
            )
        except Exception as exc:
            raise QueueUnavailable(aws.error_code(exc) or type(exc).__name__) from exc
