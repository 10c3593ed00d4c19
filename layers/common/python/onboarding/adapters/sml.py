"""Which SMP the SML points senders at for a participant: a U-NAPTR lookup in DNS.

The registration worker asks this before (and after) writing to its own SMP: a participant
can be served by only one SMP, and when another one holds it, the way forward is a
migration key from that provider, not a retry. Only the SML's DNS is asked, never its SOAP
API: reading needs no certificate and is exactly what every sender does.

"Not registered" (NXDOMAIN, no NAPTR record) and "could not find out" (timeout, SERVFAIL,
no nameserver) are different answers: the first lets the registration go ahead, the second
must be retried.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from onboarding.domain.errors import SmlLookupFailed
from onboarding.domain.peppol import same_smp, sml_lookup_name, smp_elsewhere
from onboarding.domain.ports import SmlLookup

if TYPE_CHECKING:
    import dns.resolver

SMP_SERVICE = "meta:smp"  # U-NAPTR service of an SMP record (compared case-insensitively)
__all__ = ["DnsSmlLookup", "NaptrRecord", "SmlLookup", "SmlLookupFailed", "same_smp", "smp_elsewhere"]


@dataclass(frozen=True)
class NaptrRecord:
    order: int
    preference: int
    flags: str
    service: str
    regexp: str


def smp_url_from_naptr(records: Iterable[NaptrRecord], lookup_name: str) -> str | None:
    """The SMP URL the best ``U`` / ``Meta:SMP`` record rewrites the lookup name to.

    The regexp field is ``<delim>pattern<delim>replacement<delim>flags`` (RFC 3402); for
    U-NAPTR it is in practice ``!.*!https://smp.example!``, whose result is the replacement.
    """
    usable = sorted(
        (r for r in records if r.flags.lower() == "u" and r.service.lower() == SMP_SERVICE),
        key=lambda r: (r.order, r.preference),
    )
    if not usable:
        return None
    regexp = usable[0].regexp
    if len(regexp) < 4:
        raise SmlLookupFailed("unusable NAPTR regexp")
    delimiter = regexp[0]
    parts = regexp[1:].split(delimiter)
    if len(parts) != 3:
        raise SmlLookupFailed("unusable NAPTR regexp")
    pattern, replacement, flags = parts
    try:
        compiled = re.compile(pattern, re.IGNORECASE if "i" in flags else 0)
        url = compiled.sub(_python_backreferences(replacement), lookup_name, count=1)
    except re.error as exc:
        raise SmlLookupFailed("unusable NAPTR regexp") from exc
    if not url.lower().startswith(("https://", "http://")):
        raise SmlLookupFailed("NAPTR record gives no http(s) URL")
    return url.rstrip("/")


def _python_backreferences(replacement: str) -> str:
    """RFC 3402 writes back-references as ``\\1``; Python's ``re.sub`` agrees, but a literal
    backslash before anything else must be kept literal."""
    return re.sub(r"\\(?![1-9])", r"\\\\", replacement)


class DnsSmlLookup:
    """``SmlLookup`` with dnspython (imported on first use).

    ``zone`` is the SML's participant zone (``onboarding.domain.peppol.SML_ZONE_TEST`` /
    ``SML_ZONE_PRODUCTION``). Without ``nameservers`` the system resolver configuration is
    used; with them (and ``port``), exactly those servers are asked, e.g. a local sandbox.
    """

    def __init__(
        self,
        zone: str,
        *,
        nameservers: Sequence[str] | None = None,
        port: int = 53,
        timeout: float = 2.0,
        lifetime: float = 4.0,
    ) -> None:
        self.zone = zone
        self._nameservers = list(nameservers) if nameservers else None
        self._port = port
        self._timeout = timeout
        self._lifetime = lifetime
        self._resolver: dns.resolver.Resolver | None = None

    def _get_resolver(self) -> dns.resolver.Resolver:
        import dns.resolver

        if self._resolver is None:
            resolver = dns.resolver.Resolver(configure=self._nameservers is None)
            if self._nameservers is not None:
                resolver.nameservers = self._nameservers
            resolver.port = self._port
            resolver.timeout = self._timeout
            resolver.lifetime = self._lifetime
            resolver.cache = None  # a registration changes the answer; never serve a stale one
            self._resolver = resolver
        return self._resolver

    def lookup(self, participant_id: str) -> str | None:
        import dns.exception
        import dns.rdtypes.IN.NAPTR
        import dns.resolver

        name = sml_lookup_name(participant_id, self.zone)
        try:
            answer = self._get_resolver().resolve(name + ".", "NAPTR", search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        except dns.exception.Timeout as exc:
            raise SmlLookupFailed("DNS timeout") from exc
        except dns.resolver.NoNameservers as exc:
            raise SmlLookupFailed("no nameserver answered (SERVFAIL or refused)") from exc
        except dns.exception.DNSException as exc:
            raise SmlLookupFailed(f"DNS error: {type(exc).__name__}") from exc
        records = [
            NaptrRecord(
                order=rdata.order,
                preference=rdata.preference,
                flags=rdata.flags.decode("ascii", "replace"),
                service=rdata.service.decode("ascii", "replace"),
                regexp=rdata.regexp.decode("utf-8", "replace"),
            )
            for rdata in answer
            if isinstance(rdata, dns.rdtypes.IN.NAPTR.NAPTR)
        ]
        return smp_url_from_naptr(records, name)
