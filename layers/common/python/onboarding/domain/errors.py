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
    """``message`` is English, ``message_nl`` Dutch; the web edge answers in the caller's
    language (``message_in``, ``details_in``). The ``code`` never changes. Every class has both
    messages, and whoever passes a message passes both (a unit test holds that)."""

    status: int = 400
    code: str = "bad_request"
    message: str = "The request cannot be processed."
    message_nl: str | None = "Het verzoek kan niet worden verwerkt."

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

    def details_in(self, language: Literal["nl", "en"]) -> list[dict[str, Any]]:
        return self.details


# --- 400 ------------------------------------------------------------------------------------------
class InvalidState(DomainError):
    """A login callback whose ``state`` is unknown, used, expired or from another browser."""

    status = 400
    code = "invalid_state"
    message = "This login link is not valid (any more). Start the login again."
    message_nl = "Deze inloglink is niet (meer) geldig. Begin opnieuw met inloggen."


# --- 422 ------------------------------------------------------------------------------------------
class InvalidInput(DomainError):
    """A body that parsed but breaks a rule no schema can express (422)."""

    status = 422
    code = "validation_error"
    message = "The request is not valid."
    message_nl = "Het verzoek is niet geldig."

    def __init__(
        self, field: str, message: str, message_nl: str | None = None, *, code: str | None = None
    ) -> None:
        super().__init__(
            message, message_nl=message_nl, details=[{"field": field, "message": message}], code=code
        )
        self.field = field

    def details_in(self, language: Literal["nl", "en"]) -> list[dict[str, Any]]:
        return [{"field": self.field, "message": self.message_in(language)}]


# --- 401 / 403 ------------------------------------------------------------------------------------
class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    message = "Authentication is required."
    message_nl = "Log eerst in."


class NoAccount(Unauthorized):
    message = "This login has no account."
    message_nl = "Bij deze login hoort geen account."


class InvalidRefreshToken(Unauthorized):
    message = "The refresh token is not valid."
    message_nl = "Het vernieuwingstoken is niet geldig."


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    message = "The username or password is not correct."
    message_nl = "De gebruikersnaam of het wachtwoord klopt niet."


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    message = "You are not allowed to do this."
    message_nl = "Je mag dit niet doen."


class AdminsOnly(Forbidden):
    message = "Only an admin of your environment may do this."
    message_nl = "Alleen een beheerder van je omgeving mag dit doen."


class OperatorsOnly(Forbidden):
    message = "Only platform operators may do this."
    message_nl = "Alleen medewerkers van het platform mogen dit doen."


class TermsNotAccepted(Forbidden):
    code = "terms_not_accepted"
    message = "Accept the current terms first (POST /me/terms)."
    message_nl = "Accepteer eerst de huidige voorwaarden (POST /me/terms)."


class LoginMethodNotAllowed(Forbidden):
    code = "login_method_not_allowed"
    message = "Your environment only allows login through its own identity provider."
    message_nl = "Je omgeving staat alleen inloggen via haar eigen identiteitsprovider toe."

    @classmethod
    def through(cls, login_path: str) -> LoginMethodNotAllowed:
        """Refused, with where this account's people log in (``/t/{tenant}/login``)."""
        return cls(
            f"Your organisation only allows login through its own identity provider: {login_path}",
            message_nl=(
                f"Je organisatie staat alleen inloggen via haar eigen identiteitsprovider toe: {login_path}"
            ),
            details=[{"field": "login_url", "message": login_path}],
        )


class InvalidSession(Unauthorized):
    code = "invalid_session"
    message = "This login session is not valid (any more). Log in again."
    message_nl = "Deze inlogsessie is niet (meer) geldig. Log opnieuw in."


class LoginCodeRejected(Unauthorized):
    """The user pool refused the authorization code of a login (bad, used or expired)."""

    code = "invalid_code"
    message = "The login could not be completed. Log in again."
    message_nl = "Het inloggen kon niet worden afgerond. Log opnieuw in."


