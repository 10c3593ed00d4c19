"""Which function serves a request, as API Gateway decides it, and calling its handler with
the event API Gateway would send: one way for the local HTTP server, ``make bench`` and the
tests."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

from infra.local.events import LambdaContext, api_event
from infra.platform import LAYER_SOURCE, PLATFORM, Route, function, routes

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def importable() -> None:
    """Put the common layer and every function's folder on ``sys.path``, as Lambda does."""
    for path in (str(LAYER_SOURCE), *(str(f.source) for f in PLATFORM.functions)):
        if path not in sys.path:
            sys.path.insert(0, path)


def match(method: str, path: str) -> tuple[Route | None, list[str]]:
    """The route for ``method`` on a decoded ``path``, and the methods the path allows."""
    candidates = [r for r in routes() if r.pattern.match(path)]
    # A literal segment beats a parameter, as in API Gateway.
    candidates.sort(key=lambda r: r.path.count("{"))
    allowed = sorted({r.method for r in candidates})
    return next((r for r in candidates if r.method == method), None), allowed


@cache
def handler(function_name: str) -> Handler:
    """The handler Lambda calls for a function (its module is imported on first use)."""
    importable()
    module_name, _, attribute = function(function_name).handler.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)  # type: ignore[no-any-return]


def invoke(
    method: str,
    raw_path: str,
    *,
    headers: Iterable[tuple[str, str]] | Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    claims: Mapping[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """Call the function that serves ``method raw_path`` as API Gateway would (``LookupError``
    if no route matches). Authorisation is the caller's business: ``claims`` are passed on."""
    route, _ = match(method, unquote(urlsplit(raw_path).path))
    if route is None:
        raise LookupError(f"no route for {method} {raw_path}")
    event = api_event(
        method, raw_path, headers=headers, body=body, resource=route.path, source_ip=source_ip, claims=claims
    )
    spec = function(route.function)
    return handler(route.function)(event, LambdaContext(spec.name, spec.timeout_seconds))
