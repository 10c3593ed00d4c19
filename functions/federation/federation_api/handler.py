"""HTTP adapter of the bridge function: the OpenID provider endpoints that the user pool
calls (and sends browsers to) for its "Microsoft" provider. They speak OAuth 2.0 and OpenID
Connect, not the platform's JSON API, so they are kept out of the API's OpenAPI document
(``infra.platform.PROTOCOL_ROUTES`` lists them); their errors are OAuth errors."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from federation_api.entra import EntraId
from federation_api.service import PATH, BridgeRefusal, MicrosoftBridge, TokenError
from federation_api.signing import SigningKeys
from onboarding.adapters.dynamo import Table
from onboarding.adapters.repositories.logins import BridgeLoginRepository
from onboarding.adapters.secrets import secret_string
from onboarding.observability import logger, metrics
from onboarding.settings import get_settings
from onboarding.web.errors import JSON

app = APIGatewayRestResolver()
MAX_FORM_BYTES = 16 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache", "Referrer-Policy": "no-referrer"}


def _secret(arn: str | None) -> str:
    if not arn:
        raise RuntimeError("the bridge's secrets are not configured")
    return secret_string(arn)


@lru_cache(maxsize=1)
def bridge() -> MicrosoftBridge:
    settings = get_settings()
    config = settings.bridge
    domain = (settings.identity.hosted_domain or "").rstrip("/")
    return MicrosoftBridge(
        public_url=settings.public_url,
        cognito_redirect_uri=f"{domain}/oauth2/idpresponse",
        client_id=config.client_id,
        client_secret=lambda: _secret(config.client_secret_arn),
        store=BridgeLoginRepository(Table(settings.table.name)),
        upstream=lru_cache(maxsize=1)(
            lambda: EntraId(
                config.microsoft_authority,
                config.microsoft_client_id or "",
                lambda: _secret(config.microsoft_client_secret_arn),
            )
        ),
        signer=lru_cache(maxsize=1)(lambda: SigningKeys(json.loads(_secret(config.signing_keys_secret_arn)))),
    )


def _query() -> dict[str, str]:
    return {k: v for k, v in (app.current_event.query_string_parameters or {}).items() if isinstance(v, str)}


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=JSON,
        body=json.dumps(body),
        headers={**NO_STORE, **(headers or {})},
    )


def _redirect(location: str) -> Response[str]:
    return Response(status_code=302, body="", headers={"Location": location, **NO_STORE})


@app.get(f"{PATH}/.well-known/openid-configuration", include_in_schema=False)
def discovery() -> Response[str]:
    return _json(200, bridge().discovery(), {"Cache-Control": "max-age=300"})


@app.get(f"{PATH}/jwks.json", include_in_schema=False)
def jwks() -> Response[str]:
    return _json(200, bridge().keys(), {"Cache-Control": "max-age=300"})


@app.get(f"{PATH}/authorize", include_in_schema=False)
def authorize() -> Response[str]:
    return _redirect(bridge().authorize(_query()))


@app.get(f"{PATH}/callback", include_in_schema=False)
def callback() -> Response[str]:
    return _redirect(bridge().callback(_query()))


@app.post(f"{PATH}/token", include_in_schema=False)
def token() -> Response[str]:
    body = app.current_event.decoded_body or ""
    if len(body) > MAX_FORM_BYTES:
        raise TokenError("invalid_request")
    form = dict(parse_qsl(body, keep_blank_values=True))
    return _json(200, bridge().token(form, app.current_event.headers.get("authorization")))


@app.get(f"{PATH}/userinfo", include_in_schema=False)
def userinfo() -> Response[str]:
    return _json(200, bridge().userinfo(app.current_event.headers.get("authorization")))


@app.exception_handler(BridgeRefusal)
def refused(exc: BridgeRefusal) -> Response[str]:
    logger.info("bridge request refused", extra={"code": exc.code})
    return _json(400, {"error": exc.code, "error_description": exc.description})


@app.exception_handler(TokenError)
def token_error(exc: TokenError) -> Response[str]:
    logger.info("bridge token request refused", extra={"code": exc.code})
    headers = {"WWW-Authenticate": f'Bearer error="{exc.code}"'} if exc.status == 401 else {}
    return _json(exc.status, {"error": exc.code}, headers)


@app.exception_handler(Exception)
def failed(exc: Exception) -> Response[str]:
    if type(exc).__module__.startswith(("botocore", "urllib3")):  # Secrets Manager or DynamoDB
        logger.warning("bridge dependency unavailable", extra={"error": type(exc).__name__})
        return _json(503, {"error": "temporarily_unavailable"}, {"Retry-After": "30"})
    logger.exception("bridge failed")
    return _json(500, {"error": "server_error"})


@app.not_found
def not_found(_: Exception) -> Response[str]:
    return _json(404, {"error": "not_found"})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