class IdTokenRejected(Unauthorized):
    """The ID token of a login failed a check (signature, issuer, audience, expiry, nonce)."""

    code = "invalid_id_token"
    message = "The login could not be verified. Log in again."
    message_nl = "Het inloggen kon niet worden gecontroleerd. Log opnieuw in."


class SignInRefused(Forbidden):
    """A federated sign-in that must not join or create an account (another tenant's, or a
    domain restricted to its tenant's own IdP). Its message is all a user ever sees."""

    code = "login_not_allowed"
    message = "Signing in this way is not allowed for this account."
    message_nl = "Op deze manier inloggen is voor dit account niet toegestaan."


# --- 404 / 410 ------------------------------------------------------------------------------------
class NotFound(DomainError):
    status = 404
    code = "not_found"
    message = "Not found."
    message_nl = "Niet gevonden."


class ActivationNotFound(NotFound):
    code = "activation_not_found"
    message = "This activation link is not valid. Request a new one."
    message_nl = "Deze activatielink is niet geldig. Vraag een nieuwe aan."


class OrganisationNotFound(NotFound):
    message = "There is no such organisation."
    message_nl = "Deze organisatie bestaat niet."


class IdentifierNotFound(NotFound):
    message = "The organisation has no such identifier."
    message_nl = "De organisatie heeft deze identificatie niet."


class EnvironmentNotFound(NotFound):
    message = "There is no such environment."
    message_nl = "Deze omgeving bestaat niet."


class UserNotFound(NotFound):
    message = "This user does not exist."
    message_nl = "Deze gebruiker bestaat niet."


class JobNotFound(NotFound):
    message = "There is no such registration job."
    message_nl = "Deze registratieopdracht bestaat niet."


class UnknownProvider(NotFound):
    code = "unknown_provider"
    message = "There is no such login provider."
    message_nl = "Deze manier van inloggen bestaat niet."


class TenantNotFound(NotFound):
    code = "tenant_not_found"
    message = "There is no login page of this name."
    message_nl = "Er is geen inlogpagina met deze naam."


class KvkNotFound(NotFound):
    code = "kvk_not_found"
    message = "The KvK does not know this KvK number."
    message_nl = "De KvK kent dit KvK-nummer niet."


class Gone(DomainError):
    status = 410
    code = "gone"
    message = "This is no longer available."
    message_nl = "Dit is niet meer beschikbaar."


class ActivationExpired(Gone):
    code = "activation_expired"
    message = "This activation link has expired. Request a new one."
    message_nl = "Deze activatielink is verlopen. Vraag een nieuwe aan."


class ActivationUsed(Gone):
    code = "activation_used"
    message = "This activation link has already been used. Log in instead."
    message_nl = "Deze activatielink is al gebruikt. Log in met je account."


# --- 409 ------------------------------------------------------------------------------------------
class Conflict(DomainError):
    status = 409
    code = "conflict"
    message = "The request conflicts with the current state."
    message_nl = "Het verzoek past niet bij de huidige toestand."


class UsernameTaken(Conflict):
    code = "username_taken"
    message = "This username is taken. Choose another one."
    message_nl = "Deze gebruikersnaam is al in gebruik. Kies een andere."


class OrganisationExists(Conflict):
    code = "organisation_exists"
    message = "An identifier of this organisation is already claimed on the platform."
    message_nl = "Een identificatie van deze organisatie is al in gebruik op het platform."


class OrganisationChanged(Conflict):
    code = "organisation_changed"
    message = "The organisation changed meanwhile. Load it again and retry."
    message_nl = "De organisatie is intussen gewijzigd. Laad haar opnieuw en probeer het nog eens."


class OrganisationActive(Conflict):
    code = "organisation_active"
    message = "An active organisation's name and address cannot change; they were verified and registered."
    message_nl = (
        "Naam en adres van een actieve organisatie kunnen niet meer veranderen; ze zijn gecontroleerd en"
        " geregistreerd."
    )


