"""The Cognito user pool: creating manual logins and exchanging passwords for tokens."""

from __future__ import annotations

import contextlib
from typing import Any

from onboarding.adapters import aws
from onboarding.domain.errors import IdentityUnavailable, LoginRejected
from onboarding.domain.ports import Tokens

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
