"""Fixtures shared by every layer of tests.

Nothing here reaches the internet: AWS is the serialised moto emulator of the local
platform, started once per session and bootstrapped from the platform description.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

# Lambda-like environment before any handler module is imported.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "PeppolOnboardingTest")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
    os.environ.pop(proxy, None)  # everything in these tests is on 127.0.0.1
os.environ["NO_PROXY"] = "127.0.0.1,localhost"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With several workers (``make test`` runs two: ``pytest -n 2 --dist loadgroup``), the
    tests that share one expensive session fixture stay together on one worker: the infra tests
    (one synth), the end-to-end tests (one `make dev`), and the schemathesis run on its own
    (with its own `make dev`), so that it runs beside the others; unit and integration tests
    (an emulator per worker) go wherever a worker is free."""
    for item in items:
        path = item.path.as_posix()
        if "/tests/infra/" in path:
            item.add_marker(pytest.mark.xdist_group("infra"))
        elif path.endswith("/tests/e2e/test_schemathesis.py"):
            item.add_marker(pytest.mark.xdist_group("schemathesis"))
        elif "/tests/e2e/" in path:
            item.add_marker(pytest.mark.xdist_group("e2e"))


@pytest.fixture(scope="session")
def local_aws() -> Iterator[object]:
    from infra.local.bootstrap import bootstrap
    from infra.local.emulator import LocalAws
    from infra.local.sandboxes import Sandboxes
    from onboarding.adapters import aws
    from onboarding.settings import get_settings

    emulator = LocalAws().start()
    sandboxes = Sandboxes().start()
    resources = bootstrap(emulator.endpoint_url, stage="test")
    os.environ.update(resources.environment("https://app.test.example"))
    os.environ.update(sandboxes.environment())
    get_settings.cache_clear()
    aws.reset_clients()
    yield resources
    sandboxes.stop()
    emulator.stop()


@pytest.fixture
def email() -> str:
    """A fresh address per test, so tests share the emulator without sharing state."""
    return f"user-{uuid.uuid4().hex[:12]}@example.nl"


@pytest.fixture
def client_ip() -> str:
    """A fresh client IP per test, so the per-IP sign-up limit is per test."""
    value = uuid.uuid4().int
    return f"198.{value % 250}.{(value >> 8) % 250}.{(value >> 16) % 250 + 1}"
