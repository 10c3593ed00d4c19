"""Every error of the platform, in one place.

Two families:
- ``DomainError`` and its subclasses carry the HTTP status and code of the API contract; the
  web edge (``onboarding.web.errors``) maps them to the one error body, so neither logic nor
  adapters ever build a response. Adapters raise these too where the answer is theirs to know
  (an identifier already claimed: 409; no credit: 402).
- ``PortFailure`` and its subclasses say that an outside service (Cognito, SES, SQS, the KvK)
  refused or failed. They carry no status: what such a failure means depends on the use case
  (a refused login is 401, a refused refresh token also 401, an SES outage at sign-up 503 but
  after activation only a log line), so the services decide.
"""

from __future__ import annotations

from typing import Any, Literal


class DomainError(Exception):
    """``message`` is English, ``message_nl`` Dutch (the English one when a class has none
    yet); the web edge answers in the caller's language. The ``code`` never changes."""

    status: int = 400
    code: str = "bad_request"
    message: str = "The request cannot be processed."
    message_nl: str | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        message_nl: str | None = None,
        details: list[dict[str, Any]] | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or self.message)
        if message is not None:  # a message given here replaces both of the class's
            self.message, self.message_nl = message, message_nl
        self.details = details or []
        self.headers = headers or {}
        if code:
            self.code = code

    def message_in(self, language: Literal["nl", "en"]) -> str:
        return (self.message_nl or self.message) if language == "nl" else self.message


# --- 422 ------------------------------------------------------------------------------------------
class InvalidInput(DomainError):
    """A body that parsed but breaks a rule no schema can express (422)."""

    status = 422
    code = "validation_error"
    message = "The request is not valid."

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        super().__init__(message, details=[{"field": field, "message": message}], code=code)


# --- 401 / 403 ------------------------------------------------------------------------------------
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


# --- 404 / 410 ------------------------------------------------------------------------------------
class NotFound(DomainError):
    status = 404
    code = "not_found"
    message = "Not found."


class ActivationNotFound(NotFound):
    code = "activation_not_found"
    message = "This activation link is not valid. Request a new one."


class OrganisationNotFound(NotFound):
    message = "There is no such organisation."


class IdentifierNotFound(NotFound):
    message = "The organisation has no such identifier."


class EnvironmentNotFound(NotFound):
    message = "There is no such environment."


class UserNotFound(NotFound):
    message = "This user does not exist."


class JobNotFound(NotFound):
    message = "There is no such registration job."
    message_nl = "Deze registratieopdracht bestaat niet."


class KvkNotFound(NotFound):
    code = "kvk_not_found"
    message = "The KvK does not know this KvK number."


class Gone(DomainError):
    status = 410
    code = "gone"


class ActivationExpired(Gone):
    code = "activation_expired"
    message = "This activation link has expired. Request a new one."


class ActivationUsed(Gone):
    code = "activation_used"
    message = "This activation link has already been used. Log in instead."


# --- 409 ------------------------------------------------------------------------------------------
class Conflict(DomainError):
    status = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class UsernameTaken(Conflict):
    code = "username_taken"
    message = "This username is taken. Choose another one."


class OrganisationExists(Conflict):
    code = "organisation_exists"
    message = "An identifier of this organisation is already claimed on the platform."


class OrganisationChanged(Conflict):
    code = "organisation_changed"
    message = "The organisation changed meanwhile. Load it again and retry."


class OrganisationActive(Conflict):
    code = "organisation_active"
    message = "An active organisation's name and address cannot change; they were verified and registered."


class OrganisationAlreadyActive(Conflict):
    code = "organisation_active"
    message = "The organisation is already active."


class OrganisationNotActive(Conflict):
    code = "organisation_not_active"
    message = "The organisation must be active for this."


class ActivationPending(Conflict):
    code = "activation_pending"
    message = "Activation was already requested; an operator will review it."


class LockedDuringReview(Conflict):
    code = "activation_pending"
    message = "Name and address cannot change while an operator reviews the activation request."


class NotPendingReview(Conflict):
    code = "not_pending_review"
    message = "This organisation is not waiting for a review."


class PrimaryIdentifierRequired(Conflict):
    code = "primary_identifier_required"
    message = "Activation needs exactly one primary identifier (preferably the KvK number)."


class IdentifierExists(Conflict):
    code = "identifier_exists"
    message = "The organisation already has this identifier."


class RegisteredOnPeppol(Conflict):
    """Deleting an organisation or removing an identifier that is (or may be) on Peppol:
    the message says how to take it off first, per participant."""

    code = "registered_on_peppol"
    message = "This is registered on Peppol (or being registered): deregister it first."

    def __init__(self, organisation_id: str, participant_ids: list[str]) -> None:
        ids = ", ".join(participant_ids)
        how = "".join(
            f' PUT /organisations/{organisation_id}/peppol/{pid} {{"send": false, "receive": false}};'
            for pid in participant_ids
        )
        super().__init__(
            f"{ids} {'is' if len(participant_ids) == 1 else 'are'} registered on Peppol (or being "
            f"registered or deregistered). Deregister first:{how} once that job has succeeded, try again.",
            message_nl=(
                f"{ids} {'staat' if len(participant_ids) == 1 else 'staan'} (nog) op Peppol of wordt "
                f"(af)gemeld. Meld eerst af:{how} zodra die opdracht geslaagd is, probeer het opnieuw."
            ),
            details=[{"field": "participant_id", "message": pid} for pid in participant_ids],
        )


