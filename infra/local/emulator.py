"""An in-process moto server that handles one request at a time.

moto checks a transaction's conditions and then writes without a lock, so two concurrent
transactions could both pass; DynamoDB itself is atomic. Serialising requests gives the
local platform (and the tests that race requests) DynamoDB's guarantees."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


class _Serialised:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.lock:
            return list(self.app(environ, start_response))


def _patch_moto_gaps() -> None:
    """Where moto fails differently from AWS, make it answer as AWS does."""
    from moto.cognitoidp import models
    from moto.cognitoidp.exceptions import NotAuthorizedError

    pool = models.CognitoIdpUserPool
    if getattr(pool, "_peppol_patched", False):
        return
    original = pool.create_tokens_from_refresh_token

    def create_tokens_from_refresh_token(self: Any, refresh_token: str) -> Any:
        # moto raises KeyError (HTTP 500) for a token it never issued; Cognito says
        # NotAuthorizedException.
        if refresh_token not in self.refresh_tokens:
            raise NotAuthorizedError(refresh_token)
        return original(self, refresh_token)

    setattr(pool, "create_tokens_from_refresh_token", create_tokens_from_refresh_token)  # noqa: B010
    setattr(pool, "_peppol_patched", True)  # noqa: B010


_RUNNING: set[str] = set()


def running_here(endpoint_url: str) -> bool:
    """Whether ``endpoint_url`` is an emulator of this process (its state is in memory here)."""
    return endpoint_url.rstrip("/") in _RUNNING


class LocalAws:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        import logging

        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        _patch_moto_gaps()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call is noise
        app = _Serialised(DomainDispatcherApplication(create_backend_app))

        class QuietHandler(MotoRequestHandler):  # type: ignore[misc]
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="local-aws"
        )

    @property
    def endpoint_url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> LocalAws:
        self._thread.start()
        _RUNNING.add(self.endpoint_url)
        return self

    def stop(self) -> None:
        _RUNNING.discard(self.endpoint_url)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
