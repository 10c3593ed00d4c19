"""HTTP answers of the local run's own endpoints (the local identity provider, the stand-in
of Cognito's hosted login): ``(status, headers, body)`` as the local server sends them."""

from __future__ import annotations

import json
from typing import Any

Answer = tuple[int, dict[str, str], bytes]


def json_answer(status: int, body: Any) -> Answer:
    return (
        status,
        {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"},
        json.dumps(body).encode(),
    )


def redirect(location: str) -> Answer:
    return 302, {"Location": location, "Cache-Control": "no-store"}, b""
