"""Federated login as the app sees it: which providers there are, the start of a login (to the
user pool's hosted login with PKCE, state and nonce; for a restricted tenant, through its own
app client straight to its own IdP), its callback (code exchange, ID token checks, a one-time
session code for the app) and the exchange of that code for the tokens.

Nothing here knows of HTTP; the handler turns the results into redirects and cookies.

- ``state``, ``nonce`` and a browser binding are 256-bit random values; only their SHA-256 is
  kept, with the PKCE verifier, in one item that the callback uses up (conditional write),
  valid ``federation.login_ttl_seconds``.
- The browser binding is a cookie set when the login starts: a callback URL (code and state)
  opened in another browser is refused, so nobody can log a victim in to the attacker's
  account by sending them a link (login CSRF).
- Cognito's first login after a PreSignUp link may fail with "Already found an entry for
  username"; the callback then starts the login once more (marked, so never twice).
- Errors from Cognito or the provider reach the app as one of a few codes, never their text.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from onboarding.domain import errors
from onboarding.domain.errors import IdentityUnavailable, LoginRejected, TokenInvalid
from onboarding.domain.linking import BUILT_IN, SIGN_IN_REFUSED, Provider, tenant_provider
from onboarding.domain.models import LoginAttempt
from onboarding.domain.ports import HostedLogin, Logins, Tenants, Tokens
from onboarding.domain.rules import new_token, now, pkce_challenge, token_hash
from onboarding.domain.tenancy import SLUG_PATTERN
from onboarding.observability import logger, metrics
from onboarding.settings import Settings

_RANDOM = re.compile(r"^[A-Za-z0-9_-]{43}$")  # what new_token() makes: 256 bits, URL-safe
LINKING_GOTCHA = "Already found an entry for username"


@dataclass(frozen=True)
class ProviderEntry:
    id: str
    name: str
    login_url: str


@dataclass(frozen=True)
class Redirect:
    """Where the browser goes next, and the browser binding to (re)set, if any."""

    location: str
    browser: str | None = None


def app_error_code(error: str, description: str) -> str:
    """The app's code for an ``?error=`` from Cognito or the provider."""
    if error == "access_denied":
        return "login_cancelled"
    if SIGN_IN_REFUSED in description:
        return "login_not_allowed"
    return "login_failed"