class ReceivingNotEnabled(Conflict):
    code = "receiving_not_enabled"
    message = (
        "Receiving e-invoices is not enabled for this organisation: enable it first "
        "(PUT /organisations/{id}/receiving, accepting the costs)."
    )
    message_nl = (
        "Ontvangen van e-facturen staat niet aan voor deze organisatie: zet het eerst aan "
        "(PUT /organisations/{id}/receiving, met akkoord op de kosten)."
    )


class NotRegisteredHere(Conflict):
    code = "not_registered_here"
    message = "This participant is not registered on Peppol here, so there is nothing to move away."
    message_nl = "Deze deelnemer is hier niet op Peppol geregistreerd, dus er valt niets te verhuizen."


class AlreadyRegisteredHere(Conflict):
    code = "already_registered_here"
    message = "This participant is already registered on Peppol here: no migration key is needed."
    message_nl = "Deze deelnemer is hier al op Peppol geregistreerd: een migratiesleutel is niet nodig."


class JobNotFailed(Conflict):
    code = "job_not_failed"
    message = "Only a failed registration job can be retried."
    message_nl = "Alleen een mislukte registratieopdracht kan opnieuw worden geprobeerd."


class JobSuperseded(Conflict):
    code = "job_superseded"
    message = "A newer registration job exists for this participant; retry that one instead."
    message_nl = "Er is een nieuwere registratieopdracht voor deze deelnemer; probeer die opnieuw."


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was used for a different request."


class IdempotentRequestInProgress(Conflict):
    code = "idempotency_in_progress"
    message = "A request with this Idempotency-Key is still being processed. Try again shortly."

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "2"})


# --- 402 ------------------------------------------------------------------------------------------
class PaymentRequired(DomainError):
    status = 402
    code = "payment_required"


class PlanLimitReached(PaymentRequired):
    code = "plan_limit_reached"
    message = "Your plan allows no more organisations. Upgrade your plan to add more."


class InsufficientCredit(PaymentRequired):
    code = "insufficient_credit"
    message = "Receiving e-invoices needs credit. Top up your environment's credit first."


# --- 429 / 503 ------------------------------------------------------------------------------------
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


class IdentityServiceUnavailable(ServiceUnavailable):
    code = "identity_unavailable"


class KvkUnavailable(ServiceUnavailable):
    """The KvK did not answer usefully: timeout, 5xx, throttling, a refused key, an answer
    in another shape. ``reason`` is for the logs, never for the user."""

    code = "kvk_unavailable"
    message = "The KvK cannot be reached right now. Try again in a minute, or add the organisation by hand."

    def __init__(self, reason: str = "") -> None:
        super().__init__()
        self.reason = reason


class SmpServiceUnavailable(ServiceUnavailable):
    code = "smp_unavailable"
    message = "The Peppol SMP cannot be reached right now. Try again in a minute."
    message_nl = "De Peppol-SMP is nu niet bereikbaar. Probeer het over een minuut opnieuw."


# --- Failures of outside services (no status: the use case decides) ---------------------------------
class PortFailure(Exception):
    """An outside service refused or failed; ``str(exc)`` is a short reason for the logs."""


class LoginRejected(PortFailure):
    """Wrong password, unknown user, disabled user, bad refresh token: deliberately one error."""


class IdentityUnavailable(PortFailure):
    """Cognito could not be reached or throttled us."""


class MailNotSent(PortFailure):
    """SES did not take the mail (throttled, unavailable, sender not verified, ...)."""


class QueueUnavailable(PortFailure):
    """SQS did not take the message."""


class SignupRace(PortFailure):
    """Another request changed this email's sign-up between our read and our write."""


class RateLimited(PortFailure):
    """A rate limit is reached; ``kind`` says which (see ``ports.RateLimit``)."""

    def __init__(self, kind: str, retry_after_seconds: int) -> None:
        super().__init__(f"rate limit {kind} reached")
        self.kind = kind
        self.retry_after_seconds = retry_after_seconds


class JobChanged(PortFailure):
    """A registration job changed between our read and our write (its version moved on)."""


# --- The SMP (phoss-smp REST API) and the SML's DNS --------------------------------------------------
# Raised by ``onboarding.adapters.smp`` and ``onboarding.adapters.sml``; the Peppol worker sorts
# them into "retry later" (``SmpUnavailable``, ``SmlLookupFailed``) and "fail now" (the rest).
class SmpError(PortFailure):
    """Anything that kept an SMP call from succeeding; ``reason`` is safe to log and store."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SmpUnavailable(SmpError):
    """Transient: timeout, connection error, 5xx, 429. Retry with backoff."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


class SmlWriteFailed(SmpUnavailable):
    """phoss-smp could not write the participant to the SML (HTTP 500 ``... in SML``) and,
    outside debug mode, does not say why: the SML may be down, or another SMP may hold the
    participant. Ask the SML (``onboarding.adapters.sml.smp_elsewhere``) before retrying."""

    def __init__(self, reason: str, operation: str) -> None:
        super().__init__(reason, 500)
        self.operation = operation


class SmpRejected(SmpError):
    """Permanent: the SMP refused the request (4xx other than 429). Retrying will not help."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.status = status


class SmpAuthRejected(SmpRejected):
    """Wrong, missing or disabled credentials, or a service group owned by another SMP user."""


class RegisteredElsewhere(SmpError):
    """The SML refused the participant because another SMP holds it: the participant's
    current provider must hand out a migration key."""

    def __init__(self, participant_id: str, smp_url: str | None = None) -> None:
        super().__init__("registered at another SMP")
        self.participant_id = participant_id
        self.smp_url = smp_url


class SmlLookupFailed(PortFailure):
    """DNS could not say whether the participant is registered: retry later."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
