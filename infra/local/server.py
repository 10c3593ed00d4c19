"""The local platform: the API's routes over HTTP, each request turned into an API Gateway
proxy event for the same handler Lambda runs, on a moto emulator.

    python -m infra.local            # what `make dev` runs; PORT overrides 3000
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Mapping, MutableMapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from infra.local import router
from infra.local.authorizer import CognitoAuthorizer, TokenRejected
from infra.local.bootstrap import LOCAL_CLIENTS, LocalResources, bootstrap
from infra.local.emulator import LocalAws
from infra.local.event_sources import Background, JobConsole, QueueEventSource, ScheduleSource
from infra.local.events import LambdaContext, api_event
from infra.local.hosted_login import PREFIX as HOSTED_LOGIN
from infra.local.hosted_login import LocalHostedLogin
from infra.local.identity_provider import PREFIX as IDENTITY_PROVIDER
from infra.local.identity_provider import Client, LocalIdentityProvider
from infra.local.outbox import read_outbox
from infra.local.sandboxes import Sandboxes
from infra.local.smp_sandbox import SmpSandbox
from infra.local.tenants import RESPONSES as TENANT_RESPONSES
from infra.local.tenants import LocalTenants, TenantNotSetUp
from infra.platform import BRIDGE, PLATFORM, function
from infra.tenants import TenantFileError, load_tenants, tenants_dir

# The local access point every registration publishes (no AS4 server answers there; the SMP
# sandbox only checks the shape). ACCESS_POINT_URL / ACCESS_POINT_CERTIFICATE override them.
LOCAL_ACCESS_POINT = {
    "ACCESS_POINT_URL": "https://ap.peppol-onboarding.local/as4",
    "ACCESS_POINT_CERTIFICATE": base64.b64encode(
        b"peppol-onboarding local access point certificate"
    ).decode(),
    "ACCESS_POINT_SERVICE_DESCRIPTION": "peppol-onboarding local access point",
}


def local_defaults(environ: MutableMapping[str, str], *defaults: Mapping[str, str]) -> None:
    """Set each local default only where the environment has no value of its own: what a
    person exported (another SMP, their own access point) wins over the local stand-ins. An
    empty value is none, as the settings read it."""
    for values in defaults:
        for name, value in values.items():
            if not environ.get(name):
                environ[name] = value


MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's own limit; the handlers enforce 64 KiB
GATEWAY_JSON = {"Content-Type": "application/json; charset=utf-8"}
_LINK = re.compile(r"\S+/activate#token=[A-Za-z0-9_-]+")


def _gateway_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    """API Gateway's own answers, in the platform's error shape (as the gateway responses
    of the CDK app make them)."""
    body = {"error": {"code": code, "message": message, "details": []}}
    return status, dict(GATEWAY_JSON), json.dumps(body).encode()


class _HttpServer(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a burst of connections while the handlers hold
    # the GIL overflowed it and clients saw "connection reset". Tests and users drive the local
    # platform in parallel; the functions behind it still take one event at a time.
    request_queue_size = 1024
    daemon_threads = True


class LocalFunction:
    """One "container" of a function: like Lambda, it handles one event at a time."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            return router.handler(self.name)(
                event, LambdaContext(self.name, function(self.name).timeout_seconds)
            )


