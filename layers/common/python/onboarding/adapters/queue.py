"""The Peppol registration queue (SQS FIFO): one message group per participant, so SQS never
hands out two jobs of one participant at once; deduplicated per sending of a job, so the API
and the outbox sweeper sending the same job make one message."""

from __future__ import annotations

from typing import Any

from onboarding.adapters import aws
from onboarding.domain.errors import QueueUnavailable
from onboarding.domain.registration import RegistrationMessage


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
                MessageGroupId=message.group_id,
                MessageDeduplicationId=message.deduplication_id,
                MessageAttributes={"job_id": {"DataType": "String", "StringValue": message.job_id}},
            )
        except Exception as exc:
            raise QueueUnavailable(aws.error_code(exc) or type(exc).__name__) from exc
