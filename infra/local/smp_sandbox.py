"""A local SMP (the phoss-smp REST API subset the SMP client speaks) and a local SML (an
in-memory participant register plus a tiny DNS server answering U-NAPTR queries), for
``make dev`` and the tests. Nothing here reaches the internet.

SMP: ``PUT|GET|DELETE /{service group}``, ``PUT|GET|DELETE /{service group}/services/{doc}``,
``DELETE /{service group}/services``, ``PUT|GET|DELETE /businesscard/{service group}``,
``PUT /migration/outbound/{start|cancel|finalize}/{service group}`` and
``PUT /migration/inbound/{service group}/{key}``; ids are percent-encoded path segments.
Writes need the configured Basic credentials (or bearer token). Every XML body is validated
against the vendored official XSDs (``schemas/peppol``). Answers follow phoss-smp 8.x
(``SMPRestExceptionMapper`` and the ``APIExecutor*`` classes): 200 with an empty body on
success, plain-text errors, 403 for any authentication problem, 404 for unknown things,
500 ``Failed to create '<id>' in SML`` when the SML refuses. Deviations, on purpose: an
XSD-invalid body is a 400 with the first schema error (phoss answers a bare 500), and a
refused SML write carries the SML's reason below the phoss message the way phoss does in
debug mode (``sml_error_details=False`` gives the production body only).

Registered elsewhere: a participant is held by another SMP (``ELSEWHERE_SMP_URL``) when it
is in ``registered_elsewhere`` (default ``REGISTERED_ELSEWHERE``: the KvK sandbox's
"Test VOF Guus en Govert", so the whole onboarding flow can reach that case) or when its
value contains ``elsewhere`` (``0106:elsewhere-1``). Such participants answer in DNS too.

Faults and slowness, for the tests and for trying the UI: ``POST /_sandbox/faults`` with
``{"fail_next": n, "status": 503}``, ``{"timeout_next": n, "hang": 2.0}`` (answer nothing for
``hang`` seconds, then drop the connection) or ``{"delay": 0.3}`` (every call from now on);
``GET /_sandbox/state``; ``POST /_sandbox/reset``; ``POST /_sandbox/elsewhere``
``{"participant_id", "smp_url"?}``; ``POST /_sandbox/prepare-migration``
``{"participant_id", "migration_key"?}`` (another SMP hands out a key for a participant it
holds, to try "moving here").
"""

from __future__ import annotations

import base64
import functools
import hmac
import json
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from onboarding.domain.peppol import (
    BUSINESS_CARD_NAMESPACE,
    DOCUMENT_TYPE_SCHEME,
    IDENTIFIERS_NAMESPACE,
    PARTICIPANT_SCHEME,
    SML_ZONE_TEST,
    SMP_NAMESPACE,
    URL_SEPARATOR,
    migration_key_problem,
    new_migration_key,
    participant_value,
    percent_encode,
    sml_lookup_name,
)

if TYPE_CHECKING:
    import xmlschema

SCHEMA_DIR = Path(__file__).parent / "schemas" / "peppol"
ELSEWHERE_SMP_URL = "https://smp.elsewhere.example"
ELSEWHERE_MARKER = "elsewhere"
REGISTERED_ELSEWHERE = frozenset({"0106:69599076"})
SANDBOX_USERNAME = "sandbox"
SANDBOX_PASSWORD = "sandbox-password"
SANDBOX_TOKEN = "sandbox-token"


# --- schemas --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeppolSchemas:
    smp: xmlschema.XMLSchema
    business_card: xmlschema.XMLSchema

    def problem(self, root: ET.Element) -> str | None:
        """The first schema error of a parsed body (SMP or business card), or None."""
        schema = self.business_card if root.tag.startswith("{" + BUSINESS_CARD_NAMESPACE) else self.smp
        error = next(iter(schema.iter_errors(root)), None)
        if error is None:
            return None
        where = f" at {error.path}" if error.path else ""
        return f"{error.reason or error.message}{where}"[:300]


