"""Federated login against `make dev`, as a browser does it: every hop followed by hand (each
must be a 302 on 127.0.0.1), cookies kept per login, identities registered at the local
identity provider."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.e2e.conftest import RunningPlatform


@dataclass
class Landing:
    """Where a login ended: the app's URL with its fragment, and the hops it took."""

    location: str
    hops: list[str]
    browser: httpx.Client

    @property
    def fragment(self) -> dict[str, str]:
        return dict(part.split("=", 1) for part in urlsplit(self.location).fragment.split("&") if "=" in part)


def register(
    platform: RunningPlatform, provider: str, email: str, sub: str | None = None, **claims: Any
) -> str:
    sub = sub or f"{provider}-{uuid.uuid4().hex[:12]}"
    response = platform.http.post(
        "/_local/idp/identities", json={"provider": provider, "sub": sub, "email": email, "claims": claims}
    )
    assert response.status_code == 201, response.text
    return sub


def browser(platform: RunningPlatform) -> httpx.Client:
    return httpx.Client(base_url=platform.url, timeout=15, trust_env=False)


def follow(client: httpx.Client, url: str, *, stop_at: str = "#", limit: int = 20) -> Landing:
    """Follow redirects from ``url`` until one leaves for a URL containing ``stop_at``."""
    hops: list[str] = []
    response = client.get(url)
    for _ in range(limit):
        assert response.status_code == 302, f"{response.status_code} at {response.url}: {response.text[:300]}"
        location = response.headers["location"]
        assert urlsplit(location).hostname == "127.0.0.1", location
        hops.append(location)
        if stop_at in location:
            return Landing(location, hops, client)
        response = client.get(location)
    raise AssertionError(f"no end after {limit} hops: {hops}")


def log_in(platform: RunningPlatform, provider: str, sub: str) -> Landing:
    return follow(browser(platform), f"/auth/login/{provider}?login_hint={sub}")


def tokens(platform: RunningPlatform, landing: Landing) -> dict[str, Any]:
    assert "session" in landing.fragment, landing.location
    response = platform.http.post("/auth/session", json={"session": landing.fragment["session"]})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def me(platform: RunningPlatform, id_token: str) -> dict[str, Any]:
    response = platform.http.get("/me", headers={"Authorization": f"Bearer {id_token}"})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def manual_account(platform: RunningPlatform, email: str) -> dict[str, Any]:
    """An activated account holding ``email``: its user and environment."""
    from onboarding.domain.rules import CURRENT_TERMS_VERSION
    from tests.e2e.conftest import PASSWORD

    created = platform.http.post(
        "/auth/activation/complete",
        json={
            "token": platform.activation_token(email),
            "username": f"manual.{uuid.uuid4().hex[:8]}",
            "password": PASSWORD,
            "accept_terms": True,
            "terms_version": CURRENT_TERMS_VERSION,
        },
    )
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]
