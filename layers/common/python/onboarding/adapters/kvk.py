"""The KvK (Dutch Chamber of Commerce) APIs: Zoeken v2 and Basisprofiel v1.

``base_url`` is ``https://api.kvk.nl/test`` (KvK's test environment), ``https://api.kvk.nl``
(production) or a sandbox that speaks the same wire format. httpx is imported on the first
call: most requests of the organisations function never reach the KvK.

Both specifications mark every property optional, so nothing is assumed present: a search
result that cannot be used (no KvK number, or not eight ASCII digits, or no name) is left out
rather than failing the list, and a profile without ``kvkNummer`` is the profile of the number
asked for. Answers come as ``application/json`` or ``application/hal+json`` (Basisprofiel
sends its errors only as the latter); both are JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from onboarding.domain.errors import KvkUnavailable
from onboarding.domain.ports import KvkProfile, KvkSearchResult

NO_RESULTS = "IPD5200"  # "no results for this search"; any Zoeken 404 means an empty list
UNKNOWN_NUMBER = frozenset({"IPD0001", "IPD0004", "IPD0005", NO_RESULTS})
ACCEPT = "application/hal+json, application/json;q=0.9"
_KVK_NUMBER = re.compile(r"[0-9]{8}")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _objects(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


class KvkClient:
    def __init__(
        self, base_url: str, api_key: Callable[[], str], *, timeout: float = 5.0, client: Any | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self._client = client

    def _get(self, path: str, params: dict[str, Any] | None = None) -> tuple[int, Any]:
        import httpx

        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout)
        try:
            response = self._client.get(
                f"{self.base_url}{path}",
                params=params,
                headers={"apikey": self._api_key(), "Accept": ACCEPT},
            )
            body = response.json() if response.content else {}
        except (httpx.HTTPError, ValueError) as exc:
            raise KvkUnavailable(type(exc).__name__) from exc
        return response.status_code, body

    @staticmethod
    def _codes(body: Any) -> set[str]:
        return {str(f.get("code")) for f in _objects(_object(body).get("fout"))}

    def search(self, *, kvk_number: str | None = None, name: str | None = None) -> list[KvkSearchResult]:
        params: dict[str, Any] = {"resultatenPerPagina": 20}
        if kvk_number:
            params["kvkNummer"] = kvk_number
        if name:
            params["naam"] = name
        status, body = self._get("/api/v2/zoeken", params)
        if status == 404:  # "no results", whatever its fout code says
            return []
        if status != 200:
            raise KvkUnavailable(f"HTTP {status} {sorted(self._codes(body))}")
        results = []
        for found in _objects(_object(body).get("resultaten")):
            number, found_name = found.get("kvkNummer"), _text(found.get("naam"))
            if not (isinstance(number, str) and _KVK_NUMBER.fullmatch(number) and found_name):
                continue  # a result nobody could add: left out, the others still count
            address = _object(found.get("adres"))
            domestic = _object(address.get("binnenlandsAdres"))
            foreign = _object(address.get("buitenlandsAdres"))
            results.append(
                KvkSearchResult(
                    kvk_number=number,
                    name=found_name,
                    city=_text(domestic.get("plaats")) or _text(foreign.get("postcodeWoonplaats")),
                    type=_text(found.get("type")) or "",
                    active=str(found.get("actief", "Ja")).lower() in {"ja", "true", "1"},
                )
            )
        return results

    def profile(self, kvk_number: str) -> KvkProfile | None:
        """The Basisprofiel of a KvK number, or None if the KvK does not know it."""
        status, body = self._get(f"/api/v1/basisprofielen/{kvk_number}", {"geoData": "false"})
        if status == 404 or (status == 400 and self._codes(body) & UNKNOWN_NUMBER):
            return None
        if status != 200 or not isinstance(body, dict):
            raise KvkUnavailable(f"HTTP {status} {sorted(self._codes(body))}")
        number = body.get("kvkNummer", kvk_number)
        if number != kvk_number:
            raise KvkUnavailable("answer for another KvK number")
        embedded = _object(body.get("_embedded"))
        main, owner = _object(embedded.get("hoofdvestiging")), _object(embedded.get("eigenaar"))
        addresses = _objects(main.get("adressen")) or _objects(owner.get("adressen"))
        visit = next(
            (a for a in addresses if a.get("type") == "bezoekadres"), addresses[0] if addresses else {}
        )
        street = _text(visit.get("straatnaam"))
        if street and visit.get("huisnummer"):
            parts = (visit.get("huisnummer"), visit.get("huisletter"), visit.get("huisnummerToevoeging"))
            street = " ".join([street, *(str(p) for p in parts if p)])
        trade_names = _objects(body.get("handelsnamen"))
        name = (
            _text(body.get("statutaireNaam"))
            or _text(body.get("naam"))
            or (_text(trade_names[0].get("naam")) if trade_names else None)
            or _text(main.get("eersteHandelsnaam"))
        )
        if name is None:
            raise KvkUnavailable("a profile without any name")
        ended = _object(body.get("materieleRegistratie")).get("datumEinde")
        return KvkProfile(
            kvk_number=kvk_number,
            name=name,
            rsin=_text(owner.get("rsin")) or _text(main.get("rsin")),
            legal_form=_text(owner.get("rechtsvorm")),
            street=street or _text(visit.get("volledigAdres")),
            postal_code=_text(visit.get("postcode")),
            city=_text(visit.get("plaats")),
            country="NL",
            active=not ended,
        )
