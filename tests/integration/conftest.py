from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.tenants import ResponseUrl, response_url


@pytest.fixture(autouse=True)
def _aws(local_aws: Any) -> Any:
    return local_aws


@pytest.fixture(scope="session")
def cloudformation() -> Iterator[ResponseUrl]:
    """Where the tenant provisioner puts its answers to CloudFormation."""
    with response_url() as catcher:
        yield catcher


@pytest.fixture
def service(local_aws: Any) -> Any:
    """The auth function's service as its handler built it (patch its parts to inject faults)."""
    from auth_api.handler import service as build

    return build()


@pytest.fixture
def with_settings(service: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    def apply(**groups: dict[str, Any]) -> None:
        """``with_settings(terms={"version": "2027-01"})``: change parts of the settings."""
        settings = service.settings
        changed = {name: getattr(settings, name).model_copy(update=values) for name, values in groups.items()}
        monkeypatch.setattr(service, "settings", settings.model_copy(update=changed))

    return apply


@pytest.fixture
def admin(local_aws: Any) -> Any:
    """A new account: the admin of its own environment."""
    from tests.support.orgs import make_account

    return make_account(local_aws)


@pytest.fixture(scope="module")
def operator(local_aws: Any) -> Any:
    """A platform operator (an account in the operators group)."""
    from tests.support.orgs import make_account

    return make_account(local_aws, operator=True)