@dataclass
class FederatedLogin:
    settings: Settings
    logins: Logins
    hosted: Callable[[], HostedLogin]  # built on first use: only login routes need it
    tenants: Tenants
    clock: Callable[[], datetime] = field(default=now)

    @property
    def app_url(self) -> str:
        """Where a finished login lands: the app's page (``GET /``)."""
        return f"{self.settings.public_url}/"

    def offered(self) -> tuple[Provider, ...]:
        if not self.settings.identity.web_client_id or not self.settings.identity.hosted_domain:
            return ()
        enabled = set(self.settings.federation.providers)
        return tuple(p for p in BUILT_IN if p.id in enabled)

    def providers(self) -> list[ProviderEntry]:
        base = self.settings.public_url
        entries = [ProviderEntry(p.id, p.display_name, f"{base}/auth/login/{p.id}") for p in self.offered()]
        return [*entries, ProviderEntry("email", "E-mail", f"{base}/login")]

    def start(
        self, provider_id: str, *, login_hint: str | None, browser: str | None, retried: bool = False
    ) -> Redirect:
        """A new login through ``provider_id``: to the hosted login. ``browser`` is the binding
        the browser already has (kept), else a new one is made. ``UnknownProvider``."""
        provider = next((p for p in self.offered() if p.id == provider_id), None)
        if provider is None:
            raise errors.UnknownProvider
        return self._begin(provider, None, login_hint=login_hint, browser=browser, retried=retried)

    def start_tenant(
        self, slug: str, *, login_hint: str | None, browser: str | None, retried: bool = False
    ) -> Redirect:
        """A login of a restricted tenant's people: through the tenant's own app client, whose
        only provider is the tenant's IdP. ``TenantNotFound``."""
        known = self.settings.identity.hosted_domain and re.fullmatch(SLUG_PATTERN, slug)
        tenant = self.tenants.get(slug) if known else None
        if tenant is None:
            raise errors.TenantNotFound
        provider = tenant_provider(tenant)
        return self._begin(
            provider, tenant.client_id, login_hint=login_hint, browser=browser, retried=retried
        )

    def _begin(
        self,
        provider: Provider,
        client_id: str | None,
        *,
        login_hint: str | None,
        browser: str | None,
        retried: bool,
    ) -> Redirect:
        binding = browser if browser and _RANDOM.fullmatch(browser) else new_token()
        state, nonce, verifier = new_token(), new_token(), secrets.token_urlsafe(64)
        moment = self.clock()
        self.logins.start(
            LoginAttempt(
                state_hash=token_hash(state),
                provider=provider.id,
                nonce_hash=token_hash(nonce),
                code_verifier=verifier,
                browser_hash=token_hash(binding),
                login_hint=login_hint,
                client_id=client_id,
                retried=retried,
                created_at=moment,
                expires_at=moment + timedelta(seconds=self.settings.federation.login_ttl_seconds),
            )
        )
        location = self.hosted().authorize_url(
            provider=provider,
            state=state,
            nonce=nonce,
            code_challenge=pkce_challenge(verifier),
            login_hint=login_hint,
            client_id=client_id,
        )
        return Redirect(location, browser=binding)

    def callback(
        self,
        *,
        state: str | None,
        code: str | None,
        error: str | None,
        error_description: str,
        browser: str | None,
    ) -> Redirect:
        """The end of a login: to the app with ``#session=<code>`` (or ``#error=<code>``), or
        once more to the hosted login. ``InvalidState``, ``LoginCodeRejected``,
        ``IdTokenRejected``, ``IdentityServiceUnavailable``."""
        attempt = self._attempt(state, browser)
        if error:
            if LINKING_GOTCHA in error_description and not attempt.retried:
                logger.info("first login after linking failed as Cognito does; starting it once more")
                metrics.add_metric(name="FederatedLoginRetried", unit="Count", value=1)
                again = self.start_tenant if attempt.client_id else self.start
                return again(attempt.provider, login_hint=attempt.login_hint, browser=browser, retried=True)
            code_for_app = app_error_code(error, error_description)
            logger.info("login ended with an error", extra={"error": error[:64], "app_code": code_for_app})
            return Redirect(f"{self.app_url}#error={code_for_app}")
        if not code or len(code) > 2048:
            raise errors.LoginCodeRejected
        tokens = self._exchange(code, attempt.code_verifier, attempt.client_id)
        self._check(tokens, attempt)
        if attempt.client_id and tokens.refresh_token:
            # A tenant's refresh token works only at its client: note which, for the refresh.
            days = self.settings.federation.refresh_token_days
            self.logins.remember_client(
                tokens.refresh_token, attempt.client_id, self.clock() + timedelta(days=days)
            )
        session = new_token()
        self.logins.keep_session(
            session, tokens, self.clock() + timedelta(seconds=self.settings.federation.session_ttl_seconds)
        )
        metrics.add_metric(name="FederatedLogins", unit="Count", value=1)
        return Redirect(f"{self.app_url}#session={session}")

    def _attempt(self, state: str | None, browser: str | None) -> LoginAttempt:
        if not state or not _RANDOM.fullmatch(state):
            raise errors.InvalidState
        attempt = self.logins.take(token_hash(state), self.clock())
        # The binding is compared after the state is used up: a callback tried from another
        # browser burns it, so the real browser cannot be raced either.
        if (
            attempt is None
            or not browser
            or not hmac.compare_digest(attempt.browser_hash, token_hash(browser))
        ):
            raise errors.InvalidState
        return attempt

    def _exchange(self, code: str, verifier: str, client_id: str | None) -> Tokens:
        try:
            return self.hosted().exchange(code, verifier, client_id)
        except LoginRejected as exc:
            logger.info("the user pool refused the login's code", extra={"reason": str(exc)})
            raise errors.LoginCodeRejected from exc
        except IdentityUnavailable as exc:
            logger.warning("the user pool's token endpoint failed", extra={"reason": str(exc)})
            raise errors.IdentityServiceUnavailable from exc

    def _check(self, tokens: Tokens, attempt: LoginAttempt) -> None:
        try:
            claims = self.hosted().verify(tokens.id_token, attempt.client_id)
        except TokenInvalid as exc:
            logger.warning("a login's ID token failed a check", extra={"check": str(exc)})
            raise errors.IdTokenRejected from exc
        except IdentityUnavailable as exc:
            raise errors.IdentityServiceUnavailable from exc
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not hmac.compare_digest(token_hash(nonce), attempt.nonce_hash):
            logger.warning("a login's ID token failed a check", extra={"check": "nonce"})
            raise errors.IdTokenRejected

    def session(self, code: str) -> Tokens:
        """The tokens of a finished login, once. ``InvalidSession``."""
        tokens = self.logins.take_session(code, self.clock()) if _RANDOM.fullmatch(code) else None
        if tokens is None:
            raise errors.InvalidSession
        return tokens