@functools.cache
def peppol_schemas() -> PeppolSchemas:
    """The vendored XSDs, compiled once per process (compiling takes a few hundred ms).
    The SMP schema imports its dependencies without a location: they are mapped here, and
    nothing remote is ever fetched."""
    import xmlschema

    smp = xmlschema.XMLSchema(
        str(SCHEMA_DIR / "peppol-smp-types-v1-ext.xsd"),
        locations={
            IDENTIFIERS_NAMESPACE: "peppol-identifiers-v1.xsd",
            "http://www.w3.org/2005/08/addressing": "ws-addr.xsd",
            "http://www.w3.org/2000/09/xmldsig#": "xmldsig-core-schema.xsd",
        },
        use_fallback=False,
        allow="local",
    )
    card = xmlschema.XMLSchema(str(SCHEMA_DIR / "peppol-directory-business-card-20180621.xsd"), allow="local")
    return PeppolSchemas(smp=smp, business_card=card)


# --- the SML: who serves which participant ----------------------------------------------------


class SmlFault(Exception):
    """What BDMSL answers with a BadRequestFault; the text is the fault message."""


def _key(participant_id: str) -> str:
    return participant_value(participant_id).lower()


class SandboxSml:
    """The SML as the sandboxes see it: participant -> SMP base URL, prepared migration keys,
    and a DNS server publishing that mapping as U-NAPTR records. Several ``SmpSandbox``
    instances can share one, which is how a migration between two SMPs is tried out."""

    def __init__(
        self,
        zone: str = SML_ZONE_TEST,
        *,
        registered_elsewhere: Iterable[str] = REGISTERED_ELSEWHERE,
        elsewhere_url: str = ELSEWHERE_SMP_URL,
    ) -> None:
        self.zone = zone.rstrip(".").lower()
        self.elsewhere_url = elsewhere_url
        self._initial = tuple(registered_elsewhere)
        self._lock = threading.Lock()
        self._owners: dict[str, str] = {}
        self._prepared: dict[str, str] = {}
        self.servfail: set[str] = set()  # participants whose DNS answer is SERVFAIL
        self.dns: SmlDnsServer | None = None
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._owners = {_key(p): self.elsewhere_url for p in self._initial}
            self._prepared = {}
            self.servfail = set()

    def owner(self, participant_id: str) -> str | None:
        with self._lock:
            return self._owners.get(_key(participant_id))

    def owners(self) -> dict[str, str]:
        with self._lock:
            return dict(self._owners)

    def register_elsewhere(self, participant_id: str, smp_url: str | None = None) -> None:
        with self._lock:
            self._owners[_key(participant_id)] = smp_url or self.elsewhere_url

    def create(self, participant_id: str, smp_url: str) -> None:
        key = _key(participant_id)
        with self._lock:
            owner = self._owners.get(key)
            if owner is None and ELSEWHERE_MARKER in key:
                owner = self._owners[key] = self.elsewhere_url  # it was in the SML all along
            if owner is not None and owner != smp_url:
                value = participant_value(participant_id)
                raise SmlFault(
                    f"[ERR-106] The participant identifier [{value}] with scheme: [{PARTICIPANT_SCHEME}] "
                    f"already exist with naptr service [Meta:SMP] on subdomain: [{self.zone}]"
                )
            self._owners[key] = smp_url

    def delete(self, participant_id: str, smp_url: str) -> None:
        key = _key(participant_id)
        with self._lock:
            if self._owners.get(key) == smp_url:
                del self._owners[key]
                self._prepared.pop(key, None)

    def prepare_to_migrate(self, participant_id: str, smp_url: str, migration_key: str) -> None:
        key = _key(participant_id)
        with self._lock:
            if self._owners.get(key) != smp_url:
                raise SmlFault(f"[sandbox] participant [{key}] is not registered for this SMP")
            self._prepared[key] = migration_key

    def prepare_elsewhere(self, participant_id: str, migration_key: str | None = None) -> str:
        """Another SMP holds the participant and hands out a key for it."""
        key = _key(participant_id)
        chosen = migration_key or new_migration_key()
        with self._lock:
            self._owners.setdefault(key, self.elsewhere_url)
            self._prepared[key] = chosen
        return chosen

    def migrate(self, participant_id: str, migration_key: str, smp_url: str) -> None:
        key = _key(participant_id)
        with self._lock:
            problem = migration_key_problem(migration_key)
            if problem is not None:
                raise SmlFault(f"[sandbox] {problem}")
            if self._prepared.get(key) != migration_key:
                raise SmlFault(f"[sandbox] no migration with this key was prepared for participant [{key}]")
            del self._prepared[key]
            self._owners[key] = smp_url

    def naptr_target(self, name: str) -> str | None:
        """The SMP URL for a queried U-NAPTR name, or None (NXDOMAIN)."""
        name = name.rstrip(".").lower()
        with self._lock:
            for key, url in self._owners.items():
                if sml_lookup_name(key, self.zone) == name:
                    return url
        return None

    def is_servfail(self, name: str) -> bool:
        name = name.rstrip(".").lower()
        with self._lock:
            return any(sml_lookup_name(p, self.zone) == name for p in self.servfail)

    def start_dns(self, host: str = "127.0.0.1", port: int = 0) -> SmlDnsServer:
        if self.dns is None:
            self.dns = SmlDnsServer(
                self.naptr_target, servfail=self.is_servfail, host=host, port=port
            ).start()
        return self.dns

    def stop_dns(self) -> None:
        if self.dns is not None:
            self.dns.stop()
            self.dns = None


