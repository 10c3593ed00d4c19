"""The KvK (Dutch Chamber of Commerce) APIs: Zoeken v2 and Basisprofiel v1.

``base_url`` is ``https://api.kvk.nl/test`` (KvK's test environment), ``https://api.kvk.nl``
(production) or a sandbox that speaks the same wire format. httpx is imported on the first
call: most requests of the organisations function never reach the KvK.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onboarding.domain.errors import KvkUnavailable
from onboarding.domain.ports import KvkProfile, KvkSearchResult

NO_RESULTS = "IPD5200"  # "no results for this search": a 404 that means an empty list


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
                headers={"apikey": self._api_key(), "Accept": "application/json"},
            )
            body = response.json() if response.content else {}
        except (httpx.HTTPError, ValueError) as exc:
            raise KvkUnavailable(type(exc).__name__) from exc
        return response.status_code, body

    @staticmethod
    def _codes(body: Any) -> set[str]:
        faults = body.get("fout", []) if isinstance(body, dict) else []
        return {str(f.get("code")) for f in faults if isinstance(f, dict)}

    def search(self, *, kvk_number: str | None = None, name: str | None = None) -> list[KvkSearchResult]:
        try:
            return self._search(kvk_number=kvk_number, name=name)
        except (KeyError, TypeError, AttributeError) as exc:  # an answer not in the documented shape
            raise KvkUnavailable(f"unexpected answer: {type(exc).__name__}") from exc

    def profile(self, kvk_number: str) -> KvkProfile | None:
        """The Basisprofiel of a KvK number, or None if the KvK does not know it."""
        try:
            return self._profile(kvk_number)
        except (KeyError, TypeError, AttributeError) as exc:
            raise KvkUnavailable(f"unexpected answer: {type(exc).__name__}") from exc

    def _search(self, *, kvk_number: str | None, name: str | None) -> list[KvkSearchResult]:
        params: dict[str, Any] = {"resultatenPerPagina": 20}
        if kvk_number:
            params["kvkNummer"] = kvk_number
        if name:
            params["naam"] = name
        status, body = self._get("/api/v2/zoeken", params)
        if status == 404 and NO_RESULTS in self._codes(body):
            return []
        if status != 200:
            raise KvkUnavailable(f"HTTP {status} {sorted(self._codes(body))}")
        results = []
        for found in body.get("resultaten", []):
            address = found.get("adres") or {}
            domestic, foreign = address.get("binnenlandsAdres") or {}, address.get("buitenlandsAdres") or {}
            results.append(
                KvkSearchResult(
                    kvk_number=found["kvkNummer"],
                    name=found.get("naam", ""),
                    city=domestic.get("plaats") or foreign.get("postcodeWoonplaats"),
                    type=found.get("type", ""),
                    active=str(found.get("actief", "Ja")).lower() in {"ja", "true", "1"},
                )
            )
        return results

    def _profile(self, kvk_number: str) -> KvkProfile | None:
        status, body = self._get(f"/api/v1/basisprofielen/{kvk_number}", {"geoData": "false"})
        if status in (400, 404) and self._codes(body) & {"IPD0001", "IPD0004", "IPD0005", NO_RESULTS}:
            return None
        if status != 200:
            raise KvkUnavailable(f"HTTP {status} {sorted(self._codes(body))}")
        embedded = body.get("_embedded") or {}
        main, owner = embedded.get("hoofdvestiging") or {}, embedded.get("eigenaar") or {}
        addresses = main.get("adressen") or owner.get("adressen") or []
        visit = next(
            (a for a in addresses if a.get("type") == "bezoekadres"), addresses[0] if addresses else {}
        )
        street = visit.get("straatnaam")
        if street and visit.get("huisnummer"):
            street = " ".join(
                str(p)
                for p in (
                    street,
                    visit.get("huisnummer"),
                    visit.get("huisletter"),
                    visit.get("huisnummerToevoeging"),
                )
                if p
            )
        ended = (body.get("materieleRegistratie") or {}).get("datumEinde")
        return KvkProfile(
            kvk_number=body["kvkNummer"],
            name=body.get("statutaireNaam") or body.get("naam", ""),
            rsin=owner.get("rsin") or main.get("rsin"),
            legal_form=owner.get("rechtsvorm"),
            street=street or visit.get("volledigAdres"),
            postal_code=visit.get("postcode"),
            city=visit.get("plaats"),
            country="NL",
            active=not ended,
        )
