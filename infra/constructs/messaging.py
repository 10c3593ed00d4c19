"""The Peppol registration queue (FIFO: one message group per participant) and its
dead-letter queue, with an alarm on any message in it."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import StageConfig
from infra.platform import PLATFORM


class Messaging(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        for spec in PLATFORM.queues:
            fifo = spec.fifo or None
            dlq = sqs.Queue(
                self,
                f"{spec.name}-dlq",
                queue_name=config.name(f"{spec.name}-dlq") + spec.suffix,
                fifo=fifo,
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=cdk.Duration.days(14),
            )
            queue = sqs.Queue(
                self,
                spec.name,
                queue_name=config.name(spec.name) + spec.suffix,
                fifo=fifo,
                # Deduplication by the id each message carries (one per sending of a job).
                content_based_deduplication=False if spec.fifo else None,
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                visibility_timeout=cdk.Duration.seconds(spec.visibility_timeout_seconds),
                retention_period=cdk.Duration.days(4),
                dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=spec.max_receive_count, queue=dlq),
            )
            # Nothing may sit in a dead-letter queue unnoticed.
            cloudwatch.Alarm(
                self,
                f"{spec.name}-dlq-not-empty",
                metric=dlq.metric_approximate_number_of_messages_visible(period=cdk.Duration.minutes(5)),
                threshold=0,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                alarm_description=f"Messages in {config.name(spec.name)}-dlq: registrations failed",
            )
            self.queues[spec.name] = queue
            self.dead_letter_queues[spec.name] = dlq
