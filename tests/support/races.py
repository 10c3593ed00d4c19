"""Races: the same creation attempted by many threads at once."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from onboarding.domain import errors


def race(create: Callable[[int], object], times: int = 20) -> list[str]:
    """What ``times`` simultaneous calls ``create(0)``, ``create(1)``, ... came to, in order:
    ``"created"``, or the code of the domain error one raised."""

    def attempt(i: int) -> str:
        try:
            create(i)
        except errors.DomainError as exc:
            return exc.code
        return "created"

    with ThreadPoolExecutor(max_workers=times) as pool:
        return list(pool.map(attempt, range(times)))
