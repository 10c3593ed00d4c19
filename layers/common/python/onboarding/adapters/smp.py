"""The phoss-smp REST API (Peppol SMP 1.0 flavour): service groups, service metadata,
business cards and participant migration.

Writing a service group makes phoss-smp register the participant in the SML; deleting it
deregisters it. phoss answers every write with HTTP 200 and an empty body, and every
failure with a plain-text message (``smp.rest.payload.on.error=true``, the default):

- 400 ``Bad request: ...`` (unparsable id, id in URL and body differ, migration state),
- 403 for a missing, malformed or refused ``Authorization`` header and for a service group
  owned by another user (phoss never answers 401; a proxy in front of it might),
- 404 for an unknown service group / service metadata / business card,
- 412 when the writable API, the SML connection or the Directory integration is disabled,
- 500 ``Failed to create '<id>' in SML`` when the SML refused or could not be reached.
  Only in debug mode does the body carry the SML's reason, e.g. ``[ERR-106] The participant
  identifier [...] already exist ...`` for a participant another SMP holds.

The errors below sort these into *transient* (retry: ``SmpUnavailable`` and its
``SmlWriteFailed``), *permanent* (``SmpRejected``) and ``RegisteredElsewhere``. Messages
are short and never contain credentials or whole response bodies.

httpx is imported on the first call, like the KvK client: most invocations never talk to
the SMP.
"""

from __future__ import annotations

import base64
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from onboarding.domain.errors import (
    RegisteredElsewhere,
    SmlWriteFailed,
    SmpAuthRejected,
    SmpError,
    SmpRejected,
    SmpUnavailable,
)
from onboarding.domain.peppol import (
    AccessPointEndpoint,
    BusinessEntity,
    DocumentType,
    business_card_xml,
    participant_value,
    percent_encode,
    service_group_path,
    service_group_xml,
    service_metadata_xml,
)
from onboarding.domain.ports import InboundMigration, OutboundMigration

if TYPE_CHECKING:
    import httpx

_REASON_LIMIT = 160
# BDMSL's fault when the participant is in the SML for an SMP (phoss-smp issue #362):
# "[ERR-106] The participant identifier [0208:...] with scheme: [iso6523-actorid-upis]
#  already exist with naptr service [Meta:SMP] on subdomain: [...]"
_ALREADY_IN_SML = re.compile(r"participant identifier\b[^\n]*\balready exists?\b", re.I)
_SML_STEP = re.compile(r"\bin SML\b", re.I)


# --- errors --------------------------------------------------------------------------------
# They live with every other error of the platform (``onboarding.domain.errors``), so the
# worker's logic can tell them apart without importing this adapter; named here as well.
__all__ = [
    "BasicAuth",
    "BearerToken",
    "InboundMigration",
    "OutboundMigration",
    "RegisteredElsewhere",
    "SmlWriteFailed",
    "SmpAuthRejected",
    "SmpClient",
    "SmpError",
    "SmpRejected",
    "SmpUnavailable",
]


# --- results and credentials --------------------------------------------------------------


