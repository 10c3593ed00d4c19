"""Property-based tests of every documented operation against `make dev` (bounded)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from tests.e2e.conftest import RunningPlatform

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 25


def _id_token(platform: RunningPlatform) -> str:
    http = platform.http
    email = f"fuzz-{uuid.uuid4().hex[:8]}@example.nl"
    http.post("/auth/signup", json={"email": email})
    token = platform.mails_to(email)[-1]["text"].split("#token=")[1].split()[0]
    username = f"fuzz.{uuid.uuid4().hex[:6]}"
    created = http.post(
        "/auth/activation/complete",
        json={
            "token": token,
            "username": username,
            "password": "a long and unusual passphrase",
            "accept_terms": True,
            "terms_version": "2026-01",
        },
    )
    assert created.status_code == 201, created.text
    tokens = http.post(
        "/auth/token", json={"username": username, "password": "a long and unusual passphrase"}
    )
    return str(tokens.json()["id_token"])


def test_every_operation_holds_up_under_generated_requests(platform: RunningPlatform, tmp_path: Path) -> None:
    st = Path(sys.executable).parent / "st"
    command = [
        str(st),
        "--config-file",
        str(CONFIG),
        "run",
        f"{platform.url}/openapi.json",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20261128",
        "--request-timeout",
        "15",
        "--header",
        f"Authorization: Bearer {_id_token(platform)}",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