class Platform:
    """Routes, authorizer and functions of the local run."""

    def __init__(
        self,
        resources: LocalResources,
        public_url: str,
        *,
        server_url: str | None = None,
        quiet: bool = False,
        outage: Callable[[str, bool], set[str]] | None = None,
    ) -> None:
        self.resources = resources
        self.quiet = quiet
        self.outage = outage
        server_url = server_url or public_url
        os.environ.update(resources.environment(public_url, server_url))
        router.importable()
        self.functions = {f.name: LocalFunction(f.name) for f in PLATFORM.functions}
        self.identity_provider = _identity_provider(resources, public_url, server_url)
        self.hosted_login = LocalHostedLogin(
            base_url=server_url,
            endpoint_url=resources.endpoint_url,
            region=resources.region,
            user_pool_id=resources.user_pool_id,
            idp=self.identity_provider,
            trigger=self.functions[_trigger_function()].invoke,
        )
        self.authorizer = CognitoAuthorizer(
            jwks_url=self.hosted_login.jwks_url,
            issuer=f"https://cognito-idp.{resources.region}.amazonaws.com/{resources.user_pool_id}",
            audiences=[resources.api_client_id, resources.web_client_id],
        )
        self.tenants = LocalTenants(
            cognito=self.hosted_login.cognito,
            user_pool_id=resources.user_pool_id,
            public_url=public_url,
            server_url=server_url,
            idp=self.identity_provider,
            provisioner=self.functions["tenant-provisioner"].invoke,
            audiences=self.authorizer.audiences,
            folder=tenants_dir(),
        )
        self._mails_seen = 0
        self._mail_lock = threading.Lock()

    def handle(
        self, method: str, raw_path: str, headers: list[tuple[str, str]], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        path = unquote(urlsplit(raw_path).path)
        if path.startswith("/_local/"):
            return self._local(method, path, raw_path, headers, body)
        route, allowed = router.match(method, path)
        if route is None:
            if not allowed:
                return _gateway_error(404, "not_found", "There is no such route.")
            if method == "OPTIONS":
                return (
                    204,
                    {
                        "Access-Control-Allow-Origin": "*",
                        "Access-Control-Allow-Methods": ",".join(allowed),
                        "Access-Control-Allow-Headers": ",".join(PLATFORM.cors_allowed_headers),
                    },
                    b"",
                )
            status, response_headers, payload = _gateway_error(
                405, "method_not_allowed", f"Use one of: {', '.join(allowed)}."
            )
            return status, {**response_headers, "Allow": ", ".join(allowed)}, payload
        claims = None
        if route.secured:
            authorization = next((v for k, v in headers if k.lower() == "authorization"), None)
            try:
                claims = self.authorizer.claims(authorization)
            except TokenRejected:
                return _gateway_error(401, "unauthorized", "A valid bearer ID token is required.")
        event = api_event(
            method,
            raw_path,
            headers=headers,
            body=body,
            resource=route.path,
            source_ip=source_ip,
            claims=claims,
        )
        result = self.functions[route.function].invoke(event)
        response_headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            response_headers[name] = ", ".join(values)
        body_text: str = result.get("body") or ""
        data = base64.b64decode(body_text) if result.get("isBase64Encoded") else body_text.encode("utf-8")
        if method == "POST" and not self.quiet:
            self.announce_new_mail()
        return int(result["statusCode"]), response_headers, data

    def _local(
        self, method: str, path: str, raw_path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """What only the local run serves: the outbox, the outage switch, the tenant folder's
        reload (and the tenant provisioner's response URL), the local identity provider and the
        stand-in of Cognito's hosted login."""
        own = {
            ("GET", "/_local/outbox"): lambda: (
                200,
                dict(GATEWAY_JSON),
                json.dumps(read_outbox(self.resources.endpoint_url)).encode(),
            ),
            ("POST", "/_local/outages"): lambda: self._outages(body),
            ("POST", "/_local/tenants/reload"): self._reload_tenants,
        }
        if (method, path) in own:
            return own[(method, path)]()
        if path.startswith(f"{TENANT_RESPONSES}/") and method == "PUT":
            self.tenants.answer(path.rpartition("/")[2], body)
            return 200, {}, b""
        if path.startswith(f"{IDENTITY_PROVIDER}/"):
            return self.identity_provider.handle(method, raw_path, dict(headers), body)
        if path.startswith(f"{HOSTED_LOGIN}/"):
            return self.hosted_login.handle(method, raw_path, body)
        return _gateway_error(404, "not_found", "There is no such route.")

    def _reload_tenants(self) -> tuple[int, dict[str, str], bytes]:
        """The tenant folder again, as a deploy of the tenants' stacks would make it."""
        try:
            served = self.tenants.load()
        except TenantFileError as problem:
            return _gateway_error(422, "invalid_tenant_file", str(problem))
        except TenantNotSetUp as problem:
            return _gateway_error(409, "tenant_not_set_up", str(problem))
        for tenant in served:
            print(f"[tenant] {tenant['tenant']}: {tenant['login_url']}", flush=True)
        return 200, dict(GATEWAY_JSON), json.dumps(served).encode()

    def _outages(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """``{"sqs": true}`` takes SQS down (503) until ``{"sqs": false}``: an AWS outage, to
        watch the outbox at work. Only with the embedded emulator."""
        if self.outage is None:
            return _gateway_error(
                409, "not_embedded", "Outages need the embedded emulator (no AWS_ENDPOINT_URL)."
            )
        try:
            asked = json.loads(body or b"{}")
            assert isinstance(asked, dict) and all(isinstance(v, bool) for v in asked.values())
        except (ValueError, AssertionError):
            return _gateway_error(
                422, "validation_error", 'Send {"<service>": true|false}, e.g. {"sqs": true}.'
            )
        down: set[str] = set()
        for service, is_down in asked.items():
            down = self.outage(str(service), is_down)
            print(f"[aws] {service} is {'DOWN' if is_down else 'up again'}", flush=True)
        return 200, dict(GATEWAY_JSON), json.dumps({"down": sorted(down)}).encode()

    def announce_new_mail(self) -> None:
        """Print new mails (and their activation links) on the console."""
        with self._mail_lock:
            mails = read_outbox(self.resources.endpoint_url)
            for mail in mails[self._mails_seen :]:
                link = _LINK.search(mail["text"])
                print(
                    f"[mail] to {', '.join(mail['to'])}: {mail['subject']}"
                    + (f"\n       activation link: {link.group(0)}" if link else ""),
                    flush=True,
                )
            self._mails_seen = len(mails)


def _trigger_function() -> str:
    return next(f.name for f in PLATFORM.functions if f.user_pool_triggers)


def _identity_provider(resources: LocalResources, public_url: str, server_url: str) -> LocalIdentityProvider:
    """The local Google, Apple and Entra ID: each knows the one client that uses it (the
    stand-in of Cognito for Google and Apple, the bridge for Entra ID, with its secret)."""
    import boto3

    secrets = boto3.session.Session().client(  # type: ignore[call-overload]
        "secretsmanager", endpoint_url=resources.endpoint_url, region_name=resources.region
    )
    entra_secret = secrets.get_secret_value(SecretId=resources.secret_arns["microsoft-client-secret"])
    idpresponse = f"{server_url}{HOSTED_LOGIN}/oauth2/idpresponse"
    return LocalIdentityProvider(
        server_url,
        clients={
            "google": Client(LOCAL_CLIENTS["google"], idpresponse),
            "apple": Client(LOCAL_CLIENTS["apple"], idpresponse),
            "microsoft": Client(
                LOCAL_CLIENTS["microsoft"],
                f"{public_url}{BRIDGE}/callback",
                client_secret=entra_secret["SecretString"],
            ),
        },
    )


def make_handler(platform: Platform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Headers and body go out in separate writes; without TCP_NODELAY each keep-alive
        # response waits ~40 ms for a delayed ACK.
        disable_nagle_algorithm = True
        protocol_version = "HTTP/1.1"
        server_version = "peppol-onboarding-local"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_REQUEST_BYTES:
                status, headers, payload = _gateway_error(413, "payload_too_large", "The body is too large.")
                self.close_connection = True
            else:
                body = self.rfile.read(length) if length else b""
                try:
                    status, headers, payload = platform.handle(
                        self.command, self.path, list(self.headers.items()), body, self.client_address[0]
                    )
                except Exception as exc:  # the platform's bug: say so, like API Gateway's 502
                    print(f"[error] {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                    status, headers, payload = _gateway_error(502, "bad_gateway", "The function failed.")
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in {"content-length", "connection"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

        def handle_one_request(self) -> None:
            # Every method reaches the router (which answers 405 where it must).
            try:
                self.raw_requestline = self.rfile.readline(65537)
                if not self.raw_requestline:
                    self.close_connection = True
                    return
                if not self.parse_request():
                    return
                self._serve()
                self.wfile.flush()
            except TimeoutError:
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            if not platform.quiet:
                sys.stderr.write(f"[http] {self.address_string()} {format % args}\n")

    return Handler


class LocalServer:
    """Emulator + bootstrap + HTTP server; used by ``make dev`` and by the e2e tests."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 3000,
        *,
        quiet: bool = False,
        endpoint_url: str | None = None,
    ) -> None:
        for name, default in (("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local")):
            os.environ.setdefault(name, default)
        load_tenants(tenants_dir())  # a bad tenant file stops the start at once (TenantFileError)
        self.emulator = None if endpoint_url else LocalAws().start()
        endpoint = endpoint_url or self.emulator.endpoint_url  # type: ignore[union-attr]
        self.httpd = _HttpServer((host, port), BaseHTTPRequestHandler)
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        public_url = (os.environ.get("PUBLIC_URL") or self.url).rstrip("/")
        self.resources = bootstrap(endpoint, public_url=public_url)
        # KvK and VIES sandboxes, unless the environment points at real ones.
        self.sandboxes = Sandboxes().start()
        local_defaults(os.environ, self.sandboxes.environment())
        # The SMP sandbox (with its SML's DNS server), unless SMP_BASE_URL names another SMP.
        self.smp_sandbox = None if os.environ.get("SMP_BASE_URL") else SmpSandbox().start()
        local_defaults(
            os.environ, self.smp_sandbox.environment() if self.smp_sandbox else {}, LOCAL_ACCESS_POINT
        )
        self.platform = Platform(
            self.resources,
            public_url,
            server_url=self.url,
            quiet=quiet,
            outage=self.emulator.outage if self.emulator else None,
        )
        self.httpd.RequestHandlerClass = make_handler(self.platform)
        self._thread: threading.Thread | None = None
        self.tenants: list[dict[str, str]] = []  # the tenants served (set up at start)
        self.background = self._background(quiet=quiet)

    @property
    def smp_url(self) -> str:
        return os.environ["SMP_BASE_URL"]

    def _background(self, *, quiet: bool) -> Background:
        """The worker on the local queue and the sweeper's schedule, as AWS runs them."""
        import boto3

        from onboarding.adapters.dynamo import Table
        from onboarding.adapters.repositories.jobs import RegistrationJobRepository

        resources = self.resources
        sqs = boto3.session.Session().client(  # type: ignore[call-overload]
            "sqs", endpoint_url=resources.endpoint_url, region_name=resources.region
        )
        queues = [
            QueueEventSource(
                spec,
                sqs,
                resources.queue_urls[spec.queue_source.queue],
                resources.queue_arns[spec.queue_source.queue],
            )
            for spec in PLATFORM.functions
            if spec.queue_source is not None
        ]
        account = resources.queue_arns[next(iter(resources.queue_arns))].split(":")[4]
        schedules = [
            ScheduleSource(spec, f"arn:aws:events:{resources.region}:{account}:rule/{spec.name}-schedule")
            for spec in PLATFORM.functions
            if spec.schedule_minutes is not None
        ]
        jobs = RegistrationJobRepository(Table(resources.table_name))
        return Background(
            queues,
            schedules,
            None if quiet else JobConsole(jobs.get),
            schedule_seconds=float(os.environ.get("LOCAL_SCHEDULE_SECONDS") or 5),
        )

    def start(self) -> LocalServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="local-api"
        )
        self._thread.start()
        try:
            # Over HTTP: the tenant provisioner answers at a response URL of this server.
            self.tenants = self.platform.tenants.load()
        except Exception:
            self.stop()
            raise
        self.background.start()
        return self

    def stop(self) -> None:
        self.background.stop()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.sandboxes.stop()
        if self.smp_sandbox:
            self.smp_sandbox.stop()
        if self.emulator:
            self.emulator.stop()
