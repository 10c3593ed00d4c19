"""HTTP adapter of the auth function: parse, call the service, shape the answer."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from auth_api import pages
from auth_api.login import FederatedLogin, Redirect
from auth_api.models import (
    Accepted,
    Activated,
    ActivationCheckRequest,
    ActivationCompleteRequest,
    ActivationInfo,
    Credit,
    EnvironmentOut,
    EnvironmentRef,
    Identity,
    LoginPolicy,
    LoginRequest,
    Me,
    MeEnvironment,
    MeTerms,
    MeUpdate,
    ProviderOut,
    ReceivePrompt,
    RefreshedTokens,
    RefreshRequest,
    ResendRequest,
    SessionRequest,
    SignupRequest,
    TermsAcceptRequest,
    TermsInfo,
    TokenResponse,
    UserRef,
)
from auth_api.service import AuthService, RequestInfo
from onboarding.adapters.dynamo import Table
from onboarding.adapters.hosted_login import CognitoHostedLogin
from onboarding.adapters.identity import CognitoIdentity
from onboarding.adapters.mailer import SesMailer
from onboarding.adapters.repositories.environments import EnvironmentRepository
from onboarding.adapters.repositories.idempotency import IdempotencyRepository
from onboarding.adapters.repositories.logins import LoginRepository
from onboarding.adapters.repositories.organisations import OrganisationRepository
from onboarding.adapters.repositories.signups import SignupRepository
from onboarding.adapters.repositories.tenants import TenantRepository
from onboarding.adapters.repositories.users import UserRepository
from onboarding.domain.models import User
from onboarding.domain.ports import Tokens
from onboarding.domain.rules import rfc3339
from onboarding.observability import logger, metrics
from onboarding.settings import get_settings
from onboarding.web.app import COGNITO, create_app, resolve
from onboarding.web.caller import caller_from_event, client_ip
from onboarding.web.docs import openapi_document, swagger_page
from onboarding.web.idempotency import IDEMPOTENCY_KEY, idempotent
from onboarding.web.language import preferred_language, request_language, speak
from onboarding.web.schemas import BODY_ERRORS, TEXT_PATTERN, documented

app = create_app()
AUTH_TAG, ME_TAG, DOCS_TAG = ["Sign-up and login"], ["Signed-in user"], ["Documentation"]


@lru_cache(maxsize=1)
def service() -> AuthService:
    settings = get_settings()
    table = Table(settings.table.name)
    return AuthService(
        settings=settings,
        signups=SignupRepository(table),
        users=UserRepository(table),
        environments=EnvironmentRepository(table),
        organisations=OrganisationRepository(table),
        mailer=SesMailer(settings.mail.sender, settings.mail.configuration_set),
        identity=CognitoIdentity(
            settings.identity.user_pool_id,
            settings.identity.api_client_id,
            other_client_ids=(settings.identity.web_client_id or "",),
        ),
        logins=LoginRepository(table),
    )


@lru_cache(maxsize=1)
def federated_login() -> FederatedLogin:
    settings = get_settings()
    table = Table(settings.table.name)
    return FederatedLogin(
        settings=settings,
        logins=LoginRepository(table),
        hosted=lru_cache(maxsize=1)(lambda: CognitoHostedLogin(settings)),
        tenants=TenantRepository(table),
    )


def _request_info() -> RequestInfo:
    event = app.current_event
    return RequestInfo(ip=client_ip(event), user_agent=event.headers.get("user-agent", "") or "")


def _user(*, require_current_terms: bool = True) -> User:
    caller = caller_from_event(app.current_event)
    return service().current_user(
        caller.username,
        client_id=caller.client_id,
        email=caller.email,
        require_current_terms=require_current_terms,
        on_found=lambda user: speak(app, user.language),
    )


def _activation_token(body: Any) -> str | None:
    """The secret that scopes Idempotency-Keys sent with an activation (see ``idempotency``)."""
    token = body.get("token") if isinstance(body, dict) else None
    return token if isinstance(token, str) else None


# --- Sign-up and activation (public) --------------------------------------------------------
@app.post(
    "/auth/signup",
    status_code=202,
    tags=AUTH_TAG,
    summary="Start a sign-up: mail an activation link",
    responses=documented(202, Accepted, *BODY_ERRORS, 429, 503, description="Accepted"),
)
def signup(
    body: SignupRequest, accept_language: Annotated[str | None, Header(alias="Accept-Language")] = None
) -> Accepted:
    language = body.language or preferred_language(accept_language)
    speak(app, language)
    return Accepted(message=service().sign_up(body.email, language, _request_info()))


@app.post(
    "/auth/activation/resend",
    status_code=202,
    tags=AUTH_TAG,
    summary="Mail a new activation link",
    responses=documented(202, Accepted, *BODY_ERRORS, 429, 503, description="Accepted"),
)
def resend(
    body: ResendRequest, accept_language: Annotated[str | None, Header(alias="Accept-Language")] = None
) -> Accepted:
    language = preferred_language(accept_language) if accept_language else None
    answer = service().resend(body.email, language, _request_info(), answer_in=request_language(app))
    return Accepted(message=answer)


@app.post(
    "/auth/activation/check",
    tags=AUTH_TAG,
    summary="What an activation link is for (uses nothing)",
    responses=documented(200, ActivationInfo, *BODY_ERRORS, 404, 410),
)
def check_activation(body: ActivationCheckRequest) -> ActivationInfo:
    signup_ = service().check_activation(body.token)
    return ActivationInfo(
        email=signup_.email, expires_at=rfc3339(signup_.expires_at), language=signup_.language
    )


@app.post(
    "/auth/activation/complete",
    status_code=201,
    tags=AUTH_TAG,
    summary="Use an activation link: create the login, the user and the environment",
    responses=documented(201, Activated, *BODY_ERRORS, 404, 409, 410, 503, description="Created"),
    middlewares=[
        idempotent(
            lambda: IdempotencyRepository(Table(get_settings().table.name)), public_scope=_activation_token
        )
    ],
)
def complete_activation(
    body: ActivationCompleteRequest, idempotency_key: IDEMPOTENCY_KEY = None
) -> Activated:
    account = service().complete_activation(
        token=body.token,
        username=body.username,
        password=body.password,
        terms_version=body.terms_version,
        environment_name=body.environment_name,
        request=_request_info(),
    )
    user, environment = account.user, account.environment
    return Activated(
        user=UserRef(id=user.id, username=user.username, email=user.email),
        environment=EnvironmentRef(id=environment.id, name=environment.name),
    )


@app.get(
    "/activate",
    tags=AUTH_TAG,
    summary="The activation page (reads the token from the URL fragment)",
    responses=documented(200, None, description="HTML page", content_type="text/html"),
)
def activation_page() -> Response[str]:
    return _page("activate.html")


def _page(name: str) -> Response[str]:
    page = pages.page(name)
    return Response(
        status_code=200, content_type="text/html; charset=utf-8", body=page.html, headers=page.headers
    )


@app.get(
    "/login",
    tags=AUTH_TAG,
    summary="The login page: Google, Microsoft, Apple, or username and password; and sign-up",
    responses=documented(200, None, description="HTML page", content_type="text/html"),
)
def login_page() -> Response[str]:
    return _page("login.html")


@app.get(
    "/",
    tags=AUTH_TAG,
    summary="The app's landing page: takes #session=<code>, shows who is signed in, asks for the terms",
    responses=documented(200, None, description="HTML page", content_type="text/html"),
)
def app_page() -> Response[str]:
    return _page("app.html")


@app.get("/auth/terms", tags=AUTH_TAG, summary="The current terms", responses=documented(200, TermsInfo))
def terms() -> TermsInfo:
    terms = get_settings().terms
    return TermsInfo(version=terms.version, url=terms.url)


# --- Login (public) -------------------------------------------------------------------------
@app.post(
    "/auth/token",
    tags=AUTH_TAG,
    summary="Log in with username (or email) and password",
    responses=documented(200, TokenResponse, *BODY_ERRORS, 401, 403, 503),
    cache_control="no-store",  # tokens: no cache may keep them
)
def token(body: LoginRequest) -> TokenResponse:
    return _token_response(service().login(body.username, body.password))


@app.get(
    "/auth/providers",
    tags=AUTH_TAG,
    summary="The ways to log in, with the URL that starts each",
    responses=documented(200, list[ProviderOut]),
)
def providers() -> list[ProviderOut]:
    return [ProviderOut(id=p.id, name=p.name, login_url=p.login_url) for p in federated_login().providers()]  # type: ignore[arg-type]


BROWSER_COOKIE = "login_browser"
LoginHint = Annotated[
    str | None,
    Query(min_length=1, max_length=254, pattern=TEXT_PATTERN, description="Passed on to the provider"),
]
OAuthValue = Annotated[str | None, Query(max_length=2048)]


def _browser_binding() -> str | None:
    from http.cookies import CookieError, SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(app.current_event.headers.get("cookie") or "")
    except CookieError:
        return None
    morsel = jar.get(BROWSER_COOKIE)
    return morsel.value if morsel else None


def _redirect(redirect: Redirect) -> Response[str]:
    """A 302 that no cache keeps and that tells no site where it came from; it (re)sets the
    login's browser binding when there is one (HttpOnly, SameSite=Lax: it is sent when the
    provider sends the browser back, never to other sites' requests)."""
    settings = get_settings()
    cookies = []
    if redirect.browser:
        cookies.append(
            Cookie(
                BROWSER_COOKIE,
                redirect.browser,
                path="/",
                secure=settings.public_url.startswith("https://"),
                http_only=True,
                same_site=SameSite.LAX_MODE,
                max_age=settings.federation.login_ttl_seconds,
            )
        )
    return Response(
        status_code=302,
        body="",
        headers={
            "Location": redirect.location,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
        cookies=cookies,
    )


@app.get(
    "/auth/login/<provider>",
    tags=AUTH_TAG,
    summary="Start a login through Google, Microsoft or Apple (to the hosted login, with PKCE)",
    responses=documented(302, None, 404, 422, 503, description="To the user pool's hosted login"),
)
def login(
    provider: Annotated[str, Path(min_length=1, max_length=32)], login_hint: LoginHint = None
) -> Response[str]:
    return _redirect(federated_login().start(provider, login_hint=login_hint, browser=_browser_binding()))


@app.get(
    "/t/<tenant>/login",
    tags=AUTH_TAG,
    summary="A restricted tenant's login: straight to its own identity provider (with PKCE)",
    responses=documented(302, None, 404, 422, 503, description="To the tenant's identity provider"),
)
def tenant_login(
    tenant: Annotated[str, Path(min_length=1, max_length=64)], login_hint: LoginHint = None
) -> Response[str]:
    return _redirect(
        federated_login().start_tenant(tenant, login_hint=login_hint, browser=_browser_binding())
    )


@app.get(
    "/auth/callback",
    tags=AUTH_TAG,
    summary="Where the hosted login sends the browser back: to the app with #session=<code>",
    responses=documented(302, None, 400, 401, 422, 503, description="To the app (#session= or #error=)"),
)
def callback(
    state: OAuthValue = None,
    code: OAuthValue = None,
    error: OAuthValue = None,
    error_description: OAuthValue = None,
) -> Response[str]:
    redirect = federated_login().callback(
        state=state,
        code=code,
        error=error,
        error_description=error_description or "",
        browser=_browser_binding(),
    )
    return _redirect(redirect)


def _token_response(tokens: Tokens) -> TokenResponse:
    return TokenResponse(
        id_token=tokens.id_token,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token or "",
        expires_in=tokens.expires_in,
    )


@app.post(
    "/auth/session",
    tags=AUTH_TAG,
    summary="Exchange a login's one-time #session code for its tokens (once, within 60 seconds)",
    responses=documented(200, TokenResponse, *BODY_ERRORS, 401),
    cache_control="no-store",  # tokens: no cache may keep them
)
def session(body: SessionRequest) -> TokenResponse:
    return _token_response(federated_login().session(body.session))


@app.post(
    "/auth/token/refresh",
    tags=AUTH_TAG,
    summary="New ID and access tokens for a refresh token",
    responses=documented(200, RefreshedTokens, *BODY_ERRORS, 401, 503),
    cache_control="no-store",
)
def refresh(body: RefreshRequest) -> RefreshedTokens:
    tokens = service().refresh(body.refresh_token)
    return RefreshedTokens(
        id_token=tokens.id_token, access_token=tokens.access_token, expires_in=tokens.expires_in
    )


# --- The signed-in user ---------------------------------------------------------------------
def _me(user: User) -> Me:
    environment, asking = service().profile(user)
    return Me(
        id=user.id,
        username=user.username,
        email=user.email,
        name=user.name,
        language=user.language,
        notifications=user.notifications,
        environment=MeEnvironment(id=environment.id, name=environment.name, role=user.role.value),
        terms=MeTerms(
            accepted_version=user.terms.version if user.terms else None,
            accepted_at=rfc3339(user.terms.accepted_at) if user.terms else None,
        ),
        identities=[Identity(provider=p) for p in user.identities],
        receive_prompt=[ReceivePrompt(organisation_id=o.id, name=o.name) for o in asking],
    )


@app.get(
    "/me", tags=ME_TAG, security=COGNITO, summary="The signed-in user", responses=documented(200, Me, 401)
)
def get_me() -> Me:
    user = _user(require_current_terms=False)
    return _me(user)


@app.patch(
    "/me",
    tags=ME_TAG,
    security=COGNITO,
    summary="Change name, language or notifications",
    responses=documented(200, Me, *BODY_ERRORS, 401, 403),
)
def patch_me(body: MeUpdate) -> Me:
    user = _user()
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)  # a null name clears it
    updated = service().update_profile(user, changes)
    return _me(updated)


@app.post(
    "/me/terms",
    tags=ME_TAG,
    security=COGNITO,
    summary="Accept the current terms",
    responses=documented(200, Me, *BODY_ERRORS, 401),
)
def accept_terms(body: TermsAcceptRequest) -> Me:
    user = service().accept_terms(_user(require_current_terms=False), body.version, _request_info())
    return _me(user)


@app.get(
    "/environment",
    tags=ME_TAG,
    security=COGNITO,
    summary="The signed-in user's environment",
    responses=documented(200, EnvironmentOut, 401, 403),
)
def get_environment() -> EnvironmentOut:
    environment = service().environment_of(_user())
    return EnvironmentOut(
        id=environment.id,
        name=environment.name,
        plan=environment.plan.value,
        credit=Credit(balance_cents=environment.credit_balance_cents, currency=environment.currency),
        login_policy=LoginPolicy(restricted_to_idp=environment.restricted_to_idp),
    )


# --- Documentation --------------------------------------------------------------------------
@app.get("/openapi.json", tags=DOCS_TAG, include_in_schema=False)
def openapi() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=openapi_document())


@app.get("/docs", tags=DOCS_TAG, include_in_schema=False)
def docs() -> Response[str]:
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=swagger_page())


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return resolve(app, event, context)
