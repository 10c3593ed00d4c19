"""The Peppol worker: SQS batches of registration job messages, through Powertools' batch
utility (each failed record reported in ``batchItemFailures``, the rest deleted by Lambda).

The jobs of one batch run at the same time (each SMP call waits on the network, and a batch
of ten would otherwise take ten times one job): ``AsyncBatchProcessor`` gathers the records,
each record's job runs in a thread, and records of one message group (one participant) wait
for each other, so a participant's jobs never run at once even within a batch. The batch's
jobs and organisations are read first, in one round trip.
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
# Each job reads the SMP's service group while its start is written (``Registrar.lookups``).
_lookups = ThreadPoolExecutor(max_workers=BATCH_SIZE, thread_name_prefix="lookup")
_groups: dict[str, asyncio.Lock] = {}  # per invocation: a lock per message group
_loaded: dict[str, Any] = {}  # per invocation: message id -> (job, organisation) read up front


@lru_cache(maxsize=1)
def registrar() -> Registrar:
    return Registrar(
        settings=get_settings(),
        jobs=wiring.jobs(),
        organisations=wiring.organisations(),
        smp=wiring.smp(),
        sml=wiring.sml(),
        endpoint=wiring.endpoint,
        lookups=_lookups,
    )


def _message(record: SQSRecord) -> RegistrationMessage | None:
    try:
        return RegistrationMessage.model_validate_json(record.body)
    except ValidationError:
        return None


def carry_out(record: SQSRecord) -> None:
    """One record: raises (``RetryLater`` or otherwise) when SQS should deliver it again."""
    message = _message(record)
    if message is None:
        # Not a job's message: nothing can make it one, so it is dropped (and counted).
        logger.error("message is not a registration job", extra={"message_id": record.message_id})
        metrics.add_metric(name="MessagesWithoutJob", unit="Count", value=1)
        return
    loaded = _loaded.pop(record.message_id, None)
    registrar().carry_out(message, int(record.attributes.approximate_receive_count), loaded)


def _load(event: dict[str, Any]) -> None:
    """Read every record's job and organisation in one round trip; a record of a job seen
    earlier in the batch reads its own (the first may have changed it). If this read fails,
    each record reads for itself."""
    _loaded.clear()
    first: dict[str, tuple[str, RegistrationMessage]] = {}
    for raw in event.get("Records") or []:
        message = _message(SQSRecord(raw))
        if message is not None and message.job_id not in first:
            first[message.job_id] = (str(raw.get("messageId")), message)
    if not first:
        return
    try:
        found = registrar().load([message for _, message in first.values()])
    except Exception as exc:
        logger.warning("could not read the batch's jobs", extra={"error": type(exc).__name__})
        return
    _loaded.update({message_id: pair for (message_id, _), pair in zip(first.values(), found, strict=True)})


async def record_handler(record: SQSRecord) -> None:
    group = record.attributes.message_group_id or record.message_id
    lock = _groups.setdefault(group, asyncio.Lock())
    async with lock:
        await asyncio.get_running_loop().run_in_executor(_threads, carry_out, record)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _groups.clear()
    _load(event)
    response = async_process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
