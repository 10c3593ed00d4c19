"""boto3 clients, created once per container and only when first needed.

boto3 costs more to import than the rest of a handler together, so it is imported here on
first use instead of at module import (see ``make bench``). ``AWS_ENDPOINT_URL`` (honoured by
boto3 itself) points every client at a local emulator.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sesv2 import SESV2Client

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    found = _clients.get(service)
    if found is not None:
        return found
    with _lock:
        if service not in _clients:
            import boto3
            from botocore.config import Config

            from onboarding.settings import region

            config = Config(
                retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=5
            )
            _clients[service] = boto3.session.Session().client(service, region_name=region(), config=config)  # type: ignore[call-overload]
        return _clients[service]


def dynamodb() -> DynamoDBClient:
    return client("dynamodb")  # type: ignore[no-any-return]


def cognito() -> CognitoIdentityProviderClient:
    return client("cognito-idp")  # type: ignore[no-any-return]


def sesv2() -> SESV2Client:
    return client("sesv2")  # type: ignore[no-any-return]


def reset_clients() -> None:
    """Forget the cached clients (tests that switch endpoints or credentials)."""
    with _lock:
        _clients.clear()


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError``, or '' for anything else."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
