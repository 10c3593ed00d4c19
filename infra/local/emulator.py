"""An in-process moto server that handles one request at a time.

moto checks a transaction's conditions and then writes without a lock, so two concurrent
transactions could both pass; DynamoDB itself is atomic. Serialising requests gives the
local platform (and the tests that race requests) DynamoDB's guarantees."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


class _Serialised:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.outages: set[str] = set()  # services that answer 503 for now (LocalAws.outage)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if self.outages and _service_of(environ) in self.outages:
            return _unavailable(_service_of(environ), start_response)
        with self.lock:
            return list(self.app(environ, start_response))


def _service_of(environ: dict[str, Any]) -> str:
    """The AWS service a request is for, from its JSON protocol target (``AmazonSQS.SendMessage``)
    or its SigV4 credential scope (``.../eu-west-1/sqs/aws4_request``)."""
    target = str(environ.get("HTTP_X_AMZ_TARGET") or "")
    if target.startswith("AmazonSQS."):
        return "sqs"
    scope = str(environ.get("HTTP_AUTHORIZATION") or "").split("Credential=", 1)[-1].split(",", 1)[0]
    parts = scope.split("/")
    return parts[3] if len(parts) > 3 else ""


def _unavailable(service: str, start_response: Callable[..., Any]) -> list[bytes]:
    """What AWS answers when a service is down: 503 in the service's JSON error shape."""
    body = json.dumps({"__type": "ServiceUnavailable", "message": f"{service} is unavailable (local outage)"})
    start_response(
        "503 Service Unavailable",
        [
            ("Content-Type", "application/x-amz-json-1.0"),
            ("x-amzn-query-error", "ServiceUnavailable;Receiver"),
        ],
    )
    return [body.encode()]


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


def _patch_provider_links() -> None:
    """moto lacks AdminLinkProviderForUser (HTTP 500). This does what Cognito does: the
    identity of a provider (``Cognito_Subject``) becomes a way into an existing user, which
    lists it in its ``identities`` attribute; a link to another user, one to an identity that
    already has a user of its own, or a sixth link is refused as Cognito refuses it."""
    import json
    import time

    from moto.cognitoidp.exceptions import InvalidParameterException
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.exceptions import JsonRESTError
    from moto.core.responses import EmptyResult

    if hasattr(CognitoIdpResponse, "admin_link_provider_for_user"):
        return

    def admin_link_provider_for_user(self: Any) -> Any:
        pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
        destination = self._get_param("DestinationUser") or {}
        source = self._get_param("SourceUser") or {}
        if (
            destination.get("ProviderName") != "Cognito"
            or source.get("ProviderAttributeName") != "Cognito_Subject"
        ):
            raise InvalidParameterException(
                "Only Cognito users may be a destination, linked by Cognito_Subject."
            )
        provider = pool.identity_providers.get(source.get("ProviderName"))
        if provider is None:
            raise InvalidParameterException("SourceUser: the provider is not configured in the pool.")
        user = self.backend.admin_get_user(pool.id, destination.get("ProviderAttributeValue"))
        subject = str(source.get("ProviderAttributeValue"))
        links = getattr(pool, "provider_links", None)
        if links is None:
            links = pool.provider_links = {}
        key = (provider.name.lower(), subject)
        if key in links:
            raise InvalidParameterException("The SourceUser is already linked.")
        if f"{provider.name}_{subject}".lower() in {name.lower() for name in pool.users}:
            raise InvalidParameterException("The SourceUser already has a user of its own.")
        identities = json.loads(user.attribute_lookup.get("identities") or "[]")
        if len(identities) >= 5:
            raise JsonRESTError("LimitExceededException", "A user can have at most 5 linked identities.")
        identities.append(
            {
                "userId": subject,
                "providerName": provider.name,
                "providerType": provider.extended_config.get("ProviderType", "OIDC"),
                "issuer": None,
                "primary": "false",
                "dateCreated": str(int(time.time() * 1000)),
            }
        )
        user.update_attributes([{"Name": "identities", "Value": json.dumps(identities)}])
        links[key] = user.username
        return EmptyResult()

    CognitoIdpResponse.admin_link_provider_for_user = admin_link_provider_for_user  # type: ignore[attr-defined]


def linked_user(
    endpoint_url: str, region: str, user_pool_id: str, provider_name: str, subject: str
) -> str | None:
    """The user a provider's identity is linked to (what Cognito looks up at a federated
    sign-in; the API has no call for it). Only for an emulator of this process."""
    if not running_here(endpoint_url):
        return None
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.core import DEFAULT_ACCOUNT_ID  # type: ignore[attr-defined]

    pool = cognitoidp_backends[DEFAULT_ACCOUNT_ID][region].user_pools.get(user_pool_id)
    links: dict[tuple[str, str], str] = getattr(pool, "provider_links", {}) if pool else {}
    return links.get((provider_name.lower(), subject))


