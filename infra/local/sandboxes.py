"""Sandboxes of the KvK and VIES APIs for the local run and the tests: they answer in the
wire formats of the real services (the KvK Zoeken v2 and Basisprofiel v1 and the VIES REST API),
as their specifications (vendored in ``schemas/kvk`` and ``schemas/vies``) describe them: an
integration test validates every answer against those, so the sandboxes cannot drift. Hence
no ``null`` where the KvK's spec says string (a missing RSIN is left out), absolute URIs in
``links``, and KvK answers as ``application/hal+json`` (the only type Basisprofiel's errors have).

KvK: the official test companies (numbers, names and legal forms as KvK's test environment
documents them; addresses are fictional), ``IPD5200`` for a search without results,
``IPD0005`` for an unknown number, and two numbers that make the KvK fail.
VIES: the test numbers of VIES's test service (100 valid, 200 invalid, 201 INVALID_INPUT,
300 SERVICE_UNAVAILABLE, 301 MS_UNAVAILABLE, 302 TIMEOUT, ...) plus a few registered VAT IDs.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# kvk number -> (name, legal form, rsin, street, house number, postal code, city, active)
KVK_COMPANIES: dict[str, tuple[str, str, str | None, str, int, str, str, bool]] = {
    "68750110": (
        "Test BV Donald",
        "Besloten Vennootschap",
        "857587973",
        "Hizzaarderlaan",
        3,
        "8823SJ",
        "Lollum",
        True,
    ),
    "69599068": (
        "Test Stichting Bolderbast",
        "Stichting",
        "857587997",
        "Hizzaarderlaan",
        1,
        "8823SJ",
        "Lollum",
        True,
    ),
    "69599084": (
        "Test Eenmanszaak Kattenluik",
        "Eenmanszaak",
        None,
        "Oude Bildtdijk",
        12,
        "9076PD",
        "Sint Annaparochie",
        True,
    ),
    "68727720": (
        "Test NV Katrien",
        "Naamloze Vennootschap",
        "857587932",
        "Wilhelminastraat",
        7,
        "8801KN",
        "Franeker",
        True,
    ),
    "90001354": (
        "Test BV Dagobert",
        "Besloten Vennootschap",
        "859040155",
        "Kerkstraat",
        22,
        "1017GB",
        "Amsterdam",
        True,
    ),
    "69599076": (
        "Test VOF Guus en Govert",
        "Vennootschap onder firma",
        None,
        "Voorstraat",
        5,
        "8861BJ",
        "Harlingen",
        True,
    ),
    "55344526": (
        "Test Coöperatie Zwanenburg U.A.",
        "Coöperatie",
        "851226515",
        "Zuiderhaven",
        9,
        "8861CJ",
        "Harlingen",
        True,
    ),
    "55505201": (
        "Test Vereniging Dikkertje Dap",
        "Vereniging",
        "851343402",
        "Noorderhaven",
        40,
        "8861AP",
        "Harlingen",
        False,
    ),
}
KVK_FAILING = {"90004973", "90002903"}  # the KvK answers these with an error (IPD9999 / IPD1002)

# VIES: registered VAT IDs (country, number) -> (name, address)
VIES_REGISTERED: dict[tuple[str, str], tuple[str, str]] = {
    ("NL", "000099998B57"): ("TEST BV DONALD", "HIZZAARDERLAAN 00003 8823SJ LOLLUM"),
    ("NL", "002455799B11"): ("TEST EENMANSZAAK KATTENLUIK", "OUDE BILDTDIJK 00012 9076PD SINT ANNAPAROCHIE"),
    ("BE", "0123456749"): ("TEST BVBA BRUSSEL", "RUE DE LA LOI 16 1000 BRUXELLES"),
    ("DE", "298946909"): ("---", "---"),  # Germany never discloses name and address
}
VIES_TEST_ERRORS = {
    "201": "INVALID_INPUT",
    "202": "INVALID_REQUESTER_INFO",
    "300": "SERVICE_UNAVAILABLE",
    "301": "MS_UNAVAILABLE",
    "302": "TIMEOUT",
    "400": "VAT_BLOCKED",
    "401": "IP_BLOCKED",
    "500": "GLOBAL_MAX_CONCURRENT_REQ",
    "501": "GLOBAL_MAX_CONCURRENT_REQ_TIME",
    "600": "MS_MAX_CONCURRENT_REQ",
    "601": "MS_MAX_CONCURRENT_REQ_TIME",
}


def _kvk_fault(code: str, text: str) -> dict[str, Any]:
    return {"fout": [{"code": code, "omschrijving": text}]}


def _kvk_links(base: str, kvk_number: str) -> list[dict[str, str]]:
    return [{"rel": "basisprofiel", "href": f"{base}/api/v1/basisprofielen/{kvk_number}"}]


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    """The KvK leaves out what it does not know; it never sends ``null``."""
    return {k: v for k, v in values.items() if v is not None}


def kvk_search(query: dict[str, list[str]], base: str = "http://127.0.0.1/kvk") -> tuple[int, dict[str, Any]]:
    number = (query.get("kvkNummer") or [""])[0]
    name = (query.get("naam") or [""])[0].lower()
    if number and not re.fullmatch(r"\d{8}", number):
        return 400, _kvk_fault("IPD0004", "Het KvK-nummer is niet valide")
    if number in KVK_FAILING:
        return 500, _kvk_fault("IPD9999", "Algemene technische fout")
    found = [
        (k, v)
        for k, v in KVK_COMPANIES.items()
        if (number and k == number) or (name and all(w in v[0].lower() for w in name.split()))
    ]
    if not found:
        return 404, _kvk_fault("IPD5200", "Geen resultaten gevonden voor deze zoekvraag")
    results = [
        _without_none(
            {
                "kvkNummer": k,
                "rsin": v[2],
                "vestigingsnummer": f"0000{k}",
                "naam": v[0],
                "adres": {
                    "binnenlandsAdres": {
                        "type": "bezoekadres",
                        "straatnaam": v[3],
                        "huisnummer": v[4],
                        "postcode": v[5],
                        "plaats": v[6],
                    }
                },
                "type": "hoofdvestiging",
                "actief": "Ja" if v[7] else "Nee",
                "links": _kvk_links(base, k),
            }
        )
        for k, v in found
    ]
    return 200, {
        "pagina": 1,
        "resultatenPerPagina": 20,
        "totaal": len(results),
        "resultaten": results,
        "links": [{"rel": "self", "href": f"{base}/api/v2/zoeken"}],
    }


def kvk_profile(number: str, base: str = "http://127.0.0.1/kvk") -> tuple[int, dict[str, Any]]:
    if not re.fullmatch(r"\d{8}", number):
        return 400, _kvk_fault("IPD0004", "Het KvK-nummer is niet valide")
    if number in KVK_FAILING:
        return 500, _kvk_fault("IPD9999", "Algemene technische fout")
    company = KVK_COMPANIES.get(number)
    if company is None:
        return 404, _kvk_fault("IPD0005", "Het product is niet leverbaar voor dit KvK-nummer")
    name, legal_form, rsin, street, house_number, postal_code, city, active = company
    address = {
        "type": "bezoekadres",
        "indAfgeschermd": "Nee",
        "volledigAdres": f"{street} {house_number} {postal_code} {city}",
        "straatnaam": street,
        "huisnummer": house_number,
        "postcode": postal_code,
        "plaats": city,
        "land": "Nederland",
    }
    registration: dict[str, str] = {"datumAanvang": "20150101"}
    if not active:
        registration["datumEinde"] = "20240101"
    return 200, {
        "kvkNummer": number,
        "indNonMailing": "Nee",
        "naam": name,
        "formeleRegistratiedatum": "20150101",
        "materieleRegistratie": registration,
        "totaalWerkzamePersonen": 3,
        "statutaireNaam": name,
        "handelsnamen": [{"naam": name, "volgorde": 1}],
        "sbiActiviteiten": [
            {"sbiCode": "6201", "sbiOmschrijving": "Ontwikkelen software", "indHoofdactiviteit": "Ja"}
        ],
        "links": _kvk_links(base, number),
        "_embedded": {
            "hoofdvestiging": _without_none(
                {
                    "vestigingsnummer": f"0000{number}",
                    "kvkNummer": number,
                    "rsin": rsin,
                    "eersteHandelsnaam": name,
                    "indHoofdvestiging": "Ja",
                    "indCommercieleVestiging": "Ja",
                    "adressen": [address],
                    "websites": [],
                }
            ),
            "eigenaar": _without_none(
                {
                    "rsin": rsin,
                    "rechtsvorm": legal_form,
                    "uitgebreideRechtsvorm": legal_form,
                    "adressen": [address],
                    "websites": [],
                }
            ),
        },
    }


def vies_check(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    country = str(body.get("countryCode", "")).upper()
    number = re.sub(r"\s", "", str(body.get("vatNumber", ""))).upper()
    if not re.fullmatch(r"[A-Z]{2}", country) or not number:
        return 400, {"actionSucceed": False, "errorWrappers": [{"error": "INVALID_INPUT"}]}
    if number in VIES_TEST_ERRORS:
        # VIES reports these with HTTP 200 and actionSucceed false.
        return 200, {"actionSucceed": False, "errorWrappers": [{"error": VIES_TEST_ERRORS[number]}]}
    registered = VIES_REGISTERED.get((country, number))
    valid = registered is not None or number == "100"
    name, address = registered or (("TEST VAT NUMBER", "TEST ADDRESS") if valid else ("---", "---"))
    return 200, {
        "countryCode": country,
        "vatNumber": number,
        "requestDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "valid": valid,
        "requestIdentifier": "",
        "name": name,
        "address": address,
        "traderName": "",
        "traderStreet": "",
        "traderPostalCode": "",
        "traderCity": "",
        "traderCompanyType": "",
        "traderNameMatch": "NOT_PROCESSED",
        "traderStreetMatch": "NOT_PROCESSED",
        "traderPostalCodeMatch": "NOT_PROCESSED",
        "traderCityMatch": "NOT_PROCESSED",
        "traderCompanyTypeMatch": "NOT_PROCESSED",
    }


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def _answer(self, status: int, body: dict[str, Any], content_type: str = "application/json") -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        base = f"http://{self.headers.get('Host') or '127.0.0.1'}/kvk"
        hal = "application/hal+json"
        if split.path.startswith("/kvk/") and not self.headers.get("apikey"):
            self._answer(401, {"fout": [{"code": "IPD1001", "omschrijving": "Geen geldige API key"}]}, hal)
        elif split.path == "/kvk/api/v2/zoeken":
            self._answer(*kvk_search(parse_qs(split.query), base), hal)
        elif found := re.fullmatch(r"/kvk/api/v1/basisprofielen/([^/]+)", split.path):
            self._answer(*kvk_profile(found.group(1), base), hal)
        else:
            self._answer(404, {"fout": [{"code": "IPD0001", "omschrijving": "Product bestaat niet"}]}, hal)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = {}
        if urlsplit(self.path).path == "/vies/check-vat-number":
            self._answer(*vies_check(body if isinstance(body, dict) else {}))
        else:
            self._answer(404, {"actionSucceed": False, "errorWrappers": [{"error": "NOT_FOUND"}]})

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Sandboxes:
    """The sandboxes on one local port: ``{url}/kvk`` and ``{url}/vies``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="sandboxes"
        )

    def environment(self) -> dict[str, str]:
        """The functions' settings that point them at these sandboxes."""
        from onboarding.settings import environment

        return environment(
            {
                "kvk": {"base_url": f"{self.url}/kvk", "api_key": "sandbox"},
                "vies": {"base_url": f"{self.url}/vies"},
            }
        )

    def start(self) -> Sandboxes:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