@dataclass(frozen=True)
class BasicAuth:
    username: str
    password: str = field(repr=False)

    def header(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class BearerToken:
    """A phoss-smp user token (Administration > Security > User Tokens, phoss >= 6.0.7)."""

    token: str = field(repr=False)

    def header(self) -> str:
        return f"Bearer {self.token}"


SmpAuth = BasicAuth | BearerToken


# --- the client ---------------------------------------------------------------------------


def _short(text: str) -> str:
    first = " ".join(text.strip().splitlines()[:1])
    return first if len(first) <= _REASON_LIMIT else first[: _REASON_LIMIT - 1] + "…"


class SmpClient:
    """One SMP, one ``httpx.Client`` (created on first use, reused for connection keep-alive
    across the calls of one registration).

    ``auth`` may be a callable so the secret is fetched when first needed, not at import.
    ``timeout`` bounds each read/write; ``connect_timeout`` the TCP/TLS connect.
    """

    def __init__(
        self,
        base_url: str,
        auth: SmpAuth | Callable[[], SmpAuth],
        *,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        client: Any | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._auth = auth
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._client: httpx.Client | None = client
        self._lock = threading.Lock()  # the worker calls one client from several threads

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> SmpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport ---

    def _http(self) -> httpx.Client:
        import httpx

        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
                    # One connection per concurrent job of a batch, kept alive between its calls.
                    limits=httpx.Limits(max_connections=20, max_keepalive_connections=20),
                )
            return self._client

    def _authorization(self) -> str:
        auth = self._auth() if callable(self._auth) else self._auth
        return auth.header()

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: dict[str, str] | None = None,
        write: bool = True,
    ) -> httpx.Response:
        import httpx

        headers = {"Accept": "application/xml, text/plain"}
        if write:
            headers["Authorization"] = self._authorization()
        if body is not None:
            headers["Content-Type"] = "application/xml; charset=utf-8"
        try:
            return self._http().request(
                method, f"{self.base_url}/{path}", content=body, params=params, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise SmpUnavailable(f"timeout ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise SmpUnavailable(f"connection failed ({type(exc).__name__})") from exc

    def _fail(self, response: httpx.Response, operation: str, participant_id: str) -> SmpError:
        """The error for a non-2xx answer (returned, so callers can ``raise`` it)."""
        status = response.status_code
        text = response.text if response.content else ""
        if _ALREADY_IN_SML.search(text):
            return RegisteredElsewhere(participant_value(participant_id))
        if status == 429:
            return SmpUnavailable(f"{operation}: throttled (HTTP 429)", status)
        if status >= 500:
            if _SML_STEP.search(text):
                return SmlWriteFailed(
                    f"{operation}: the SMP could not update the SML (HTTP {status})", operation
                )
            return SmpUnavailable(f"{operation}: HTTP {status}", status)
        if status in (401, 403):
            why = "not the owner of this participant" if "does not own" in text else "credentials refused"
            return SmpAuthRejected(f"{operation}: {why} (HTTP {status})", status)
        detail = _short(text.removeprefix("Bad request: ")) if text else response.reason_phrase
        return SmpRejected(f"{operation}: HTTP {status} {detail}".rstrip(), status)

    def _expect_ok(self, response: httpx.Response, operation: str, participant_id: str) -> None:
        if not response.is_success:
            raise self._fail(response, operation, participant_id)

    def _delete(self, path: str, operation: str, participant_id: str, **params: str) -> bool:
        """True if deleted, False if there was nothing to delete (404, or the 204 phoss gives
        with ``smp.rest.delete.notfound.as.ok``): deleting twice is fine."""
        response = self._call("DELETE", path, params=params or None)
        if response.status_code == 404:
            return False
        self._expect_ok(response, operation, participant_id)
        return response.status_code != 204

    # --- service groups ---

    def service_group(self, participant_id: str) -> list[str] | None:
        """The document type ids (``busdox-docid-qns::...``) the SMP publishes for the
        participant, or None when it has no service group for it. A public read."""
        response = self._call("GET", service_group_path(participant_id), write=False)
        if response.status_code == 404:
            return None
        self._expect_ok(response, "get service group", participant_id)
        try:
            root = ET.fromstring(response.content)  # noqa: S314 - our own SMP; expat >= 2.4 caps entity expansion
        except ET.ParseError as exc:
            raise SmpUnavailable("get service group: answer is not XML") from exc
        hrefs = [e.get("href", "") for e in root.iter() if e.tag.endswith("ServiceMetadataReference")]
        return [unquote(href.rstrip("/").rsplit("/", 1)[-1]) for href in hrefs if href]

    def has_service_group(self, participant_id: str) -> bool:
        return self.service_group(participant_id) is not None

    def put_service_group(self, participant_id: str, *, create_in_sml: bool = True) -> None:
        """Create or update the service group; creating registers the participant in the SML.
        A service group that already exists is updated, so repeating this is safe.
        ``create_in_sml=False`` only repairs a group the SML already points here for."""
        params = None if create_in_sml else {"create-in-sml": "false"}
        response = self._call(
            "PUT", service_group_path(participant_id), body=service_group_xml(participant_id), params=params
        )
        self._expect_ok(response, "put service group", participant_id)

    def delete_service_group(self, participant_id: str, *, delete_in_sml: bool = True) -> bool:
        """Delete the group with all its service metadata; deregisters it in the SML."""
        params = {} if delete_in_sml else {"delete-in-sml": "false"}
        return self._delete(
            service_group_path(participant_id), "delete service group", participant_id, **params
        )

    # --- service metadata ---

    def _services_path(self, participant_id: str, document: DocumentType) -> str:
        return f"{service_group_path(participant_id)}/services/{document.path}"

    def put_service_metadata(
        self, participant_id: str, document: DocumentType, endpoint: AccessPointEndpoint
    ) -> None:
        """Publish that the participant receives ``document`` at ``endpoint`` (replaces what
        was there, so repeating it is safe). Needs the service group (404 otherwise)."""
        response = self._call(
            "PUT",
            self._services_path(participant_id, document),
            body=service_metadata_xml(participant_id, document, endpoint),
        )
        self._expect_ok(response, "put service metadata", participant_id)

    def delete_service_metadata(self, participant_id: str, document: DocumentType) -> bool:
        return self._delete(
            self._services_path(participant_id, document), "delete service metadata", participant_id
        )

    # --- business cards ---

    def put_business_card(self, participant_id: str, entity: BusinessEntity) -> None:
        """Create or replace the business card; phoss pushes it to the Directory when its
        Directory integration is on (412 when it is off)."""
        response = self._call(
            "PUT",
            f"businesscard/{service_group_path(participant_id)}",
            body=business_card_xml(participant_id, entity),
        )
        self._expect_ok(response, "put business card", participant_id)

    def delete_business_card(self, participant_id: str) -> bool:
        return self._delete(
            f"businesscard/{service_group_path(participant_id)}", "delete business card", participant_id
        )

    # --- migration ---

    def start_outbound_migration(self, participant_id: str) -> OutboundMigration:
        """Let the participant move to another SMP: phoss asks the SML to prepare the move
        (``PrepareToMigrate``) with a key it generates, and returns that key. A move already
        started is cancelled first, so the new key replaces the old one at the SML."""
        path = f"migration/outbound/start/{service_group_path(participant_id)}"
        response = self._call("PUT", path)
        if response.status_code == 400 and "already in progress" in response.text:
            self.cancel_outbound_migration(participant_id)
            response = self._call("PUT", path)
        self._expect_ok(response, "start outbound migration", participant_id)
        try:
            root = ET.fromstring(response.content)  # noqa: S314 - our own SMP; expat >= 2.4 caps entity expansion
        except ET.ParseError as exc:
            raise SmpUnavailable("start outbound migration: answer is not XML") from exc
        key = (root.findtext("migrationKey") or "").strip()
        if root.tag != "migrationOutboundResponse" or not key:
            raise SmpUnavailable("start outbound migration: no migration key in the answer")
        # The answer is <migrationOutboundResponse success="true"><participantID/><migrationKey/>:
        # phoss reports no expiry, so none is invented here.
        return OutboundMigration(participant_id=participant_value(participant_id), migration_key=key)

    def _outbound(self, action: str, participant_id: str, benign: tuple[str, ...]) -> bool:
        response = self._call("PUT", f"migration/outbound/{action}/{service_group_path(participant_id)}")
        if response.status_code == 400 and any(text in response.text for text in benign):
            return False
        self._expect_ok(response, f"{action} outbound migration", participant_id)
        return True

    def cancel_outbound_migration(self, participant_id: str) -> bool:
        """Withdraw a started move. False when no migration was in progress. phoss does not
        tell the SML; the prepared key simply stays unused."""
        return self._outbound("cancel", participant_id, ("Failed to resolve",))

    def finalize_outbound_migration(self, participant_id: str) -> bool:
        """After the new SMP claimed the participant: mark the migration done and delete the
        service group here *without* touching the SML (it belongs to the new SMP now).
        False when there was nothing left to finalize."""
        return self._outbound("finalize", participant_id, ("Failed to resolve", "already finalized"))

    def migrate_inbound(self, participant_id: str, migration_key: str) -> InboundMigration:
        """Claim a participant with the key its current provider handed out: phoss calls the
        SML's ``Migrate`` and then creates the service group here (without an SML call)."""
        path = f"migration/inbound/{service_group_path(participant_id)}/{percent_encode(migration_key)}"
        response = self._call("PUT", path)
        if response.status_code == 400 and "already exists" in response.text:
            return InboundMigration(service_group_created=False, migration_recorded=False, already_here=True)
        self._expect_ok(response, "inbound migration", participant_id)
        try:
            root = ET.fromstring(response.content)  # noqa: S314 - our own SMP; expat >= 2.4 caps entity expansion
        except ET.ParseError as exc:
            raise SmpUnavailable("inbound migration: answer is not XML") from exc
        return InboundMigration(
            service_group_created=root.get("serviceGroupCreated") == "true",
            migration_recorded=root.get("migrationCreated") == "true",
        )
