"""The Cognito user pool: creating manual logins and exchanging passwords for tokens."""

from __future__ import annotations

import contextlib
from typing import Any

from onboarding.adapters import aws
from onboarding.domain.errors import IdentityUnavailable, LoginRefused, LoginRejected
from onboarding.domain.linking import SIGN_IN_REFUSED
from onboarding.domain.ports import Tokens

_REJECTED = {
    "NotAuthorizedException",
    "UserNotFoundException",
    "UserNotConfirmedException",
    "PasswordResetRequiredException",
    "InvalidParameterException",
}


class CognitoIdentity:
    def __init__(
        self,
        user_pool_id: str,
        client_id: str,
        client: Any | None = None,
        *,
        other_client_ids: tuple[str, ...] = (),
    ) -> None:
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        # Clients whose refresh tokens this API also refreshes (the hosted login's): a refresh
        # token only works with the client that issued it, and it does not say which one.
        self.other_client_ids = tuple(c for c in other_client_ids if c and c != client_id)
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

    def refresh(self, refresh_token: str, client_id: str | None = None) -> Tokens:
        """At ``client_id`` if given (it issued the token), else at each known client in turn."""
        clients = (client_id,) if client_id else (self.client_id, *self.other_client_ids)
        for candidate in clients[:-1]:
            try:
                return self._initiate("REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token}, candidate)
            except LoginRejected:
                continue  # not this client's token (or not a token at all): try the next client
        return self._initiate("REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token}, clients[-1])

    def sign_out(self, username: str) -> None:
        """Revoke every refresh token of a user (tokens issued that must not be used)."""
        with contextlib.suppress(Exception):  # the caller refuses the login anyway
            self.client.admin_user_global_sign_out(UserPoolId=self.user_pool_id, Username=username)

    def _initiate(self, flow: str, parameters: dict[str, str], client_id: str | None = None) -> Tokens:
        try:
            response = self.client.admin_initiate_auth(
                UserPoolId=self.user_pool_id,
                ClientId=client_id or self.client_id,
                AuthFlow=flow,
                AuthParameters=parameters,
            )
        except Exception as exc:
            code = aws.error_code(exc)
            if code in _REJECTED:
                raise LoginRejected(code) from exc
            if code == "UserLambdaValidationException" and SIGN_IN_REFUSED in str(exc):
                # PreAuthentication or PreTokenGeneration said no (a tenant's people log in
                # only through its own IdP).
                raise LoginRefused(code) from exc
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


class CognitoIdentityLinks:
    """Links a provider's identity to an existing user (the PreSignUp trigger's one Cognito
    call). The pool comes with each call: a trigger gets it from its event, not its settings."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.cognito()

    def link(self, user_pool_id: str, destination_username: str, provider_name: str, subject: str) -> None:
        """``AdminLinkProviderForUser`` (OIDC and social providers link on Cognito_Subject).
        Idempotent: a link that already exists (a retried trigger) is success.
        ``IdentityUnavailable`` otherwise."""
        try:
            self.client.admin_link_provider_for_user(
                UserPoolId=user_pool_id,
                DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": destination_username},
                SourceUser={
                    "ProviderName": provider_name,
                    "ProviderAttributeName": "Cognito_Subject",
                    "ProviderAttributeValue": subject,
                },
            )
        except Exception as exc:
            if self._linked(user_pool_id, destination_username, provider_name, subject):
                return
            raise IdentityUnavailable(aws.error_code(exc) or type(exc).__name__) from exc

    def _linked(self, user_pool_id: str, username: str, provider_name: str, subject: str) -> bool:
        """Whether the user already has this identity (its ``identities`` attribute)."""
        import json

        try:
            user = self.client.admin_get_user(UserPoolId=user_pool_id, Username=username)
        except Exception:
            return False
        attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        try:
            identities = json.loads(attributes.get("identities") or "[]")
        except ValueError:
            return False
        return any(
            str(i.get("providerName", "")).lower() == provider_name.lower()
            and str(i.get("userId")) == subject
            for i in identities
        )