class OrganisationAlreadyActive(Conflict):
    code = "organisation_active"
    message = "The organisation is already active."
    message_nl = "De organisatie is al actief."


class OrganisationNotActive(Conflict):
    code = "organisation_not_active"
    message = "The organisation must be active for this."
    message_nl = "Hiervoor moet de organisatie actief zijn."


class ActivationPending(Conflict):
    code = "activation_pending"
    message = "Activation was already requested; an operator will review it."
    message_nl = "Activatie is al aangevraagd; een medewerker beoordeelt de aanvraag."


class LockedDuringReview(Conflict):
    code = "activation_pending"
    message = "Name and address cannot change while an operator reviews the activation request."
    message_nl = "Naam en adres kunnen niet veranderen zolang een medewerker de activatieaanvraag beoordeelt."


class IdentifiersLockedDuringReview(Conflict):
    """The operator approves the identifiers they see: none may come or go meanwhile."""

    code = "activation_pending"
    message = "Identifiers cannot be added or removed while an operator reviews the activation request."
    message_nl = (
        "Identificaties kunnen niet worden toegevoegd of verwijderd zolang een medewerker de"
        " activatieaanvraag beoordeelt."
    )


class DomainTaken(Conflict):
    """A tenant claims an email domain that another tenant owns (one owner per domain)."""

    code = "domain_taken"

    def __init__(self, domains: list[str]) -> None:
        listed = ", ".join(domains)
        super().__init__(
            f"These email domains belong to another tenant: {listed}.",
            message_nl=f"Deze e-maildomeinen horen bij een andere tenant: {listed}.",
        )
        self.domains = domains


class EnvironmentTaken(Conflict):
    """A tenant file names an environment that another tenant restricts already."""

    code = "environment_taken"
    message = "This environment is restricted to another tenant already."
    message_nl = "Deze omgeving is al afgeschermd voor een andere tenant."

    @classmethod
    def by(cls, tenant: str) -> EnvironmentTaken:
        return cls(
            f"This environment is restricted to the tenant {tenant!r} already.",
            message_nl=f"Deze omgeving is al afgeschermd voor de tenant {tenant!r}.",
        )


class TenantMoved(Conflict):
    code = "tenant_environment_fixed"
    message = "A tenant keeps the environment it restricts: its environment_id cannot change."
    message_nl = "Een tenant houdt de omgeving die hij afschermt: zijn environment_id kan niet veranderen."


class NotPendingReview(Conflict):
    code = "not_pending_review"
    message = "This organisation is not waiting for a review."
    message_nl = "Deze organisatie wacht niet op een beoordeling."


class PrimaryIdentifierRequired(Conflict):
    code = "primary_identifier_required"
    message = "Activation needs exactly one primary identifier (preferably the KvK number)."
    message_nl = "Voor activatie is precies één primaire identificatie nodig (bij voorkeur het KvK-nummer)."


class IdentifierExists(Conflict):
    code = "identifier_exists"
    message = "The organisation already has this identifier."
    message_nl = "De organisatie heeft deze identificatie al."


class RegisteredOnPeppol(Conflict):
    """Deleting an organisation or removing an identifier that is (or may be) on Peppol:
    the message says how to take it off first, per participant."""

    code = "registered_on_peppol"
    message = "This is registered on Peppol (or being registered): deregister it first."
    message_nl = "Dit is (of wordt) geregistreerd op Peppol: meld het eerst af."

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


class CreditEntryExists(Conflict):
    message = "This credit entry was already booked."
    message_nl = "Deze tegoedboeking is al gedaan."


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


class JobChangedMeanwhile(Conflict):
    code = "job_changed"
    message = "The job changed meanwhile. Load it again and retry."
    message_nl = "De opdracht is intussen gewijzigd. Laad hem opnieuw en probeer het nog eens."


class JobSuperseded(Conflict):
    code = "job_superseded"
    message = "A newer registration job exists for this participant; retry that one instead."
    message_nl = "Er is een nieuwere registratieopdracht voor deze deelnemer; probeer die opnieuw."


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was used for a different request."
    message_nl = "Deze Idempotency-Key is al gebruikt voor een ander verzoek."


