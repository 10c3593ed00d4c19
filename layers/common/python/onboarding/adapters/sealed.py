"""Values kept for a one-time code, sealed under the code itself: the item is found by one
derivation of the code and encrypted (JWE, dir + A256GCM) with a key from another, so the
table alone never reveals what it holds, and neither derivation reveals the code."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def lookup(code: str, purpose: str) -> str:
    """Where the sealed value of ``code`` is kept (``purpose`` keeps kinds of codes apart)."""
    return hashlib.sha256(f"{purpose}-lookup:{code}".encode()).hexdigest()


def _key(code: str, purpose: str) -> bytes:
    return hashlib.sha256(f"{purpose}-seal:{code}".encode()).digest()


def seal(value: dict[str, Any], code: str, purpose: str) -> str:
    from joserfc import jwe
    from joserfc.jwk import OctKey

    return jwe.encrypt_compact(
        {"alg": "dir", "enc": "A256GCM"}, json.dumps(value), OctKey.import_key(_key(code, purpose))
    )


def unseal(sealed: str, code: str, purpose: str) -> dict[str, Any]:
    from joserfc import jwe
    from joserfc.jwk import OctKey

    plaintext = jwe.decrypt_compact(sealed, OctKey.import_key(_key(code, purpose))).plaintext or b"{}"
    value = json.loads(plaintext)
    assert isinstance(value, dict)
    return value
