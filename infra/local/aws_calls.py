"""Counting AWS calls: a botocore hook on the clients the layer creates (tests and `make bench`)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class CallLog:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, event_name: str, **kwargs: Any) -> None:
        # before-call.<service>.<Operation>
        _, service, operation = event_name.split(".", 2)
        with self._lock:
            self.calls.append(f"{service}.{operation}")

    @property
    def count(self) -> int:
        return len(self.calls)

    def by_operation(self) -> Counter[str]:
        return Counter(self.calls)


@contextmanager
def count_aws_calls(*services: str) -> Iterator[CallLog]:
    from onboarding.adapters import aws

    log = CallLog()
    clients = [aws.client(s) for s in services or ("dynamodb", "cognito-idp", "sesv2")]
    for client in clients:
        client.meta.events.register("before-call.*.*", log)
    try:
        yield log
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.*.*", log)
