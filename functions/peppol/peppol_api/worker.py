"""The Peppol worker: SQS batches of registration job messages, through Powertools' batch
utility (each failed record reported in ``batchItemFailures``, the rest deleted by Lambda).

The jobs of one batch run at the same time (each SMP call waits on the network, and a batch
of ten would otherwise take ten times one job): ``AsyncBatchProcessor`` gathers the records,
each record's job runs in a thread, and records of one message group (one participant) wait
for each other, so a participant's jobs never run at once even within a batch.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from onboarding.domain.registration import RegistrationMessage
from onboarding.observability import logger, metrics
from onboarding.settings import get_settings
from peppol_api import wiring
from peppol_api.registrar import Registrar

BATCH_SIZE = 10  # the event source's batch size (infra/platform.py); one thread per record

# A batch whose every record failed is reported like any other (not raised): raising would
# make Lambda scale the event source down, which is no help when the SMP is slow or down.
processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
_threads = ThreadPoolExecutor(max_workers=BATCH_SIZE, thread_name_prefix="job")
_groups: dict[str, asyncio.Lock] = {}  # per invocation: a lock per message group


@lru_cache(maxsize=1)
def registrar() -> Registrar:
    return Registrar(
        settings=get_settings(),
        jobs=wiring.jobs(),
        organisations=wiring.organisations(),
        smp=wiring.smp(),
        sml=wiring.sml(),
        endpoint=wiring.endpoint,
    )


def carry_out(record: SQSRecord) -> None:
    """One record: raises (``RetryLater`` or otherwise) when SQS should deliver it again."""
    try:
        message = RegistrationMessage.model_validate_json(record.body)
    except ValidationError:
        # Not a job's message: nothing can make it one, so it is dropped (and counted).
        logger.error("message is not a registration job", extra={"message_id": record.message_id})
        metrics.add_metric(name="MessagesWithoutJob", unit="Count", value=1)
        return
    registrar().carry_out(message, int(record.attributes.approximate_receive_count))


async def record_handler(record: SQSRecord) -> None:
    group = record.attributes.message_group_id or record.message_id
    lock = _groups.setdefault(group, asyncio.Lock())
    async with lock:
        await asyncio.get_running_loop().run_in_executor(_threads, carry_out, record)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _groups.clear()
    response = async_process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
