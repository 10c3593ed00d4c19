"""A new signing key set for the Microsoft bridge (a JWK set with one RSA key), for ops:

    make signing-keys   # prints it; put it in the secret <prefix>-<stage>-federation-signing-keys

To rotate, put a new key first and keep the old one after it (``--keep`` with the current
set on stdin) until the tokens it signed have expired (5 minutes): the bridge signs with the
first key and publishes all.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def new_key_set(keep: dict[str, Any] | None = None) -> dict[str, Any]:
    from joserfc.jwk import RSAKey

    key = RSAKey.generate_key(2048, auto_kid=True)
    return {"keys": [key.as_dict(private=True), *((keep or {}).get("keys", []))[:1]]}


if __name__ == "__main__":
    current = json.load(sys.stdin) if "--keep" in sys.argv[1:] else None
    print(json.dumps(new_key_set(current)))