_RUNNING: set[str] = set()


def running_here(endpoint_url: str) -> bool:
    """Whether ``endpoint_url`` is an emulator of this process (its state is in memory here)."""
    return endpoint_url.rstrip("/") in _RUNNING


def _patch_transactions() -> None:
    """moto snapshots every table a transaction touches with a deep copy, to roll back: a
    transaction then costs time in proportion to the *table* (about 300 ms at a thousand
    items), and a busy local platform runs into client timeouts. With requests already
    serialised, the same semantics cost only the touched items: check every condition
    against the unchanged table first (the keys are distinct, so order cannot matter), write
    only if all hold, and restore just the written items if a write itself fails."""
    import copy

    from moto.dynamodb.comparisons import get_filter_expression as filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_peppol_fast_transactions", False):
        return

    def plan(self: Any, item: dict[str, Any], seen: set[tuple[str, str]]) -> tuple[Any, ...]:
        """One item: its key, the item before, and why its condition fails (or None)."""
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise MockValidationException("Unsupported transaction operation")
        table = self.get_table(op["TableName"])
        if op_type == "Put":
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        marker = (str(op["TableName"]), str(dict(sorted(key.items()))))
        if marker in seen:
            raise MultipleTransactionsException()
        seen.add(marker)
        current = self.get_item(op["TableName"], key)
        condition = op.get("ConditionExpression")
        error: tuple[Any, Any, Any] = (None, None, None)
        if condition is not None and not filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        ).expr(current):
            old = None
            if current is not None and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
                old = current.to_json()["Attributes"]
            error = ("ConditionalCheckFailed", ConditionalCheckFailed().message, old)  # type: ignore[attr-defined]
        return op_type, op, key, copy.deepcopy(current), error

    def apply(self: Any, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
        names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        if op_type == "Put":
            self.put_item(
                op["TableName"],
                op["Item"],
                expression_attribute_names=names,
                expression_attribute_values=values,
            )
        elif op_type == "Delete":
            self.delete_item(
                op["TableName"], key, expression_attribute_names=names, expression_attribute_values=values
            )
        elif op_type == "Update":
            self.update_item(
                op["TableName"],
                key,
                update_expression=op["UpdateExpression"],
                expression_attribute_names=names,
                expression_attribute_values=values,
            )

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        seen: set[tuple[str, str]] = set()
        planned = [plan(self, item, seen) for item in transact_items]
        errors = [p[4] for p in planned]
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        done: list[tuple[str, dict[str, Any], Any]] = []
        try:
            for op_type, op, key, before, _ in planned:
                apply(self, op_type, op, key)
                done.append((op["TableName"], key, before))
        except Exception:
            for table_name, key, before in reversed(done):  # put back exactly what was written
                if before is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, before.to_json()["Attributes"])
            raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    DynamoDBBackend._peppol_fast_transactions = True  # type: ignore[attr-defined]


def _wire_ready(value: Any) -> bool:
    """Whether a DynamoDB attribute value (``{"S": "x"}``, ``{"M": {...}}``, ...) is already
    what the wire carries: made of strings, booleans, lists and maps only. Binary values
    (``B``, ``BS``) are not: they are raw bytes that the response must base64-encode."""
    if type(value) is not dict or len(value) != 1:
        return False
    ((kind, inner),) = value.items()
    check = _WIRE_READY.get(kind)
    return check is not None and check(inner)


_WIRE_READY: dict[str, Callable[[Any], bool]] = {
    "S": lambda inner: type(inner) is str,
    "N": lambda inner: type(inner) is str,
    "SS": lambda inner: type(inner) is list and all(type(member) is str for member in inner),
    "NS": lambda inner: type(inner) is list and all(type(member) is str for member in inner),
    "BOOL": lambda inner: type(inner) is bool,
    "NULL": lambda inner: type(inner) is bool,
    "M": lambda inner: (
        type(inner) is dict and all(type(key) is str and _wire_ready(member) for key, member in inner.items())
    ),
    "L": lambda inner: type(inner) is list and all(_wire_ready(member) for member in inner),
    # B and BS are not: raw bytes that the response must base64-encode.
}


