"""The local development identity provider (``infra/local/identity_provider.py``) by itself,
without a server: registering an identity again replaces it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from infra.local.identity_provider import Client, LocalIdentityProvider

REDIRECT = "http://127.0.0.1:9/_local/cognito/oauth2/idpresponse"


def _provider() -> LocalIdentityProvider:
    return LocalIdentityProvider(
        "http://127.0.0.1:9", clients={"google": Client(client_id="google-client", redirect_uri=REDIRECT)}
    )


def _register(idp: LocalIdentityProvider, **identity: Any) -> tuple[int, dict[str, Any]]:
    status, _, body = idp.register(json.dumps({"provider": "google", **identity}).encode())
    return status, json.loads(body)


def _id_token_claims(idp: LocalIdentityProvider, sub: str) -> dict[str, Any]:
    """A login of ``sub`` (picked by ``login_hint``): the claims of the ID token it gets."""
    from joserfc import jwt

    status, headers, _ = idp.authorize(
        "google",
        {
            "client_id": "google-client",
            "redirect_uri": REDIRECT,
            "login_hint": sub,
            "state": "s",
            "nonce": "n",
        },
    )
    assert status == 302
    code = parse_qs(urlsplit(headers["Location"]).query)["code"][0]
    status, _, body = idp.token(
        "google",
        {"client_id": "google-client", "code": code, "redirect_uri": REDIRECT},
        {},
    )
    assert status == 200
    return dict(jwt.decode(json.loads(body)["id_token"], idp.key).claims)


def test_registering_the_same_provider_and_sub_again_replaces_its_email_and_claims() -> None:
    idp = _provider()
    status, _ = _register(
        idp, sub="anna", email="anna@gmail.com", claims={"email_verified": True, "hd": "x.nl"}
    )
    assert status == 201
    status, answered = _register(idp, sub="anna", email="anna@example.nl", claims={"email_verified": False})
    assert status == 201
    assert answered == {
        "provider": "google",
        "sub": "anna",
        "email": "anna@example.nl",
        "claims": {"email_verified": False},
    }
    assert list(idp.identities["google"]) == ["anna"]  # one identity, replaced
    claims = _id_token_claims(idp, "anna")
    assert claims["email"] == "anna@example.nl" and claims["email_verified"] is False
    assert "hd" not in claims  # nothing of the first registration is left


def test_another_sub_is_another_identity() -> None:
    idp = _provider()
    _register(idp, sub="anna", email="anna@gmail.com")
    _register(idp, sub="bob", email="bob@gmail.com")
    assert sorted(idp.identities["google"]) == ["anna", "bob"]
    assert _id_token_claims(idp, "anna")["email"] == "anna@gmail.com"