class SmlDnsServer:
    """UDP DNS on 127.0.0.1 (random port) built from dnspython's message API: NAPTR
    ``100 10 "U" "Meta:SMP" "!.*!<smp url>!" .`` for known names, NXDOMAIN otherwise,
    SERVFAIL where asked to. Enough for the real resolver path of ``DnsSmlLookup``."""

    def __init__(
        self,
        answer: Callable[[str], str | None],
        *,
        servfail: Callable[[str], bool] = lambda name: False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._answer = answer
        self._servfail = servfail
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind((host, port))
        self._socket.settimeout(0.05)
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="sml-dns")

    def start(self) -> SmlDnsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=2)
        self._socket.close()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                data, client = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self.reply(data)
            if reply is not None:
                self._socket.sendto(reply, client)

    def reply(self, data: bytes) -> bytes | None:
        import dns.exception
        import dns.flags
        import dns.message
        import dns.rcode
        import dns.rdataclass
        import dns.rdatatype
        import dns.rrset

        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return None  # not DNS: stay silent, as a server does
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True)
        if self._servfail(name):
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        url = self._answer(name)
        if url is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.NAPTR:
            record = f'100 10 "U" "Meta:SMP" "!.*!{url}!" .'
            response.answer.append(
                dns.rrset.from_text(question.name, 60, dns.rdataclass.IN, dns.rdatatype.NAPTR, record)
            )
        return response.to_wire()


# --- the SMP ----------------------------------------------------------------------------------


@dataclass
class _Faults:
    fail_next: int = 0
    status: int = 503
    timeout_next: int = 0
    hang: float = 2.0
    delay: float = 0.0


@dataclass
class _Migration:
    participant_id: str
    direction: str  # outbound | inbound
    state: str  # in_progress | cancelled | migrated
    migration_key: str = field(repr=False)


@dataclass
class _Participant:
    service_group_id: str
    service_metadata: dict[str, bytes] = field(default_factory=dict)  # doc url id -> body
    business_card: bytes | None = None


Reply = tuple[int, bytes, str]


def _text(status: int, message: str) -> Reply:
    return status, message.encode("utf-8"), "text/plain; charset=utf-8"


def _bad_request(message: str) -> Reply:
    return _text(400, f"Bad request: {message}")


def _not_found(message: str) -> Reply:
    return _text(404, f"Not found: {message}")


_OK: Reply = (200, b"", "text/plain")


def _xml_reply(root: ET.Element) -> Reply:
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return 200, data, "application/xml"


class _Refusal(Exception):
    """An error answer, raised from deep inside a handler."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply[0])
        self.reply = reply


@dataclass(frozen=True)
class _Call:
    method: str
    segments: list[str]
    query: dict[str, list[str]]
    body: bytes
    auth: str | None

    def flag(self, name: str) -> bool:
        """phoss's ``create-in-sml`` / ``delete-in-sml``: true unless literally ``false``."""
        return (self.query.get(name) or [""])[0].lower() != "false"


