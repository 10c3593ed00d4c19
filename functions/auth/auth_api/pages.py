"""The pages (activation, login, the app's landing page): static HTML with their inline
script and style pinned by CSP hashes."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Page:
    html: str
    headers: dict[str, str]


def _csp_hash(content: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(content.encode("utf-8")).digest()).decode() + "'"


def activation_page() -> Page:
    return page("activate.html")


@lru_cache(maxsize=4)
def page(name: str) -> Page:
    html = resources.files(__package__).joinpath(f"static/{name}").read_text(encoding="utf-8")
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    styles = re.findall(r"<style>(.*?)</style>", html, flags=re.DOTALL)
    script_hashes = " ".join(_csp_hash(s) for s in scripts)
    style_hashes = " ".join(_csp_hash(s) for s in styles)
    csp = (
        "default-src 'none'; connect-src 'self'; img-src 'self'; form-action 'none'; base-uri 'none'; "
        f"frame-ancestors 'none'; script-src {script_hashes}; style-src {style_hashes}"
    )
    return Page(
        html=html,
        headers={
            "Content-Security-Policy": csp,
            # Tokens and codes travel in the fragment; no-referrer keeps even the page's URL out
            # of other sites' logs.
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
        },
    )
