"""Domain errors. Each carries the HTTP status and code of ``API.md``; the web edge maps
them to the one error body, so logic never builds a response itself."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status: int = 400
    code: str = "bad_request"
    message: str = "The request cannot be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details or []
        self.headers = headers or {}
        if code:
            self.code = code


class InvalidInput(DomainError):
    """A body that parsed but breaks a rule no schema can express (422)."""

    status = 422
    code = "validation_error"
    message = "The request is not valid."

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        super().__init__(message, details=[{"field": field, "message": message}], code=code)


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    message = "Authentication is required."


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    message = "The username or password is not correct."


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    message = "You are not allowed to do this."


class TermsNotAccepted(Forbidden):
    code = "terms_not_accepted"
    message = "Accept the current terms first (POST /me/terms)."


class LoginMethodNotAllowed(Forbidden):
    code = "login_method_not_allowed"
    message = "Your environment only allows login through its own identity provider."


class NotFound(DomainError):
    status = 404
    code = "not_found"
    message = "Not found."


class ActivationNotFound(NotFound):
    code = "activation_not_found"
    message = "This activation link is not valid. Request a new one."


class Gone(DomainError):
    status = 410
    code = "gone"


class ActivationExpired(Gone):
    code = "activation_expired"
    message = "This activation link has expired. Request a new one."


class ActivationUsed(Gone):
    code = "activation_used"
    message = "This activation link has already been used. Log in instead."


class Conflict(DomainError):
    status = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class UsernameTaken(Conflict):
    code = "username_taken"
    message = "This username is taken. Choose another one."


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"
    message = "Too many requests. Try again later."

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(headers={"Retry-After": str(max(1, retry_after_seconds))})


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"
    message = "A service we depend on is unavailable. Try again shortly."

    def __init__(
        self, message: str | None = None, *, retry_after_seconds: int = 30, code: str | None = None
    ) -> None:
        super().__init__(message, code=code, headers={"Retry-After": str(retry_after_seconds)})


class MailUnavailable(ServiceUnavailable):
    code = "mail_unavailable"
    message = "We cannot send mail right now. Try again in a minute."
