"""The user pool's Lambda triggers (PreSignUp, PreAuthentication, PreTokenGeneration), one
function for all three:
read the event, call ``signin``, answer Cognito. A function of its own (not the API's) because
its role differs (AdminLinkProviderForUser) and so does what it imports: no HTTP resolver,
which keeps its cold start inside Cognito's 5 seconds with room to spare.

Errors: Cognito shows a trigger's error message to the browser, so only the two generic
messages of ``linking`` ever leave here; the details go to the log.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from auth_api.signin import FederatedSignIns
from onboarding.adapters.dynamo import Table
from onboarding.adapters.identity import CognitoIdentityLinks
from onboarding.adapters.repositories.identities import IdentityRepository
from onboarding.adapters.repositories.users import UserRepository
from onboarding.domain.errors import SignInRefused
from onboarding.domain.linking import BUILT_IN, SIGN_IN_FAILED, SIGN_IN_REFUSED
from onboarding.observability import logger, metrics
from onboarding.settings import table_settings


class SignInStopped(Exception):
    """What Cognito shows the browser: one of the two generic messages."""


@lru_cache(maxsize=1)
def sign_ins() -> FederatedSignIns:
    table = Table(table_settings().name)
    return FederatedSignIns(
        identities=IdentityRepository(table),
        links=CognitoIdentityLinks(),
        users=UserRepository(table),
        providers=BUILT_IN,
    )


def _email(event: dict[str, Any]) -> str:
    return str((event.get("request", {}).get("userAttributes") or {}).get("email") or "")


def handle(event: dict[str, Any]) -> dict[str, Any]:
    source = str(event.get("triggerSource", ""))
    if source == "PreSignUp_ExternalProvider":
        sign_ins().pre_sign_up(
            user_pool_id=str(event["userPoolId"]),
            username=str(event["userName"]),
            attributes=dict(event.get("request", {}).get("userAttributes") or {}),
        )
    elif source == "PreSignUp_SignUp":
        # Self sign-up is off in the pool (the API runs activation and terms); refuse anyway.
        raise SignInStopped(SIGN_IN_REFUSED)
    elif source.startswith("TokenGeneration_"):
        client_id = (event.get("callerContext") or {}).get("clientId")
        sign_ins().before_tokens(str(event["userName"]), str(client_id) if client_id else None, _email(event))
    elif source == "PreAuthentication_Authentication":
        sign_ins().before_password_login(str(event["userName"]), _email(event))
    # PreSignUp_AdminCreateUser: activation wrote the account before it created the login.
    return event


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return handle(event)
    except SignInStopped:
        raise
    except SignInRefused:
        logger.info("sign-in refused", extra={"trigger": event.get("triggerSource")})
        raise SignInStopped(SIGN_IN_REFUSED) from None
    except Exception:
        logger.exception("sign-in failed", extra={"trigger": event.get("triggerSource")})
        raise SignInStopped(SIGN_IN_FAILED) from None
