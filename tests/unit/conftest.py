"""Unit tests are pure: no network at all (pytest-socket refuses every socket), no emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pytest_socket import disable_socket, enable_socket


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=False)
    try:
        yield
    finally:
        enable_socket()


@pytest.fixture
def world() -> Any:
    """The in-memory fakes of the ports, the services wired to them, and a clock."""
    from tests.support.services import World

    return World()


@pytest.fixture
def admin(world: Any) -> Any:
    """An admin of a fresh environment who accepted the current terms."""
    return world.user()