class SmpSandbox:
    """The local SMP on its own port: ``start()``, ``stop()``, ``url``, ``environment()``.

    Without ``sml`` it brings its own SML and DNS server (started and stopped with it); pass
    another sandbox's ``sml`` to let two SMPs share one SML.
    """

    def __init__(
        self,
        *,
        username: str = SANDBOX_USERNAME,
        password: str = SANDBOX_PASSWORD,
        token: str | None = SANDBOX_TOKEN,
        sml: SandboxSml | None = None,
        registered_elsewhere: Iterable[str] = REGISTERED_ELSEWHERE,
        zone: str = SML_ZONE_TEST,
        delay: float = 0.0,
        sml_error_details: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._username, self._password, self._token = username, password, token
        self._owns_sml = sml is None
        self.sml = sml or SandboxSml(zone, registered_elsewhere=registered_elsewhere)
        self.sml_error_details = sml_error_details
        self._lock = threading.RLock()
        self._participants: dict[str, _Participant] = {}
        self._migrations: list[_Migration] = []
        self._requests: list[dict[str, str]] = []
        self._faults = _Faults(delay=delay)
        self._server = _SmpServer((host, port), _SmpHandler, self)
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="smp-sandbox"
        )

    # --- lifecycle ---

    def start(self) -> SmpSandbox:
        peppol_schemas()  # compile before the first request, not during it
        if self._owns_sml:
            self.sml.start_dns()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._owns_sml:
            self.sml.stop_dns()

    @property
    def dns_port(self) -> int:
        if self.sml.dns is None:
            raise RuntimeError("the SML's DNS server is not running")
        return self.sml.dns.port

    def environment(self) -> dict[str, str]:
        """The settings (``onboarding.settings``) that point the Peppol functions at this
        sandbox and its SML's DNS server."""
        env = {
            "SMP_BASE_URL": self.url,
            "SMP_USERNAME": self._username,
            "SMP_PASSWORD": self._password,
            "SML_ZONE": self.sml.zone,
        }
        if self.sml.dns is not None:
            env |= {"SML_NAMESERVERS": self.sml.dns.host, "SML_PORT": str(self.sml.dns.port)}
        return env

    # --- test controls ---

    def faults(self, **changes: Any) -> None:
        """``fail_next``/``status``, ``timeout_next``/``hang``, ``delay`` (see the module doc)."""
        with self._lock:
            for name, value in changes.items():
                if name not in _Faults.__dataclass_fields__:
                    raise ValueError(f"unknown fault setting {name!r}")
                setattr(self._faults, name, type(getattr(self._faults, name))(value))

    def reset(self) -> None:
        with self._lock:
            self._participants.clear()
            self._migrations.clear()
            self._requests.clear()
            self._faults = _Faults()
        if self._owns_sml:
            self.sml.reset()

    def register_elsewhere(self, participant_id: str, smp_url: str | None = None) -> None:
        self.sml.register_elsewhere(participant_id, smp_url)

    def state(self) -> dict[str, Any]:
        """A JSON-able snapshot: what is registered here, migrations, the SML, recent requests."""
        with self._lock:
            return {
                "service_groups": sorted(p.service_group_id for p in self._participants.values()),
                "service_metadata": {
                    p.service_group_id: sorted(p.service_metadata) for p in self._participants.values()
                },
                "business_cards": sorted(
                    p.service_group_id for p in self._participants.values() if p.business_card is not None
                ),
                "migrations": [
                    {
                        "participant_id": m.participant_id,
                        "direction": m.direction,
                        "state": m.state,
                        "migration_key": m.migration_key,
                    }
                    for m in self._migrations
                ],
                "sml": self.sml.owners(),
                "faults": vars(self._faults).copy(),
                "requests": list(self._requests),
            }

    # --- request handling (called by the handler thread) ---

    def before_call(self, method: str, raw_path: str) -> tuple[str, float] | None:
        """Record the call and apply the faults: None to answer normally, ``("fail", status)``
        or ``("hang", seconds)``."""
        with self._lock:
            self._requests = [*self._requests[-49:], {"method": method, "path": raw_path}]
            faults = self._faults
            delay = faults.delay
            outcome: tuple[str, float] | None = None
            if faults.timeout_next > 0:
                faults.timeout_next -= 1
                outcome = ("hang", faults.hang)
            elif faults.fail_next > 0:
                faults.fail_next -= 1
                outcome = ("fail", faults.status)
        if delay > 0:
            time.sleep(delay)
        return outcome

    def route(
        self, method: str, segments: list[str], query: dict[str, list[str]], body: bytes, auth: str | None
    ) -> Reply:
        """Answer one SMP API call; the handlers raise ``_Refusal`` for every error answer."""
        call = _Call(method, segments, query, body, auth)
        try:
            return self._dispatch(call)
        except _Refusal as refusal:
            return refusal.reply

    def _dispatch(self, call: _Call) -> Reply:
        segments, method = call.segments, call.method
        if segments[:1] == ["businesscard"] and len(segments) == 2:
            return self._business_card(call, segments[1])
        if segments[:1] == ["migration"] and len(segments) == 4 and method == "PUT":
            if segments[1] == "outbound":
                return self._outbound(call, segments[2], segments[3])
            if segments[1] == "inbound":
                return self._inbound(call, segments[2], segments[3])
        if len(segments) == 1 and segments[0]:
            return self._service_group(call, segments[0])
        if len(segments) == 3 and segments[1] == "services":
            return self._service_metadata(call, segments[0], segments[2])
        if len(segments) == 2 and segments[1] == "services" and method == "DELETE":
            return self._delete_all_metadata(call, segments[0])
        raise _Refusal(_text(404, "Not found"))

    # --- checks shared by the handlers ---

    def _authenticate(self, header: str | None) -> None:
        """phoss-smp's rules: a missing or malformed header and wrong credentials are all 403."""
        if not header:
            raise _Refusal(_text(403, "Missing required HTTP header 'Authorization' for user authentication"))
        scheme, _, value = header.strip().partition(" ")
        value = value.strip()
        if scheme == "Bearer" and value:
            if self._token is None or not hmac.compare_digest(value.encode(), self._token.encode()):
                raise _Refusal(_text(403, "Unknown Bearer token"))
            return
        if scheme.lower() != "basic" or not value:
            raise _Refusal(
                _text(
                    403,
                    "The HTTP header 'Authorization' is malformed. "
                    "Contains neither a Bearer Token nor Basic Auth",
                )
            )
        try:
            username, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError) as exc:
            raise _Refusal(_text(403, "The HTTP header 'Authorization' is malformed.")) from exc
        good_user = hmac.compare_digest(username.encode(), self._username.encode())
        good_password = hmac.compare_digest(password.encode(), self._password.encode())
        if not (good_user and good_password):
            raise _Refusal(_text(403, "Username and/or password are invalid!"))

    def _write(self, call: _Call, service_group: str) -> str:
        """Authenticate a write and parse its service group id; the participant id back."""
        if call.method not in ("PUT", "DELETE"):
            raise _Refusal(_text(405, "Method not allowed"))
        self._authenticate(call.auth)
        return self._participant_of(service_group)

    @staticmethod
    def _participant_of(service_group: str) -> str:
        """``0106:123`` from ``iso6523-actorid-upis::0106:123``."""
        scheme, separator, value = service_group.partition(URL_SEPARATOR)
        try:
            if not separator or scheme.lower() != PARTICIPANT_SCHEME:
                raise ValueError(service_group)
            return participant_value(value)
        except ValueError as exc:
            raise _Refusal(_bad_request(f"Failed to parse Service Group ID '{service_group}'")) from exc

    @staticmethod
    def _parse(body: bytes, expected: str) -> ET.Element:
        """The body as XML, of the expected root element, valid against the official XSDs."""
        try:
            root = ET.fromstring(body)  # noqa: S314 - a local test double; expat >= 2.4 caps entity expansion
        except ET.ParseError as exc:
            raise _Refusal(_bad_request("Failed to parse provided payload as XML")) from exc
        if root.tag != expected:
            raise _Refusal(_bad_request(f"expected a {expected.rsplit('}', 1)[-1]} document"))
        problem = peppol_schemas().problem(root)
        if problem is not None:
            raise _Refusal(_bad_request(f"XML Schema validation failed: {problem}"))
        return root

    @staticmethod
    def _identifier(root: ET.Element, path: str) -> str:
        """``scheme::value`` of the identifier element at ``path`` (empty parts if absent)."""
        found = root.find(path)
        scheme, value = ("", "") if found is None else (found.get("scheme", ""), (found.text or "").strip())
        return f"{scheme}{URL_SEPARATOR}{value}"

    def _existing(self, participant: str, service_group: str) -> _Participant:
        found = self._participants.get(participant.lower())
        if found is None:
            raise _Refusal(_not_found(f"Service Group '{service_group}' is not registered on this SMP"))
        return found

    def _sml_refusal(self, message: str, fault: SmlFault, service_group: str) -> _Refusal:
        text = message
        if self.sml_error_details:  # what phoss shows in debug mode: the cause chain
            text += (
                f"\nCaused by: RegistrationHookException - Could not create business {service_group} in SML"
                f" - {fault}\nCaused by: BadRequestFault - {fault}"
            )
        return _Refusal(_text(500, text))

    # --- service groups ---

    def _service_group(self, call: _Call, service_group: str) -> Reply:
        if call.method == "GET":
            return self._get_service_group(service_group)
        participant = self._write(call, service_group)
        sg_id = f"{PARTICIPANT_SCHEME}{URL_SEPARATOR}{participant}"
        if call.method == "DELETE":
            with self._lock:
                self._existing(participant, service_group)
                del self._participants[participant.lower()]
            if call.flag("delete-in-sml"):
                self.sml.delete(participant, self.url)
            return _OK
        root = self._parse(call.body, f"{{{SMP_NAMESPACE}}}ServiceGroup")
        found = self._identifier(root, f"{{{IDENTIFIERS_NAMESPACE}}}ParticipantIdentifier")
        if found.lower() != sg_id.lower():
            raise _Refusal(
                _bad_request(
                    f"Service Group Inconsistency. The URL points to '{sg_id}' "
                    f"whereas the Service Group contains '{found}'"
                )
            )
        with self._lock:
            if participant.lower() in self._participants:
                return _OK  # phoss updates an existing group (extension, owner) without an SML call
            if call.flag("create-in-sml"):
                try:
                    self.sml.create(participant, self.url)
                except SmlFault as fault:
                    raise self._sml_refusal(f"Failed to create '{sg_id}' in SML", fault, sg_id) from fault
            self._participants[participant.lower()] = _Participant(service_group_id=sg_id)
        return _OK

    def _get_service_group(self, service_group: str) -> Reply:
        participant = self._participant_of(service_group)
        with self._lock:
            found = self._existing(participant, service_group)
            documents = sorted(found.service_metadata)
        root = ET.Element("smp:ServiceGroup", {"xmlns:smp": SMP_NAMESPACE, "xmlns:id": IDENTIFIERS_NAMESPACE})
        ET.SubElement(root, "id:ParticipantIdentifier", {"scheme": PARTICIPANT_SCHEME}).text = participant
        references = ET.SubElement(root, "smp:ServiceMetadataReferenceCollection")
        for document in documents:
            href = f"{self.url}/{percent_encode(found.service_group_id)}/services/{percent_encode(document)}"
            ET.SubElement(references, "smp:ServiceMetadataReference", {"href": href})
        return _xml_reply(root)

    # --- service metadata ---

    def _service_metadata(self, call: _Call, service_group: str, document: str) -> Reply:
        if call.method == "GET":
            with self._lock:
                stored = self._existing(self._participant_of(service_group), service_group).service_metadata
                if document not in stored:
                    raise _Refusal(_not_found(f"Service Information for '{service_group}' and '{document}'"))
                return 200, stored[document], "application/xml"  # unsigned, unlike a real SMP's answer
        participant = self._write(call, service_group)
        scheme, separator, _ = document.partition(URL_SEPARATOR)
        if not separator or scheme != DOCUMENT_TYPE_SCHEME:
            raise _Refusal(_bad_request(f"Failed to parse Document Type ID '{document}'"))
        if call.method == "DELETE":
            with self._lock:
                if self._existing(participant, service_group).service_metadata.pop(document, None) is None:
                    raise _Refusal(_not_found(f"Service Information for '{service_group}' and '{document}'"))
            return _OK
        root = self._parse(call.body, f"{{{SMP_NAMESPACE}}}ServiceMetadata")
        information = root.find(f"{{{SMP_NAMESPACE}}}ServiceInformation")
        if information is None:
            raise _Refusal(_bad_request("the sandbox takes ServiceInformation only, no Redirect"))
        found_participant = self._identifier(information, f"{{{IDENTIFIERS_NAMESPACE}}}ParticipantIdentifier")
        found_document = self._identifier(information, f"{{{IDENTIFIERS_NAMESPACE}}}DocumentIdentifier")
        if found_participant.lower() != f"{PARTICIPANT_SCHEME}{URL_SEPARATOR}{participant}".lower():
            raise _Refusal(
                _bad_request("Save Service Metadata was called with inconsistent values (participant)")
            )
        if found_document != document:  # document type ids are case-sensitive
            raise _Refusal(
                _bad_request("Save Service Metadata was called with inconsistent values (document type)")
            )
        with self._lock:
            self._existing(participant, service_group).service_metadata[document] = call.body
        return _OK

    def _delete_all_metadata(self, call: _Call, service_group: str) -> Reply:
        participant = self._write(call, service_group)
        with self._lock:
            self._existing(participant, service_group).service_metadata.clear()
        return _OK

    # --- business cards ---

    def _business_card(self, call: _Call, service_group: str) -> Reply:
        if call.method == "GET":
            with self._lock:
                card = self._existing(self._participant_of(service_group), service_group).business_card
            if card is None:
                raise _Refusal(_not_found(f"No Business Card assigned to Service Group '{service_group}'"))
            return 200, card, "application/xml"
        participant = self._write(call, service_group)
        if call.method == "DELETE":
            with self._lock:
                found = self._existing(participant, service_group)
                if found.business_card is None:
                    raise _Refusal(
                        _not_found(f"No Business Card assigned to Service Group '{service_group}'")
                    )
                found.business_card = None
            return _OK
        root = self._parse(call.body, f"{{{BUSINESS_CARD_NAMESPACE}}}BusinessCard")
        found_participant = self._identifier(root, f"{{{BUSINESS_CARD_NAMESPACE}}}ParticipantIdentifier")
        sg_id = f"{PARTICIPANT_SCHEME}{URL_SEPARATOR}{participant}"
        if found_participant.lower() != sg_id.lower():
            raise _Refusal(
                _bad_request(
                    f"Participant Inconsistency. The URL points to '{sg_id}' "
                    f"whereas the BusinessCard contains '{found_participant}'"
                )
            )
        with self._lock:
            self._existing(participant, service_group).business_card = call.body
        return _OK

    # --- migration ---

    def _open_outbound(self, participant: str) -> _Migration | None:
        return next(
            (
                m
                for m in self._migrations
                if m.participant_id.lower() == participant.lower()
                and m.direction == "outbound"
                and m.state == "in_progress"
            ),
            None,
        )

    def _outbound(self, call: _Call, action: str, service_group: str) -> Reply:
        participant = self._write(call, service_group)
        if action == "start":
            return self._start_outbound(participant, service_group)
        if action not in ("cancel", "finalize"):
            raise _Refusal(_text(404, "Not found"))
        with self._lock:
            migration = self._open_outbound(participant)
            if migration is None:
                raise _Refusal(
                    _bad_request(
                        "Failed to resolve outbound Participant Migration "
                        f"for Service Group ID '{service_group}'"
                    )
                )
            migration.state = "cancelled" if action == "cancel" else "migrated"
            if action == "finalize":
                self._participants.pop(participant.lower(), None)  # here only: the SML is the new SMP's now
        return _OK

    def _start_outbound(self, participant: str, service_group: str) -> Reply:
        with self._lock:
            if participant.lower() not in self._participants:
                raise _Refusal(_bad_request(f"The Service Group '{service_group}' does not exist"))
            if self._open_outbound(participant) is not None:
                raise _Refusal(
                    _bad_request(
                        f"The outbound Participant Migration of the Service Group '{service_group}' "
                        "is already in progress"
                    )
                )
            migration_key = new_migration_key()
            try:
                self.sml.prepare_to_migrate(participant, self.url, migration_key)
            except SmlFault as fault:
                message = f"Failed to call prepareToMigrate on SML for Service Group '{service_group}'"
                raise self._sml_refusal(message, fault, service_group) from fault
            self._migrations.append(_Migration(participant, "outbound", "in_progress", migration_key))
        root = ET.Element("migrationOutboundResponse", {"success": "true"})
        ET.SubElement(root, "participantID").text = service_group
        ET.SubElement(root, "migrationKey").text = migration_key
        return _xml_reply(root)

    def _inbound(self, call: _Call, service_group: str, migration_key: str) -> Reply:
        participant = self._write(call, service_group)
        sg_id = f"{PARTICIPANT_SCHEME}{URL_SEPARATOR}{participant}"
        with self._lock:
            if participant.lower() in self._participants:
                raise _Refusal(_bad_request(f"The Service Group '{service_group}' already exists."))
            try:
                self.sml.migrate(participant, migration_key, self.url)
            except SmlFault as fault:
                message = (
                    f"Failed to confirm the migration for participant '{sg_id}' in SML, hence the migration "
                    "failed. Please check the participant identifier and the migration key."
                )
                raise self._sml_refusal(message, fault, service_group) from fault
            self._participants[participant.lower()] = _Participant(service_group_id=sg_id)
            self._migrations.append(_Migration(participant, "inbound", "migrated", migration_key))
        outcome = {"success": "true", "serviceGroupCreated": "true", "migrationCreated": "true"}
        return _xml_reply(ET.Element("migrationInboundResponse", outcome))

    # --- control endpoints ---

    def control(self, method: str, name: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """``/_sandbox/*``: see the module doc."""
        try:
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                raise TypeError("the body is not a JSON object")
            action = self._controls.get((method, name))
            if action is None:
                return 404, {"error": "unknown sandbox control"}
            return 200, action(self, data)
        except (KeyError, TypeError, ValueError) as exc:
            return 400, {"error": f"{type(exc).__name__}: {exc}"}

    def _control_faults(self, data: dict[str, Any]) -> dict[str, Any]:
        self.faults(**data)
        return dict(self.state()["faults"])

    def _control_reset(self, data: dict[str, Any]) -> dict[str, Any]:
        self.reset()
        return {}

    def _control_elsewhere(self, data: dict[str, Any]) -> dict[str, Any]:
        self.register_elsewhere(str(data["participant_id"]), data.get("smp_url"))
        return {"sml": self.sml.owners()}

    def _control_prepare_migration(self, data: dict[str, Any]) -> dict[str, Any]:
        participant = str(data["participant_id"])
        key = self.sml.prepare_elsewhere(participant, data.get("migration_key"))
        return {"participant_id": participant_value(participant), "migration_key": key}

    _controls: dict[tuple[str, str], Callable[[SmpSandbox, dict[str, Any]], dict[str, Any]]] = {
        ("GET", "state"): lambda sandbox, data: sandbox.state(),
        ("POST", "faults"): _control_faults,
        ("POST", "reset"): _control_reset,
        ("POST", "elsewhere"): _control_elsewhere,
        ("POST", "prepare-migration"): _control_prepare_migration,
    }


class _SmpServer(ThreadingHTTPServer):
    # A thread per connection; the listen backlog holds more than a worker's batch of
    # connections opened at once (the default, 5, would leave some waiting for a SYN retry).
    request_queue_size = 64

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], sandbox: SmpSandbox
    ) -> None:
        super().__init__(address, handler)
        self.sandbox = sandbox


