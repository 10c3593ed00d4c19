"""The local platform under parallel load, over real HTTP (issue 8, item 14): every connection
gets an answer, and one identifier claimed at once from two tenants is claimed exactly once."""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from tests.e2e.conftest import RunningPlatform

CONNECTIONS = 50
CLAIMS = 20


def _at_once(count: int, request: Any) -> list[Any]:
    """``request(i)`` from ``count`` threads, each on its own connection, released together."""
    start = threading.Barrier(count)

    def run(i: int) -> Any:
        start.wait(timeout=30)
        try:
            return request(i)
        except OSError as exc:  # a reset or refused connection is the failure under test
            return f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def _send(
    platform: RunningPlatform, method: str, path: str, body: Any = None, token: str | None = None
) -> Any:
    split = urlsplit(platform.url)
    connection = http.client.HTTPConnection(split.hostname or "127.0.0.1", split.port, timeout=60)
    headers = {"Content-Type": "application/json", "Connection": "close"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_fifty_simultaneous_connections_all_get_an_answer(platform: RunningPlatform) -> None:
    # Requests with a body and real work behind them (token check, validation, DynamoDB): while
    # the handlers are busy the server must still take every new connection, not reset it.
    token = platform.new_account("load")[1]["id_token"]
    body = {"name": "Load BV", "country": "NL", "address": {"street": "a 1", "postal_code": "1", "city": "c"}}
    for _ in range(2):
        answers = _at_once(CONNECTIONS, lambda i: _send(platform, "POST", "/organisations", body, token))
        failed = [a for a in answers if not (isinstance(a, tuple) and a[0] in {201, 402})]
        assert not failed, failed


def test_twenty_parallel_claims_of_one_identifier_from_two_tenants_give_one_201(
    platform: RunningPlatform,
) -> None:
    tenants = []
    for prefix in ("claim-a", "claim-b"):
        token = platform.new_account(prefix)[1]["id_token"]
        body = {
            "name": f"{prefix} BV",
            "country": "NL",
            "address": {"street": "a 1", "postal_code": "1234 AB", "city": "c"},
        }
        created = platform.http.post(
            "/organisations", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert created.status_code == 201, created.text
        tenants.append((token, created.json()["id"]))
    oin = f"{uuid.uuid4().int % 10**20:020d}"

    def claim(i: int) -> Any:
        token, organisation_id = tenants[i % 2]
        return _send(
            platform,
            "POST",
            f"/organisations/{organisation_id}/identifiers",
            {"scheme": "0190", "value": oin},
            token,
        )

    answers = _at_once(CLAIMS, claim)
    statuses = sorted((a[0] if isinstance(a, tuple) else a for a in answers), key=str)
    assert statuses == [201] + [409] * (CLAIMS - 1), answers
    winners = [
        organisation_id
        for token, organisation_id in tenants
        if any(
            i["participant_id"] == f"0190:{oin}"
            for i in platform.http.get(
                f"/organisations/{organisation_id}", headers={"Authorization": f"Bearer {token}"}
            ).json()["identifiers"]
        )
    ]
    assert len(winners) == 1
