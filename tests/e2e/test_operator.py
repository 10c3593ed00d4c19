"""`make operator USERNAME=...` against a running `make dev`."""

from __future__ import annotations

import base64
import json
import subprocess
import uuid

from infra.platform import ROOT
from tests.e2e.conftest import RunningPlatform

PASSWORD = "a long and unusual passphrase"


def _claims(id_token: str) -> dict[str, object]:
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def test_make_operator_puts_the_user_in_the_operators_group(platform: RunningPlatform) -> None:
    http = platform.http
    email = f"operator-{uuid.uuid4().hex[:8]}@example.nl"
    http.post("/auth/signup", json={"email": email})
    token = platform.mails_to(email)[-1]["text"].split("#token=")[1].split()[0]
    username = f"operator.{uuid.uuid4().hex[:6]}"
    http.post(
        "/auth/activation/complete",
        json={
            "token": token,
            "username": username,
            "password": PASSWORD,
            "accept_terms": True,
            "terms_version": "2026-01",
        },
    )
    before = http.post("/auth/token", json={"username": username, "password": PASSWORD}).json()
    assert "cognito:groups" not in _claims(before["id_token"])

    result = subprocess.run(
        ["make", "-s", "operator", f"USERNAME={username}"],
        cwd=ROOT,
        env=platform.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    after = http.post("/auth/token", json={"username": username, "password": PASSWORD}).json()
    assert "operators" in str(_claims(after["id_token"])["cognito:groups"])


def test_make_operator_for_an_unknown_user_fails_clearly(platform: RunningPlatform) -> None:
    result = subprocess.run(
        ["make", "-s", "operator", "USERNAME=nobody-at-all"],
        cwd=ROOT,
        env=platform.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0 and "no user 'nobody-at-all'" in result.stderr
