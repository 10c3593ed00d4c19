"""The settings model is the one description of the configuration: variable names and defaults
are derived from it, and ``environment()`` renders values into those variables."""

from __future__ import annotations

from typing import Any

import pytest

from onboarding import settings
from onboarding.settings import environment, variable, variables

REQUIRED = {
    "table": {"name": "platform"},
    "identity": {"user_pool_id": "eu-west-1_pool", "api_client_id": "api", "operators_group": "operators"},
    "mail": {"sender": "noreply@example.nl"},
    "peppol": {"queue_url": "https://sqs.example/queue.fifo"},
}


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An environment without any setting's variable."""
    for name in variables():
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _read(monkeypatch: pytest.MonkeyPatch, values: dict[str, Any]) -> settings.Settings:
    for name, value in environment(values).items():
        monkeypatch.setenv(name, value)
    return settings.get_settings.__wrapped__()  # not the container's cached settings


def test_a_settings_variable_is_its_place_in_the_model() -> None:
    assert variable("mail.per_address_per_hour") == "MAIL_PER_ADDRESS_PER_HOUR"
    assert variable("public_url") == "PUBLIC_URL"
    found = variables()
    assert found["SMP_TIMEOUT_SECONDS"] == 5.0 and found["PEPPOL_QUEUE_URL"] is None  # None: required
    assert found["FEDERATION_PROVIDERS"] == [] and found["SML_ZONE"] == "participant.sml.test.tech.peppol.org"
    assert {"AWS_REGION", "AWS_DEFAULT_REGION"} <= set(found) and "REGION" not in found  # AWS's own


def test_environment_renders_nested_values_lists_and_leaves_out_none() -> None:
    rendered = environment(
        {
            "mail": {"sender": "a@example.nl", "configuration_set": None},
            "federation": {"providers": ["google", "apple"]},
        }
    )
    assert rendered == {"MAIL_SENDER": "a@example.nl", "FEDERATION_PROVIDERS": "google,apple"}


@pytest.mark.parametrize(
    ("values", "unknown"),
    [({"mail": {"sendr": "a@example.nl"}}, "mail.sendr"), ({"queue_url": "x"}, "queue_url")],
)
def test_environment_refuses_a_setting_that_does_not_exist(values: dict[str, Any], unknown: str) -> None:
    with pytest.raises(KeyError, match=f"there is no setting {unknown}"):
        environment(values)


def test_what_environment_renders_is_read_back_and_the_rest_keeps_its_default(
    clean: pytest.MonkeyPatch,
) -> None:
    given = {
        **REQUIRED,
        "public_url": "https://app.example.nl/",
        "peppol": {**REQUIRED["peppol"], "watchdog_seconds": 60},
        "federation": {"providers": ["google", "microsoft"]},
    }
    read = _read(clean, given)
    assert read.peppol.watchdog_seconds == 60 and read.peppol.max_receive_count == 5
    assert read.federation.providers == ["google", "microsoft"]
    assert read.public_url == "https://app.example.nl"  # without its trailing slash
    assert read.mail.per_address_per_hour == variables()["MAIL_PER_ADDRESS_PER_HOUR"] == 5
    assert read.region == "eu-west-1"
    clean.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    assert _read(clean, REQUIRED).region == "eu-central-1"


def test_a_required_setting_left_out_is_an_error(clean: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="queue_url"):
        _read(clean, {k: v for k, v in REQUIRED.items() if k != "peppol"})
