"""The Cognito user pool: creating manual logins and exchanging passwords for tokens."""

from __future__ import annotations

import base64
import contextlib
import json
from dataclasses import dataclass
from typing import Any

from onboarding.adapters import aws


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    refresh_token: str | None
    expires_in: int

    def claims(self) -> dict[str, Any]:
        """The ID token's claims. Only for tokens that came straight from Cognito over TLS:
        nothing is verified here."""
        payload = self.id_token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


class LoginRejected(Exception):
    """Wrong password, unknown user, disabled user: deliberately one error."""


class IdentityUnavailable(Exception):
    """Cognito could not be reached or throttled us."""


_REJECTED = {
    "NotAuthorizedException",
    "UserNotFoundException",
    "UserNotConfirmedException",
    "PasswordResetRequiredException",
    "InvalidParameterException",
}


class CognitoIdentity:
    def __init__(self, user_pool_id: str, client_id: str, client: Any | None = None) -> None:
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.cognito()

    def create_login(self, username: str, email: str, password: str) -> None:
        """A confirmed user with a verified email and a permanent password; Cognito sends no
        mail of its own (our API sends the confirmation)."""
        try:
            self.client.admin_create_user(
                UserPoolId=self.user_pool_id,
                Username=username,
                MessageAction="SUPPRESS",
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                ],
            )
            self.client.admin_set_user_password(
                UserPoolId=self.user_pool_id, Username=username, Password=password, Permanent=True
            )
        except Exception as exc:
            self._delete_quietly(username)
            raise IdentityUnavailable(aws.error_code(exc) or type(exc).__name__) from exc

    def _delete_quietly(self, username: str) -> None:
        # Best effort clean-up: the original error is what the caller must hear about.
        with contextlib.suppress(Exception):
            self.client.admin_delete_user(UserPoolId=self.user_pool_id, Username=username)

    def authenticate(self, username: str, password: str) -> Tokens:
        return self._initiate("ADMIN_USER_PASSWORD_AUTH", {"USERNAME": username, "PASSWORD": password})

    def refresh(self, refresh_token: str) -> Tokens:
        return self._initiate("REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token})

    def sign_out(self, username: str) -> None:
        """Revoke every refresh token of a user (tokens issued that must not be used)."""
        with contextlib.suppress(Exception):  # the caller refuses the login anyway
            self.client.admin_user_global_sign_out(UserPoolId=self.user_pool_id, Username=username)

    def _initiate(self, flow: str, parameters: dict[str, str]) -> Tokens:
        try:
            response = self.client.admin_initiate_auth(
                UserPoolId=self.user_pool_id,
                ClientId=self.client_id,
                AuthFlow=flow,
                AuthParameters=parameters,
            )
        except Exception as exc:
            code = aws.error_code(exc)
            if code in _REJECTED:
                raise LoginRejected(code) from exc
            raise IdentityUnavailable(code or type(exc).__name__) from exc
        result = response.get("AuthenticationResult")
        if not result:  # a challenge (e.g. NEW_PASSWORD_REQUIRED): not a login this API completes
            raise LoginRejected(response.get("ChallengeName", "challenge"))
        return Tokens(
            id_token=result["IdToken"],
            access_token=result["AccessToken"],
            refresh_token=result.get("RefreshToken"),
            expires_in=int(result.get("ExpiresIn", 3600)),
        )
