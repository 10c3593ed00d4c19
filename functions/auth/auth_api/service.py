"""Sign-up, activation, login and the signed-in user: plain logic over the repositories.

Nothing here knows of API Gateway events or boto3; the handler adapts HTTP to these calls.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from onboarding.accounts import restriction_of, signed_in_user
from onboarding.domain import errors
from onboarding.domain.errors import (
    IdentityUnavailable,
    LoginRefused,
    LoginRejected,
    MailNotSent,
    RateLimited,
    SignupRace,
)
from onboarding.domain.linking import DomainPolicy
from onboarding.domain.mail import (
    Mail,
    account_exists_mail,
    activation_mail,
    confirmation_mail,
    tenant_login_mail,
)
from onboarding.domain.models import (
    DEFAULT_LANGUAGE,
    Environment,
    Language,
    NewAccount,
    Role,
    Signup,
    SignupStatus,
    TermsAcceptance,
    User,
)
from onboarding.domain.organisations import Organisation
from onboarding.domain.ports import (
    Environments,
    Identity,
    Logins,
    Mailer,
    Organisations,
    RateLimit,
    Signups,
    Tokens,
    Users,
)
from onboarding.domain.rules import (
    canonical_email,
    new_token,
    now,
    password_problem,
    token_hash,
)
from onboarding.domain.tenancy import login_path
from onboarding.observability import logger, metrics
from onboarding.settings import Settings

# One answer for every well-formed address, known or not (no account enumeration), in the
# language the request asks for (never the language stored with an earlier sign-up: that
# would tell that the address signed up before).
SIGNUP_ACCEPTED: dict[Language, str] = {
    "en": "If this address can be used, we have sent it a link to activate your environment."
    " Check your inbox (and spam folder).",
    "nl": "Als dit adres gebruikt kan worden, hebben we er een link naartoe gestuurd om je omgeving te"
    " activeren. Kijk in je inbox (en je spammap).",
}


@dataclass(frozen=True)
class RequestInfo:
    """Where a request came from: for rate limits and as evidence of accepting terms."""

    ip: str = "unknown"
    user_agent: str = ""


@dataclass
class AuthService:
    settings: Settings
    signups: Signups
    users: Users
    environments: Environments
    organisations: Organisations
    mailer: Mailer
    identity: Identity
    logins: Logins  # which app client issued a tenant login's refresh token
    clock: Callable[[], datetime] = field(default=now)

    # --- Sign-up and activation -----------------------------------------------------------
    def _limits(self, email_canonical: str, request: RequestInfo) -> list[RateLimit]:
        return [
            RateLimit("signup-ip", request.ip, self.settings.signups.per_ip_per_hour),
            RateLimit("mail", email_canonical, self.settings.mail.per_address_per_hour),
        ]

    def sign_up(self, email: str, language: Language, request: RequestInfo) -> str:
        """Send an activation link; to an address with an account, a reminder to log in; to an
        address of a domain that a tenant restricts to its own IdP, the tenant's login URL.

        Every path makes the same three AWS calls (read, counted write, mail), so neither the
        answer nor its timing tells whether the address has an account. The answer is in
        ``language``."""
        self._send_link(email.strip(), language, request)
        return SIGNUP_ACCEPTED[language]

    def resend(
        self,
        email: str,
        language: Language | None,
        request: RequestInfo,
        *,
        answer_in: Language = DEFAULT_LANGUAGE,
    ) -> str:
        """A new link in place of the old one. For an address that never signed up this
        starts a sign-up: doing the same work on every path keeps timing from telling
        which addresses are known. The mail keeps the sign-up's language unless ``language``
        is given; the answer is in ``answer_in`` (the request's)."""
        self._send_link(email.strip(), language, request)
        return SIGNUP_ACCEPTED[answer_in]

    def _send_link(self, email: str, language: Language | None, request: RequestInfo) -> None:
        canonical = canonical_email(email)
        moment = self.clock()
        previous, account, owner = self.signups.load(canonical)
        limits = self._limits(canonical, request)
        language = language or (previous.language if previous else DEFAULT_LANGUAGE)
        try:
            if owner is not None:
                # No account of its own: the tenant's IdP is its people's one way in.
                self.signups.count(limits, moment)
                self._deliver(
                    tenant_login_mail(email, language, self._tenant_login_url(owner)),
                    undo=lambda: self.signups.uncount(limits, moment),
                )
            elif account is not None:
                self.signups.count(limits, moment)
                self._deliver(
                    account_exists_mail(email, language, self.settings.public_url),
                    undo=lambda: self.signups.uncount(limits, moment),
                )
            else:
                token = new_token()
                signup = Signup(
                    email=email,
                    email_canonical=canonical,
                    language=language,
                    token_hash=token_hash(token),
                    status=SignupStatus.PENDING,
                    created_at=moment,
                    expires_at=moment + timedelta(hours=self.settings.signups.activation_ttl_hours),
                )
                self.signups.replace(signup, previous, limits, moment)
                self._deliver(
                    activation_mail(email, language, self.settings.public_url, token),
                    undo=lambda: self.signups.restore(signup, previous, limits, moment),
                )
        except RateLimited as limited:
            if limited.kind == "signup-ip":
                metrics.add_metric(name="SignupsThrottled", unit="Count", value=1)
                raise errors.TooManyRequests(limited.retry_after_seconds) from limited
            logger.info("mail limit reached for an address; nothing sent")  # same answer, silently
        except SignupRace:
            logger.info("concurrent sign-up for the same address; the other one stands")

    def _tenant_login_url(self, owner: DomainPolicy) -> str:
        return f"{self.settings.public_url}{login_path(owner.provider_id)}"

    def _deliver(self, mail: Mail, undo: Callable[[], None]) -> None:
        try:
            self.mailer.send(mail)
        except MailNotSent as exc:
            logger.warning("mail not sent", extra={"kind": mail.kind, "reason": str(exc)})
            undo()
            raise errors.MailUnavailable(retry_after_seconds=60) from exc
        metrics.add_metric(name="MailsSent", unit="Count", value=1)

    def _open_signup(self, token: str) -> Signup:
        return self._ensure_open(self.signups.find_by_token_hash(token_hash(token)))

    def _ensure_open(self, signup: Signup | None) -> Signup:
        if signup is None:
            raise errors.ActivationNotFound
        if signup.status is SignupStatus.USED:
            raise errors.ActivationUsed
        if signup.is_expired(self.clock()):
            raise errors.ActivationExpired
        return signup

    def check_activation(self, token: str) -> Signup:
        """What a link is for, without using it (the page shows the email before the form).
        ``LoginMethodNotAllowed`` for a link sent before the address's domain was restricted
        to its tenant's IdP."""
        signup = self._open_signup(token)
        self._refuse_restricted(signup)
        return signup

    def _refuse_restricted(self, signup: Signup) -> None:
        """A link sent before the address's domain was restricted to its tenant's IdP no
        longer makes an account: the tenant's login is the way in."""
        _, _, owner = self.signups.load(signup.email_canonical)
        if owner is not None:
            raise errors.LoginMethodNotAllowed.through(login_path(owner.provider_id))

    def complete_activation(
        self,
        *,
        token: str,
        username: str,
        password: str,
        terms_version: str,
        environment_name: str | None,
        request: RequestInfo,
    ) -> NewAccount:
        version = self.settings.terms.version
        if terms_version != version:
            raise errors.InvalidInput(
                "body.terms_version",
                f"Accept the current terms, version {version}.",
                f"Accepteer de huidige voorwaarden, versie {version}.",
            )
        found = self.signups.find_by_token_hash(token_hash(token))
        # The body's problems answer before the link's (422 before 404/410).
        problem = password_problem(password, username=username, email=found.email if found else "")
        if problem:
            raise errors.InvalidInput("body.password", problem.en, problem.nl, code="weak_password")
        signup = self._ensure_open(found)
        self._refuse_restricted(signup)
        moment = self.clock()
        terms = TermsAcceptance(version=terms_version, accepted_at=moment)
        user = User(
            id=str(uuid.uuid4()),
            username=username,
            email=signup.email,
            email_canonical=signup.email_canonical,
            language=signup.language,
            environment_id=str(uuid.uuid4()),
            role=Role.ADMIN,
            terms=terms,
            created_at=moment,
            updated_at=moment,
        )
        default_name = {"nl": f"Omgeving van {username}", "en": f"{username}'s environment"}[signup.language]
        environment = Environment(
            id=user.environment_id,
            name=environment_name or default_name,
            created_at=moment,
            updated_at=moment,
        )
        account = NewAccount(user=user, environment=environment, signup=signup)
        evidence = {
            "ip": request.ip,
            "user_agent": request.user_agent[:512],
            "locale": signup.language,
            "terms_url": self.settings.terms.url,
        }
        # The transaction decides races (one token, one username) before any login exists.
        self.signups.complete(account, evidence=evidence)
        try:
            self.identity.create_login(user.id, user.email, password)
        except IdentityUnavailable as exc:
            logger.warning("login not created; activation undone", extra={"reason": str(exc)})
            self.signups.undo_complete(account)
            raise errors.LoginNotCreated from exc
        metrics.add_metric(name="EnvironmentsCreated", unit="Count", value=1)
        try:
            self.mailer.send(confirmation_mail(user.email, user.language, self.settings.public_url, username))
        except MailNotSent as exc:
            # The account exists and works: a lost confirmation mail must not undo it.
            logger.warning("confirmation mail not sent", extra={"reason": str(exc)})
        return account

    # --- Login ----------------------------------------------------------------------------
    def login(self, login: str, password: str) -> Tokens:
        """Tokens for a username (or email) and password. A restricted tenant's people are
        refused before any password is checked (as the user pool's PreAuthentication does)."""
        is_email = "@" in login
        address = canonical_email(login) if is_email else ""
        account = self.users.find_login(address if is_email else login, is_email=is_email)
        # An unknown login still reads an account and asks Cognito (for a name that cannot
        # exist), so that the answer and its timing are those of a wrong password. An address
        # of a restricted tenant's domain is refused whether it has an account or not.
        cognito_username = account.user_id if account else f"unknown-{uuid.uuid4()}"
        restriction = restriction_of(self.users.signing_in(cognito_username, address, None))
        if restriction is not None:
            raise errors.LoginMethodNotAllowed.through(login_path(restriction.tenant))
        try:
            return self.identity.authenticate(cognito_username, password)
        except LoginRejected as exc:
            raise errors.InvalidCredentials from exc
        except LoginRefused as exc:  # restricted meanwhile: the pool's trigger said no
            raise errors.LoginMethodNotAllowed from exc
        except IdentityUnavailable as exc:
            raise errors.IdentityServiceUnavailable from exc

    def refresh(self, refresh_token: str) -> Tokens:
        """New tokens at the app client that issued the refresh token, for an account that may
        still get them there (a restricted tenant's people only at the tenant's client)."""
        issuer = self.logins.client_of(refresh_token)
        try:
            tokens = self.identity.refresh(refresh_token, issuer)
        except (LoginRejected, LoginRefused) as exc:
            raise errors.InvalidRefreshToken from exc
        except IdentityUnavailable as exc:
            raise errors.IdentityServiceUnavailable from exc
        claims = tokens.claims()
        try:
            signed_in_user(
                self.users,
                str(claims.get("cognito:username", "")),
                client_id=str(claims.get("aud", "")),
                email=str(claims.get("email", "")),
                terms_version="",
                require_current_terms=False,
            )
        except errors.LoginMethodNotAllowed as exc:
            raise errors.InvalidRefreshToken from exc
        except errors.Unauthorized:
            pass  # no account: the signed-in routes answer 401 (as before, tokens are tokens)
        return tokens

    # --- The signed-in user ---------------------------------------------------------------
    def current_user(
        self,
        cognito_username: str,
        *,
        client_id: str | None = None,
        email: str | None = None,
        require_current_terms: bool = True,
        on_found: Callable[[User], None] | None = None,
    ) -> User:
        """The caller's account (its login policy checked against the token's ``client_id``),
        with the terms this service accepts checked (the same settings decide the gate and
        ``accept_terms``)."""
        return signed_in_user(
            self.users,
            cognito_username,
            client_id=client_id,
            email=email,
            terms_version=self.settings.terms.version,
            require_current_terms=require_current_terms,
            on_found=on_found,
        )

    def profile(self, user: User) -> tuple[Environment, list[Organisation]]:
        """The user's environment and the organisations to ask about receiving (admins only:
        only they can enable it)."""
        environment, organisations = self.organisations.environment_with_organisations(user.environment_id)
        if environment is None:
            raise errors.EnvironmentNotFound
        asking = [o for o in organisations if o.asks_to_receive] if user.role is Role.ADMIN else []
        return environment, asking

    def environment_of(self, user: User) -> Environment:
        environment = self.environments.get(user.environment_id)
        if environment is None:  # a user always has one; a missing one is a broken record
            raise errors.EnvironmentNotFound
        return environment

    def update_profile(self, user: User, changes: dict[str, Any]) -> User:
        """Change what ``changes`` names; a ``None`` name clears it (name is optional)."""
        if not changes:
            return user
        if "name" in changes and changes["name"] is None:
            changes = {**changes, "name": ""}
        return self.users.update_profile(user.id, changes, self.clock())

    def accept_terms(self, user: User, version: str, request: RequestInfo) -> User:
        current = self.settings.terms.version
        if version != current:
            raise errors.InvalidInput(
                "body.version",
                f"Unknown terms version; the current one is {current}.",
                f"Onbekende versie van de voorwaarden; de huidige is {current}.",
                code="unknown_terms_version",
            )
        accepted = user.model_copy(
            update={"terms": TermsAcceptance(version=version, accepted_at=self.clock())}
        )
        return self.users.accept_terms(
            accepted,
            {
                "ip": request.ip,
                "user_agent": request.user_agent[:512],
                "locale": user.language,
                "terms_url": self.settings.terms.url,
            },
        )
