"""The SML lookup's reading of DNS (``onboarding.adapters.sml``) over a fake resolver that
answers with dnspython's own NAPTR records and exceptions: which SMP a record names, and
"not registered" (no such name, or a name without a NAPTR record) apart from "could not find
out" (timeout, no nameserver)."""

from __future__ import annotations

from typing import Any

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import pytest

from onboarding.adapters.sml import DnsSmlLookup, NaptrRecord, SmlLookupFailed, smp_url_from_naptr
from onboarding.domain.peppol import SML_ZONE_TEST, sml_lookup_name

PARTICIPANT = "0106:68750110"


def _naptr(text: str) -> Any:
    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.NAPTR, text)


def _txt(text: str) -> Any:
    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, text)


class FakeResolver:
    """``resolve`` as the lookup calls it: an answer (its records) or an exception."""

    def __init__(self, answer: list[Any] | BaseException) -> None:
        self.answer = answer
        self.asked: list[tuple[str, str, bool]] = []

    def resolve(self, name: str, rdtype: str, *, search: bool) -> list[Any]:
        self.asked.append((name, rdtype, search))
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer


def _lookup(answer: list[Any] | BaseException) -> tuple[DnsSmlLookup, FakeResolver]:
    lookup = DnsSmlLookup(SML_ZONE_TEST, nameservers=["127.0.0.1"], port=5353)
    resolver = FakeResolver(answer)
    lookup._resolver = resolver  # type: ignore[assignment]
    return lookup, resolver


def test_a_meta_smp_record_names_the_smp_and_the_u_naptr_name_is_asked() -> None:
    lookup, resolver = _lookup([_naptr('100 10 "U" "Meta:SMP" "!.*!https://smp.example.com/!" .')])
    assert lookup.lookup(PARTICIPANT) == "https://smp.example.com"
    assert resolver.asked == [(sml_lookup_name(PARTICIPANT, SML_ZONE_TEST) + ".", "NAPTR", False)]


def test_the_lowest_order_then_preference_of_the_smp_records_wins() -> None:
    lookup, _ = _lookup(
        [
            _naptr('100 20 "U" "Meta:SMP" "!.*!https://second.example!" .'),
            _naptr('200 1 "U" "Meta:SMP" "!.*!https://third.example!" .'),
            _naptr('100 10 "u" "meta:smp" "!.*!https://first.example!" .'),  # case does not matter
            _naptr('1 1 "U" "E2U+sip" "!.*!https://not-an-smp.example!" .'),
        ]
    )
    assert lookup.lookup(PARTICIPANT) == "https://first.example"


@pytest.mark.parametrize(
    "answer",
    [
        dns.resolver.NXDOMAIN(),  # no such name
        dns.resolver.NoAnswer(),  # the name exists, but has no NAPTR record
        [_naptr('100 10 "S" "Meta:SMP" "" _smp._tcp.example.')],  # a NAPTR, not a U record
        [_naptr('100 10 "U" "E2U+sip" "!.*!https://sip.example!" .')],  # a U record of another service
        [_txt('"not a NAPTR record"')],
        [],
    ],
    ids=["nxdomain", "name-without-naptr", "not-a-u-record", "other-service", "other-rdtype", "empty"],
)
def test_no_smp_record_means_not_registered(answer: list[Any] | BaseException) -> None:
    lookup, _ = _lookup(answer)
    assert lookup.lookup(PARTICIPANT) is None


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (dns.exception.Timeout(), "DNS timeout"),
        (dns.resolver.NoNameservers(), "no nameserver answered"),
        (dns.resolver.YXDOMAIN(), "DNS error: YXDOMAIN"),
    ],
)
def test_a_dns_failure_is_not_an_answer(failure: BaseException, reason: str) -> None:
    lookup, _ = _lookup(failure)
    with pytest.raises(SmlLookupFailed) as raised:
        lookup.lookup(PARTICIPANT)
    assert reason in str(raised.value)


def _record(regexp: str) -> NaptrRecord:
    return NaptrRecord(order=100, preference=10, flags="U", service="Meta:SMP", regexp=regexp)


@pytest.mark.parametrize(
    ("regexp", "url"),
    [
        ("!.*!https://smp.example!", "https://smp.example"),
        ("#.*#https://smp.example/path/#", "https://smp.example/path"),  # another delimiter
        ("!^([a-z0-9-]+)\\..*$!https://\\1.smp.example!", "https://b-abc.smp.example"),  # a back-reference
        ("!^B-ABC.*$!https://smp.example!i", "https://smp.example"),  # the i flag
    ],
)
def test_the_regexp_rewrites_the_lookup_name(regexp: str, url: str) -> None:
    assert smp_url_from_naptr([_record(regexp)], "b-abc.iso6523-actorid-upis.example") == url


@pytest.mark.parametrize(
    "regexp",
    ["", "!.*", "!.*!https://a!b!c", "!(!https://smp.example!", "!.*!ftp://smp.example!"],
    ids=["empty", "too-short", "too-many-parts", "bad-pattern", "not-http"],
)
def test_an_unusable_record_is_a_lookup_failure(regexp: str) -> None:
    with pytest.raises(SmlLookupFailed):
        smp_url_from_naptr([_record(regexp)], "b-abc.iso6523-actorid-upis.example")
