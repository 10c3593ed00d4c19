"""`make bench`'s Peppol figures: the worker against the SMP sandbox answering every call
after 100 ms, driven with real SQS event batches from the emulator's queue.

- one job alone, and a batch of ten jobs (the ten run at the same time: the batch must take
  at most 1.5 times one job; the line says whether it does). Each job is one organisation's
  (of one identifier, as most are): the emulator serves one request at a time, so ten jobs'
  reads and writes queue there in a way DynamoDB's would not. Single jobs and batches take
  turns, so a machine that gets busier meanwhile slows both alike;
- the sandbox itself: ten calls at once should take one call's time (it must not serialise);
- jobs per second through the local event source (one poller, like one Lambda instance);
- AWS calls per job.
"""

from __future__ import annotations

import json
import re
import statistics
import time
import uuid
from typing import Any

from infra.local.aws_calls import count_aws_calls
from infra.local.event_sources import QueueEventSource
from infra.local.events import LambdaContext, sqs_event
from infra.local.outbox import read_outbox
from infra.local.router import handler, invoke
from infra.platform import PLATFORM, function
from onboarding.domain.rules import CURRENT_TERMS_VERSION

SMP_DELAY = 0.1  # seconds per SMP call
BATCH_LIMIT = 1.5  # issue 9: a batch of 10 jobs takes at most 1.5 times one job
SAMPLES = 5  # single jobs and batches of ten, taking turns
PASSWORD = "a long and unusual passphrase"
ACCESS_POINT = {
    "ACCESS_POINT_URL": "https://ap.bench.example/as4",
    "ACCESS_POINT_CERTIFICATE": "YmVuY2ggY2VydGlmaWNhdGU=",
}