class _SmpHandler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def _handle(self, method: str) -> None:
        assert isinstance(self.server, _SmpServer)
        sandbox = self.server.sandbox
        split = urlsplit(self.path)
        # Split the raw path first: a percent-encoded id may contain anything but "/".
        segments = [unquote(s) for s in split.path.strip("/").split("/")]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if segments[0] == "_sandbox":
            status, data = sandbox.control(method, "/".join(segments[1:]), body)
            self._send(status, json.dumps(data).encode(), "application/json")
            return
        outcome = sandbox.before_call(method, split.path)
        if outcome is not None and outcome[0] == "hang":
            time.sleep(outcome[1])  # the client times out first; then the connection is dropped
            self.close_connection = True
            return
        if outcome is not None:
            status = int(outcome[1])
            self._send(*_text(status, f"Sandbox fault: HTTP {status}"))
            return
        self._send(
            *sandbox.route(method, segments, parse_qs(split.query), body, self.headers.get("Authorization"))
        )

    def _send(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_POST(self) -> None:
        self._handle("POST")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def own_process(**faults: Any) -> Iterator[dict[str, str]]:
    """An SMP sandbox (with its SML and DNS server) in a process of its own, as a real SMP is
    not in the caller's process either; its settings (``SmpSandbox.environment``) are yielded.
    Control it over HTTP (``/_sandbox/...``)."""
    import subprocess
    import sys

    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "infra.local.smp_sandbox", json.dumps(faults)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":  # python -m infra.local.smp_sandbox ['{"delay": 0.1}']: serve until terminated
    import sys

    sandbox = SmpSandbox().start()
    sandbox.faults(**json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}"))
    print(json.dumps(sandbox.environment()), flush=True)
    while True:
        time.sleep(3600)
