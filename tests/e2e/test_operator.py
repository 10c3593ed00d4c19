"""`make operator USERNAME=...` against a running `make dev`."""

from __future__ import annotations

import base64
import json

from tests.e2e.conftest import RunningPlatform


def _claims(id_token: str) -> dict[str, object]:
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def test_make_operator_puts_the_user_in_the_operators_group(platform: RunningPlatform) -> None:
    username, tokens = platform.new_account("operator")
    assert "cognito:groups" not in _claims(tokens["id_token"])
    result = platform.make_operator(username)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "operators" in str(_claims(platform.login(username)["id_token"])["cognito:groups"])


def test_make_operator_for_an_unknown_user_fails_clearly(platform: RunningPlatform) -> None:
    result = platform.make_operator("nobody-at-all")
    assert result.returncode != 0 and "no user 'nobody-at-all'" in result.stderr