class Bench:
    def __init__(self, resources: Any) -> None:
        import boto3

        self.resources = resources
        self.sqs = boto3.client("sqs", endpoint_url=resources.endpoint_url, region_name=resources.region)
        self.queue_url = resources.queue_urls["peppol-registrations"]
        self.source = QueueEventSource(
            function("peppol-worker"), self.sqs, self.queue_url, resources.queue_arns["peppol-registrations"]
        )
        self.claims: dict[str, str] = {}
        self.organisations: list[str] = []

    def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        response = invoke(
            method,
            path,
            headers={"Content-Type": "application/json"},
            body=json.dumps(body) if body is not None else None,
            claims=self.claims or None,
            source_ip="192.0.2.9",
        )
        _forget_metrics()
        status = int(response["statusCode"])
        if status >= 400:
            raise RuntimeError(f"{method} {path}: {status} {response.get('body')}")
        return json.loads(response["body"]) if response.get("body") else {}

    def account(self) -> None:
        """An account that is admin of its environment and operator at once."""
        email = f"bench-{uuid.uuid4().hex[:8]}@example.nl"
        self.call("POST", "/auth/signup", {"email": email})
        mail = [m for m in read_outbox(self.resources.endpoint_url) if email in m["to"]][-1]
        found = re.search(r"#token=([A-Za-z0-9_-]{43})", mail["text"])
        assert found
        username = f"bench.{uuid.uuid4().hex[:6]}"
        self.call(
            "POST",
            "/auth/activation/complete",
            {
                "token": found.group(1),
                "username": username,
                "password": PASSWORD,
                "accept_terms": True,
                "terms_version": CURRENT_TERMS_VERSION,
            },
        )
        from onboarding.domain.ports import Tokens

        token = self.call("POST", "/auth/token", {"username": username, "password": PASSWORD})["id_token"]
        claims = Tokens(id_token=token, access_token="", refresh_token=None, expires_in=0).claims()
        self.claims = {k: str(v) for k, v in claims.items()} | {"cognito:groups": PLATFORM.operators_group}
        environment = self.call("GET", "/environment")["id"]
        self.call("POST", f"/admin/environments/{environment}/credit", {"amount_cents": 100_000})

    def set_up(self, organisations: int) -> None:
        """``organisations`` active organisations of one OIN each, registered for sending (an
        operator approved them and the worker carried the jobs out)."""
        self.account()
        for _ in range(organisations):
            created = self.call(
                "POST",
                "/organisations",
                {
                    "name": "Bench BV",
                    "country": "NL",
                    "address": {"street": "Hoofdstraat 1", "postal_code": "1234AB", "city": "Utrecht"},
                    "identifiers": [{"scheme": "0190", "value": f"{uuid.uuid4().int % 10**20:020d}"}],
                },
            )
            self.call("POST", f"/organisations/{created['id']}/activation", {"method": "manual_review"})
            self.call("POST", f"/admin/organisations/{created['id']}/activation/approve", {})
            self.organisations.append(created["id"])
        self.run_all()

    def ask(self, organisations: list[str]) -> None:
        """Each of these starts receiving e-invoices: a receive registration job each."""
        for organisation_id in organisations:
            self.call(
                "PUT", f"/organisations/{organisation_id}/receiving", {"enabled": True, "accept_costs": True}
            )

    def receive(self, count: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < count:
            got = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, count - len(messages)),
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not got:
                break
            messages += [dict(m) for m in got]
        return messages

    def timed_batch(self, organisations: list[str]) -> tuple[float, int]:
        """Seconds the worker takes for one SQS event holding these organisations' jobs."""
        self.ask(organisations)
        messages = self.receive(len(organisations))
        event = sqs_event(messages, self.resources.queue_arns["peppol-registrations"])
        worker = handler("peppol-worker")
        started = time.perf_counter()
        response = worker(event, LambdaContext("peppol-worker", 60))
        elapsed = time.perf_counter() - started
        _forget_metrics()
        self.sqs.delete_message_batch(
            QueueUrl=self.queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        return elapsed, len(response["batchItemFailures"])

    def run_all(self) -> int:
        done = 0
        while (outcome := self.source.poll()) is not None:
            done += len(outcome.received) - len(outcome.failed)
            _forget_metrics()
        return done


def _forget_metrics() -> None:
    """With metrics disabled Powertools never flushes them, and prints them all once a metric
    has a hundred values: forget them after each invocation instead."""
    from onboarding.observability import metrics

    metrics.clear_metrics()


def sandbox_concurrency(calls: int = 10) -> float:
    """Seconds the SMP sandbox takes to answer ``calls`` reads sent at once, each on a
    connection of its own (as a batch's jobs do)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    url = os.environ["SMP_BASE_URL"].rstrip("/") + "/iso6523-actorid-upis%3A%3A0106%3A00000000"
    with httpx.Client(limits=httpx.Limits(max_connections=calls)) as client:
        client.get(url)  # one connection up and the sandbox warm
        with ThreadPoolExecutor(max_workers=calls) as threads:
            started = time.perf_counter()
            list(threads.map(lambda _: client.get(url), range(calls)))
            return time.perf_counter() - started


def verdict(ratio: float, limit: float) -> str:
    return f"{ratio:.2f}x one job: {'PASS' if ratio <= limit else 'FAIL'} (limit {limit}x)"


def peppol(resources: Any) -> None:
    """The functions' settings point at an SMP sandbox that answers after ``SMP_DELAY``."""
    bench = Bench(resources)
    bench.set_up(organisations=11 * SAMPLES + 30)
    spare = iter(bench.organisations)
    print(f"\nPeppol worker, SMP sandbox answering each call after {SMP_DELAY * 1000:.0f} ms")
    at_once = sandbox_concurrency()
    single_call = f"(one call: {SMP_DELAY * 1000:.0f} ms)"
    print(f"  {'the sandbox: 10 calls at once':42} {at_once * 1000:8.0f} ms   {single_call}")
    print("  a job: receiving turned on (4 SMP calls: the group, 2 document types, the business card)")
    singles, batches = [], []
    for _ in range(SAMPLES):  # taking turns, so load on the machine hits both alike
        singles.append(bench.timed_batch([next(spare)])[0])
        elapsed, failures = bench.timed_batch([next(spare) for _ in range(10)])
        assert failures == 0, failures
        batches.append(elapsed)
    one, ten = statistics.median(singles), statistics.median(batches)
    print(f"  {f'one job (median of {SAMPLES})':42} {one * 1000:8.0f} ms")
    batch = f"a batch of 10 jobs (median of {SAMPLES})"
    print(f"  {batch:42} {ten * 1000:8.0f} ms   {verdict(ten / one, BATCH_LIMIT)}")
    rest = list(spare)
    with count_aws_calls("dynamodb", "sqs") as log:
        bench.ask(rest[:1])
    asked = log.count
    bench.ask(rest[1:])
    started = time.perf_counter()
    with count_aws_calls("dynamodb") as log:
        done = bench.run_all()
    elapsed = time.perf_counter() - started
    print(f"  {'jobs per second (one poller, batches of 10)':42} {done / elapsed:8.1f}   ({done} jobs)")
    print(f"  {'AWS calls: PUT .../receiving (starts a job)':42} {asked:8d}")
    per_job = ", ".join(
        f"{op.removeprefix('dynamodb.')} {n / done:.1f}"
        for op, n in log.by_operation().items()
        if op.startswith("dynamodb")
    )
    print(f"  {'DynamoDB calls per job in the worker':42} {per_job} (the read is one per batch)")


__all__ = ["peppol"]