def _patch_item_serialisation() -> None:
    """moto serialises every response by walking the operation's output shape, member by
    member; DynamoDB's attribute value shape is recursive with ten members, so an item of a
    few dozen attributes costs milliseconds (a ``BatchGetItem`` of twenty organisations and
    jobs about 70 ms, ten times the call itself), all of it inside the one-request-at-a-time
    lock. An attribute value that is already in wire form (anything but binary) is copied as
    it is, which is what the walk produces for it (pinned by a test against moto's own)."""
    from moto.core import serialize

    if "dynamodb" in serialize.SERVICE_SPECIFIC_SERIALIZERS:
        return
    stock = serialize.JSONSerializer

    class DynamoDBSerializer(stock):  # type: ignore[misc, valid-type]
        def _serialize(self, serialized: Any, value: Any, shape: Any, key: str) -> None:
            if key and shape.name == "AttributeValue" and _wire_ready(value):
                serialized[shape.serialization.get("name", key)] = value
                return
            super()._serialize(serialized, value, shape, key)

    serialize.SERVICE_SPECIFIC_SERIALIZERS["dynamodb"] = {"json": DynamoDBSerializer}


def _patch_update_expressions() -> None:
    """Most of an ``UpdateItem``'s time in moto goes to its update expression: parsed twice
    per request (once to check the names and values used, once to apply it), and then
    walked ten times, asking each node's processor for a mapping it builds anew per node.
    The same expressions come again and again (a job's transition, a participant's state),
    and moto only reads a parsed expression (its validator works on a deep copy), so a parse
    is kept per expression text; and each walker builds its mapping once."""
    from functools import lru_cache

    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser  # type: ignore[attr-defined]
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

    if getattr(UpdateExpressionParser, "_peppol_cached", False):
        return
    parse = UpdateExpressionParser.make.__func__  # type: ignore[attr-defined]
    cached = lru_cache(maxsize=256)(lambda expression: parse(UpdateExpressionParser, expression))
    UpdateExpressionParser.make = staticmethod(cached)  # type: ignore[method-assign, assignment]
    UpdateExpressionParser._peppol_cached = True  # type: ignore[attr-defined]

    def processing(self: Any) -> dict[type, Any]:
        found: dict[type, Any] | None = self.__dict__.get("_peppol_map")
        if found is None:
            found = self.__dict__["_peppol_map"] = self._processing_map()
        return found

    def nodes_to_be_processed(self: Any) -> tuple[type, ...]:
        return tuple(processing(self))

    def process(self: Any, node: Any) -> Any:
        for kind, processor in processing(self).items():
            if isinstance(node, kind):
                return processor(node)
        return None

    DepthFirstTraverser.nodes_to_be_processed = nodes_to_be_processed  # type: ignore[method-assign]
    DepthFirstTraverser.process = process  # type: ignore[method-assign]


def _patch_request_overhead() -> None:
    """What moto works out afresh for every request although it never changes: the list of
    its service modules (a directory listing and a ``stat`` per module, to route the
    request), a response class's method names (``inspect.getmembers``) and the snake-case
    form of an action's name. Kept once, each of them (pure functions of their arguments)."""
    from functools import lru_cache

    from moto import backends
    from moto.core import responses

    if getattr(backends, "_peppol_cached", False):
        return
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    names: Any = responses
    names.method_names_from_class = lru_cache(maxsize=None)(names.method_names_from_class)
    names.camelcase_to_underscores = lru_cache(maxsize=4096)(names.camelcase_to_underscores)
    backends._peppol_cached = True  # type: ignore[attr-defined]


class LocalAws:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        import logging

        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        _patch_moto_gaps()
        _patch_provider_links()
        _patch_transactions()
        _patch_item_serialisation()
        _patch_update_expressions()
        _patch_request_overhead()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call is noise
        app = _Serialised(DomainDispatcherApplication(create_backend_app))
        self._app = app

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

    def outage(self, service: str, down: bool) -> set[str]:
        """Make a service (``sqs``, ``dynamodb``, ...) answer 503 until it is up again, as in an
        AWS outage; the services that are down."""
        if down:
            self._app.outages.add(service)
        else:
            self._app.outages.discard(service)
        return set(self._app.outages)

    def start(self) -> LocalAws:
        self._thread.start()
        _RUNNING.add(self.endpoint_url)
        return self

    def stop(self) -> None:
        _RUNNING.discard(self.endpoint_url)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def own_process() -> Iterator[str]:
    """The emulator in a process of its own (its endpoint URL), as AWS is not in the caller's
    process either: ``make bench`` measures the worker's concurrency, not the GIL it would
    otherwise share with the emulator."""
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local.emulator"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":  # python -m infra.local.emulator: serve until terminated
    import time

    print(LocalAws().start().endpoint_url, flush=True)
    while True:
        time.sleep(3600)
