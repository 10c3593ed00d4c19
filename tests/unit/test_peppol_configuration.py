"""The peppol functions' configuration: the SMP login from its secret (or, locally, from the
environment) and the local platform's access point, which a value of one's own overrides."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from onboarding.adapters.smp import BasicAuth, BearerToken, SmpClient
from peppol_api import wiring
from peppol_api.registrar import NotConfigured
from tests.support.services import SETTINGS

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:smp-credentials-AbCdEf"


class FakeSecrets:
    """``secret_string`` as the wiring uses it: one secret's text, and its cache."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.read: list[str] = []
        self.cleared = 0

    def __call__(self, secret_id: str) -> str:
        self.read.append(secret_id)
        return self.text

    def cache_clear(self) -> None:
        self.cleared += 1


def _smp_settings(monkeypatch: pytest.MonkeyPatch, **smp: Any) -> None:
    settings = SETTINGS.model_copy(update={"smp": SETTINGS.smp.model_copy(update=smp)})
    monkeypatch.setattr(wiring, "get_settings", lambda: settings)


def _secret(monkeypatch: pytest.MonkeyPatch, text: str) -> FakeSecrets:
    _smp_settings(monkeypatch, credentials_secret_arn=SECRET_ARN, username=None, password=None, token=None)
    secrets = FakeSecrets(text)
    monkeypatch.setattr(wiring, "secret_string", secrets)
    return secrets


def test_the_secret_with_a_username_and_password_is_http_basic(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = _secret(monkeypatch, json.dumps({"username": "peppol-onboarding", "password": "s3cret:pass"}))
    auth = wiring._credentials()
    assert auth == BasicAuth("peppol-onboarding", "s3cret:pass") and secrets.read == [SECRET_ARN]
    assert auth.header() == "Basic " + base64.b64encode(b"peppol-onboarding:s3cret:pass").decode()
    assert "s3cret" not in repr(auth)


def test_the_secret_with_a_token_is_a_bearer_token_and_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    _secret(monkeypatch, json.dumps({"token": "phoss-token", "username": "u", "password": "p"}))
    auth = wiring._credentials()
    assert auth == BearerToken("phoss-token") and auth.header() == "Bearer phoss-token"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "username=u password=hunter2",  # not JSON
        '["hunter2"]',
        '"hunter2"',
        '{"username": "u"}',  # no password
        '{"password": "hunter2"}',  # no username
        '{"username": "u", "password": ""}',
        '{"token": ""}',
        '{"username": 1, "password": 2}',
        '{"user": "u", "pass": "hunter2"}',  # other names
    ],
)
def test_a_malformed_secret_is_a_clear_error_without_its_contents(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    secrets = _secret(monkeypatch, text)
    with pytest.raises(NotConfigured) as raised:
        wiring._credentials()
    message = str(raised.value)
    assert "SMP_CREDENTIALS_SECRET_ARN" in message and '"username"' in message and '"token"' in message
    assert "hunter2" not in message and raised.value.__cause__ is None
    assert secrets.cleared == 1  # read afresh on the next attempt, once it is put right


def test_a_malformed_secret_stops_a_write_before_anything_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    client = SmpClient(
        "https://smp.example", wiring._credentials, client=httpx.Client(transport=httpx.MockTransport(answer))
    )
    _secret(monkeypatch, '{"username": "u"}')
    with pytest.raises(NotConfigured):
        client.put_service_group("0106:68750110")
    assert sent == []
    _secret(monkeypatch, json.dumps({"username": "u", "password": "p"}))  # put right
    client.put_service_group("0106:68750110")
    assert [r.headers["Authorization"] for r in sent] == ["Basic " + base64.b64encode(b"u:p").decode()]


def test_without_a_secret_the_login_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wiring, "secret_string", FakeSecrets("never read"))
    _smp_settings(monkeypatch, credentials_secret_arn=None, username="sandbox", password="pw", token=None)
    assert wiring._credentials() == BasicAuth("sandbox", "pw")
    _smp_settings(monkeypatch, credentials_secret_arn=None, username="sandbox", password="pw", token="t")
    assert wiring._credentials() == BearerToken("t")


# --- the local platform's access point ----------------------------------------------------------


def test_an_access_point_of_ones_own_wins_over_the_local_placeholder() -> None:
    from infra.local.server import LOCAL_ACCESS_POINT, local_defaults

    environ = {"ACCESS_POINT_URL": "https://ap.mine.example/as4", "ACCESS_POINT_CERTIFICATE": "bWluZQ=="}
    local_defaults(environ, {"SMP_BASE_URL": "http://127.0.0.1:9"}, LOCAL_ACCESS_POINT)
    assert environ["ACCESS_POINT_URL"] == "https://ap.mine.example/as4"
    assert environ["ACCESS_POINT_CERTIFICATE"] == "bWluZQ=="
    # What was not set is the local stand-in's.
    description = LOCAL_ACCESS_POINT["ACCESS_POINT_SERVICE_DESCRIPTION"]
    assert environ["ACCESS_POINT_SERVICE_DESCRIPTION"] == description
    assert environ["SMP_BASE_URL"] == "http://127.0.0.1:9"


def test_the_local_access_point_fills_what_is_unset_or_empty() -> None:
    from infra.local.server import LOCAL_ACCESS_POINT, local_defaults

    environ = {"ACCESS_POINT_URL": ""}  # exported empty: the settings read that as unset too
    local_defaults(environ, LOCAL_ACCESS_POINT)
    assert environ == LOCAL_ACCESS_POINT
