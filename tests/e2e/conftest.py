"""The local platform as `make dev` runs it, in its own process, for end-to-end tests."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.platform import ROOT
from onboarding.domain.rules import CURRENT_TERMS_VERSION

pytestmark = pytest.mark.e2e
PASSWORD = "a long and unusual passphrase"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RunningPlatform:
    def __init__(self, url: str, log: Path, env: dict[str, str]) -> None:
        self.url = url
        self.log = log
        self.env = env
        self.http = httpx.Client(base_url=url, timeout=15, trust_env=False)

    def outbox(self) -> list[dict[str, Any]]:
        return self.http.get("/_local/outbox").json()  # type: ignore[no-any-return]

    def mails_to(self, email: str) -> list[dict[str, Any]]:
        return [m for m in self.outbox() if email.lower() in (t.lower() for t in m["to"])]

    def activation_token(self, email: str, language: str = "nl") -> str:
        """Sign up ``email`` and read the token from the newest mail to it."""
        assert self.http.post("/auth/signup", json={"email": email, "language": language}).status_code == 202
        return str(self.mails_to(email)[-1]["text"].split("#token=")[1].split()[0])

    def new_account(self, prefix: str) -> tuple[str, dict[str, Any]]:
        """A new activated account: its username and the tokens of a first login."""
        email = f"{prefix}-{uuid.uuid4().hex[:8]}@example.nl"
        username = f"{prefix}.{uuid.uuid4().hex[:6]}"
        created = self.http.post(
            "/auth/activation/complete",
            json={
                "token": self.activation_token(email),
                "username": username,
                "password": PASSWORD,
                "accept_terms": True,
                "terms_version": CURRENT_TERMS_VERSION,
            },
        )
        assert created.status_code == 201, created.text
        return username, self.login(username)

    def make_operator(self, username: str) -> subprocess.CompletedProcess[str]:
        """`make operator USERNAME=...`, as the README tells ops to run it."""
        return subprocess.run(
            ["make", "-s", "operator", f"USERNAME={username}"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    def tenants_dir(self) -> Path:
        return Path(self.env["TENANTS_DIR"])

    def reload_tenants(self) -> list[dict[str, str]]:
        """``POST /_local/tenants/reload``: the tenant folder set up again, as a deploy would."""
        response = self.http.post("/_local/tenants/reload")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def state(self) -> dict[str, Any]:
        """What the running platform wrote to its state file (emulator, SMP, ...)."""
        return json.loads(Path(self.env["LOCAL_STATE_FILE"]).read_text())  # type: ignore[no-any-return]

    def login(self, username: str) -> dict[str, Any]:
        response = self.http.post("/auth/token", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


def start_platform(folder: Path, **extra_env: str) -> tuple[RunningPlatform, subprocess.Popen[bytes]]:
    """`make dev` (``python -m infra.local``) in its own process, with a clean environment
    plus ``extra_env``; its log and state file go to ``folder``."""
    port = _free_port()
    log = folder / "make-dev.log"
    from onboarding.settings import variables

    # A clean start: the platform sets its own resources' settings, as `make dev` does.
    settings = set(variables())
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in settings}
    # Fuzzing sends far more sign-ups from 127.0.0.1 than a person would.
    env.update(
        PORT=str(port),
        SIGNUPS_PER_IP_PER_HOUR="100000",
        PYTHONUNBUFFERED="1",
        LOCAL_STATE_FILE=str(folder / "local-platform.json"),
        **extra_env,
    )
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/auth/terms", timeout=1, trust_env=False).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the local platform did not start:\n{log.read_text()}")
        time.sleep(0.2)
    return RunningPlatform(url, log, env), process


def stop_platform(running: RunningPlatform, process: subprocess.Popen[bytes]) -> None:
    running.http.close()
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


# The tenant the session's platform starts with: restricted to its own IdP (in the file an
# OIDC IdP; locally the local identity provider under its slug). Tests add others and reload.
ACME = {
    "name": "Acme B.V.",
    "email_domains": ["acme.example"],
    "admins": ["it@acme.example"],
    "idp": {
        "type": "oidc",
        "issuer": "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0",
        "client_id": "acme-entra-app",
        "client_secret_name": "peppol-onboarding/tenants/acme",
    },
}


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    folder = tmp_path_factory.mktemp("local-platform")
    tenants = folder / "tenants"
    tenants.mkdir()
    (tenants / "acme.json").write_text(json.dumps(ACME))
    running, process = start_platform(folder, TENANTS_DIR=str(tenants))
    yield running
    stop_platform(running, process)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (browser downloads do not work here)."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: `make browser` installs it")
        pytest.skip("Chromium is not installed (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=path,
            args=[
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="nl-NL")
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()
