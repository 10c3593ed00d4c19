"""What starts the functions that serve no route, locally, as AWS does it:

- ``QueueEventSource``: Lambda's SQS event source mapping. It receives up to a batch of
  messages, invokes the function with the SQS event built from them, deletes the records the
  function did not report in ``batchItemFailures`` (all of them stay if it raised), and leaves
  the rest to come back after the queue's visibility timeout; the emulator moves a message to
  the dead-letter queue once it was received ``maxReceiveCount`` times, as SQS does.
- ``ScheduleSource``: an EventBridge schedule, invoking the function with a scheduled event.
- ``Background``: runs them in threads for ``make dev`` (a batch at a time, like one Lambda
  instance), and ``JobConsole`` prints every registration job's state changes.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from infra.local import router
from infra.local.events import LambdaContext, scheduled_event, sqs_event
from infra.platform import FunctionSpec


@dataclass
class BatchOutcome:
    received: list[dict[str, Any]]
    failed: list[str]  # message ids reported (or all, if the function raised)
    response: dict[str, Any] | None = None
    error: str | None = None

    @property
    def job_ids(self) -> list[str]:
        found = []
        for message in self.received:
            try:
                found.append(str(json.loads(message["Body"])["job_id"]))
            except (ValueError, KeyError, TypeError):
                continue
        return found


def _invoke(spec: FunctionSpec, event: dict[str, Any]) -> Any:
    """The function's handler, on a thread of its own as in Lambda: the caller's thread may run
    an event loop (a test process driving a browser), where the worker could not run its own."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=spec.name) as thread:
        return thread.submit(
            router.handler(spec.name), event, LambdaContext(spec.name, spec.timeout_seconds)
        ).result()


class QueueEventSource:
    def __init__(self, spec: FunctionSpec, sqs: Any, queue_url: str, queue_arn: str) -> None:
        assert spec.queue_source is not None
        self.spec = spec
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn

    def poll(self) -> BatchOutcome | None:
        """One batch, if there is one. No long polling: the emulator serves one request at a
        time, and a waiting receive would hold everybody else up."""
        assert self.spec.queue_source is not None
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.spec.queue_source.batch_size,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return None
        return self.deliver(received)

    def deliver(self, received: list[dict[str, Any]]) -> BatchOutcome:
        """Invoke the function with these messages and settle them as Lambda does."""
        ids = [m["MessageId"] for m in received]
        try:
            response = _invoke(self.spec, sqs_event(received, self.queue_arn))
        except Exception as exc:
            return BatchOutcome(received, failed=ids, error=f"{type(exc).__name__}: {exc}")
        failures = (response or {}).get("batchItemFailures") or []
        failed = [str(f["itemIdentifier"]) for f in failures]
        done = [m for m in received if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + 10])
                ],
            )
        return BatchOutcome(received, failed=failed, response=response)


class ScheduleSource:
    def __init__(self, spec: FunctionSpec, rule_arn: str) -> None:
        self.spec = spec
        self.rule_arn = rule_arn

    def fire(self) -> Any:
        return _invoke(self.spec, scheduled_event(self.rule_arn))


@dataclass
class JobConsole:
    """Prints each registration job's new history entries (``[peppol] ...``)."""

    read_job: Callable[[str], Any]
    seen: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def show(self, job_ids: list[str]) -> None:
        for job_id in dict.fromkeys(job_ids):
            job = self.read_job(job_id)
            if job is None:
                continue
            with self.lock:
                shown = self.seen.get(job_id, 0)
                for event in job.history[shown:]:
                    note = f" - {event.note}" if event.note else ""
                    attempt = f" (attempt {event.attempt})" if event.attempt else ""
                    what = f"{event.status.value}{attempt}{note}"
                    print(f"[peppol] job {job.id[:8]} {job.participant_id}: {what}", flush=True)
                self.seen[job_id] = len(job.history)


class Background:
    """The queue pollers and schedules of ``make dev``, each in its own thread."""

    def __init__(
        self,
        queues: list[QueueEventSource],
        schedules: list[ScheduleSource],
        console: JobConsole | None = None,
        *,
        poll_interval: float = 0.2,
        schedule_seconds: float | None = None,
    ) -> None:
        self.queues = queues
        self.schedules = schedules
        self.console = console
        self.poll_interval = poll_interval
        self.schedule_seconds = schedule_seconds
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> Background:
        for source in self.queues:
            self._spawn(f"poll-{source.spec.name}", lambda s=source: self._poll_loop(s))  # type: ignore[misc]
        for schedule in self.schedules:
            self._spawn(f"schedule-{schedule.spec.name}", lambda s=schedule: self._schedule_loop(s))  # type: ignore[misc]
        return self

    def stop(self) -> None:
        self._stopped.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, daemon=True, name=name)
        thread.start()
        self._threads.append(thread)

    def _poll_loop(self, source: QueueEventSource) -> None:
        failing = False
        while not self._stopped.is_set():
            try:
                outcome = source.poll()
            except Exception as exc:
                if not failing:
                    print(
                        f"[worker] cannot poll the queue: {type(exc).__name__}", file=sys.stderr, flush=True
                    )
                failing = True
                self._stopped.wait(1.0)
                continue
            failing = False
            if outcome is None:
                self._stopped.wait(self.poll_interval)
                continue
            if outcome.error:
                print(f"[worker] {source.spec.name} failed: {outcome.error}", file=sys.stderr, flush=True)
            if self.console:
                self.console.show(outcome.job_ids)

    def _schedule_loop(self, schedule: ScheduleSource) -> None:
        interval = self.schedule_seconds or (schedule.spec.schedule_minutes or 1) * 60
        while not self._stopped.wait(interval):
            try:
                result = schedule.fire()
            except Exception as exc:
                print(f"[schedule] {schedule.spec.name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
            if self.console and isinstance(result, dict):
                self.console.show([job for ids in result.values() for job in ids])