class IdempotentRequestInProgress(Conflict):
    code = "idempotency_in_progress"
    message = "A request with this Idempotency-Key is still being processed. Try again shortly."
    message_nl = "Een verzoek met deze Idempotency-Key wordt nog verwerkt. Probeer het zo opnieuw."

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "2"})


# --- 402 ------------------------------------------------------------------------------------------
class PaymentRequired(DomainError):
    status = 402
    code = "payment_required"
    message = "This needs payment."
    message_nl = "Hiervoor is betaling nodig."


class PlanLimitReached(PaymentRequired):
    code = "plan_limit_reached"
    message = "Your plan allows no more organisations. Upgrade your plan to add more."
    message_nl = (
        "Je abonnement staat geen organisaties meer toe. Kies een groter abonnement om er meer toe te voegen."
    )


class InsufficientCredit(PaymentRequired):
    code = "insufficient_credit"
    message = "Receiving e-invoices needs credit. Top up your environment's credit first."
    message_nl = (
        "Voor het ontvangen van e-facturen is tegoed nodig. Waardeer eerst het tegoed van je omgeving op."
    )


# --- 429 / 503 ------------------------------------------------------------------------------------
class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"
    message = "Too many requests. Try again later."
    message_nl = "Te veel verzoeken. Probeer het later opnieuw."

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(headers={"Retry-After": str(max(1, retry_after_seconds))})


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"
    message = "A service we depend on is unavailable. Try again shortly."
    message_nl = "Een dienst waarvan we afhankelijk zijn is niet bereikbaar. Probeer het zo opnieuw."

    def __init__(self, *, retry_after_seconds: int = 30) -> None:
        super().__init__(headers={"Retry-After": str(retry_after_seconds)})


class MailUnavailable(ServiceUnavailable):
    code = "mail_unavailable"
    message = "We cannot send mail right now. Try again in a minute."
    message_nl = "We kunnen nu geen e-mail versturen. Probeer het over een minuut opnieuw."


class IdentityServiceUnavailable(ServiceUnavailable):
    code = "identity_unavailable"
    message = "Login is unavailable right now. Try again shortly."
    message_nl = "Inloggen is nu niet mogelijk. Probeer het zo opnieuw."


class LoginNotCreated(IdentityServiceUnavailable):
    message = "We cannot create your login right now. Try the link again in a minute."
    message_nl = "We kunnen je login nu niet aanmaken. Probeer de link over een minuut opnieuw."


class KvkUnavailable(ServiceUnavailable):
    """The KvK did not answer usefully: timeout, 5xx, throttling, a refused key, an answer
    in another shape. ``reason`` is for the logs, never for the user."""

    code = "kvk_unavailable"
    message = "The KvK cannot be reached right now. Try again in a minute, or add the organisation by hand."
    message_nl = (
        "De KvK is nu niet bereikbaar. Probeer het over een minuut opnieuw, of voeg de organisatie met de"
        " hand toe."
    )

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


class LoginRefused(PortFailure):
    """A user pool trigger refused the login (a tenant's people log in only through its IdP)."""


class ResponseNotDelivered(PortFailure):
    """CloudFormation's response URL refused or did not answer (it then times out the stack)."""


class IdentityUnavailable(PortFailure):
    """Cognito could not be reached or throttled us."""


class MailNotSent(PortFailure):
    """SES did not take the mail (throttled, unavailable, sender not verified, ...)."""


class QueueUnavailable(PortFailure):
    """SQS did not take the message."""


class TokenInvalid(PortFailure):
    """An ID token failed verification; ``str(exc)`` says which check (for the logs only)."""


class IdentityTaken(PortFailure):
    """A federated identity already has its item: an earlier (or concurrent) sign-in did the work."""


class AddressTaken(PortFailure):
    """Meanwhile another account came to hold the address."""


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
