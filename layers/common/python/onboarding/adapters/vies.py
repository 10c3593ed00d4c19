"""VAT ID verification through the EU's VIES REST API (``POST /check-vat-number``).

VIES often cannot answer (a member state's registry is down, too many requests); those
answers are *inconclusive*, to be tried again later, never a rejection of the number.
"""

from __future__ import annotations

from typing import Any

from onboarding.domain.ports import ViesResult

INVALID_ERRORS = frozenset({"INVALID_INPUT"})
# Everything else VIES reports (MS_UNAVAILABLE, TIMEOUT, SERVICE_UNAVAILABLE, the *_MAX_CONCURRENT_REQ
# family, VAT_BLOCKED, IP_BLOCKED, INVALID_REQUESTER_INFO, ...) says nothing about the number.


def _clean(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return None if text in {"", "---"} else text


class ViesClient:
    def __init__(self, base_url: str, *, timeout: float = 10.0, client: Any | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._client = client

    def check(self, country_code: str, vat_number: str) -> ViesResult:
        """``vat_number`` without its country prefix; Greece is ``EL`` in VIES."""
        import httpx

        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout)
        country = "EL" if country_code.upper() == "GR" else country_code.upper()
        try:
            response = self._client.post(
                f"{self.base_url}/check-vat-number", json={"countryCode": country, "vatNumber": vat_number}
            )
            body = response.json() if response.content else {}
        except (httpx.HTTPError, ValueError) as exc:
            return ViesResult("inconclusive", error=type(exc).__name__)
        if not isinstance(body, dict):
            return ViesResult("inconclusive", error=f"HTTP {response.status_code}")
        errors = [w.get("error") for w in body.get("errorWrappers") or [] if isinstance(w, dict)]
        if body.get("actionSucceed") is False or errors:
            code = str(errors[0]) if errors else f"HTTP {response.status_code}"
            return ViesResult("invalid" if code in INVALID_ERRORS else "inconclusive", error=code)
        if response.status_code != 200:
            return ViesResult("inconclusive", error=f"HTTP {response.status_code}")
        if not isinstance(body.get("valid"), bool):  # optional in the contract: says nothing about the number
            return ViesResult("inconclusive", error="answer without validity")
        return ViesResult(
            "valid" if body["valid"] else "invalid",
            name=_clean(body.get("name")),
            address=_clean(body.get("address")),
            request_date=_clean(body.get("requestDate")),
        )
