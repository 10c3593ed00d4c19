"""Every check of an ID token (``onboarding.adapters.oidc``) and the Microsoft bridge
(``federation_api``): Entra ID's tokens checked against the issuer of their own tenant, and the
bridge's own OpenID provider endpoints for the user pool, over fakes."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from federation_api.entra import EntraId
from federation_api.service import BridgeRefusal, MicrosoftBridge, TokenError
from federation_api.signing import SigningKeys
from onboarding.adapters import oidc
from onboarding.domain import errors
from onboarding.domain.rules import token_hash
from tests.support.services import Clock

KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # same kid, another key
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
AUTHORITY = "https://login.microsoftonline.com"


class Keys:
    """A key cache that holds a fixed set (``oidc.KeySetCache``'s interface)."""

    def __init__(self, *keys: RSAKey) -> None:
        self.set = KeySet([KEY, *keys] if not keys else list(keys))

    def keys(self, kid: str | None) -> Any:
        return self.set


def token(claims: dict[str, Any], key: Any = KEY, alg: str = "RS256") -> str:
    return jwt.encode({"alg": alg, "kid": "k1"}, claims, key, algorithms=[alg])


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": "https://issuer.example",
        "aud": "client",
        "sub": "s1",
        "exp": now + 300,
        "iat": now,
        "nonce": "n1",
        **changes,
    }


def verify(value: str, **options: Any) -> dict[str, Any]:
    return oidc.verify_id_token(value, Keys(), issuer="https://issuer.example", audience="client", **options)  # type: ignore[arg-type]


# --- Every check of an ID token -------------------------------------------------------------------
def test_a_good_token_passes_every_check() -> None:
    assert verify(token(claims()), nonce="n1", required=("sub",))["sub"] == "s1"


def test_an_audience_list_containing_ours_passes() -> None:
    assert verify(token(claims(aud=["other", "client"])))["sub"] == "s1"


@pytest.mark.parametrize(
    ("make", "check"),
    [
        (lambda: token(claims(), key=OTHER), "signature"),
        (lambda: token(claims(iss="https://evil.example")), "issuer"),
        (lambda: token(claims(aud="other-client")), "audience"),
        (lambda: token(claims(exp=int(time.time()) - 120)), "expired"),
        (lambda: token(claims(nbf=int(time.time()) + 600)), "nbf in the future"),
        (lambda: token(claims(nonce="replayed")), "nonce"),
        (lambda: token({k: v for k, v in claims().items() if k != "exp"}), "expired"),
        (lambda: "not.a.token", "malformed"),
        (lambda: "garbage", "malformed"),
    ],
    ids=["signature", "issuer", "audience", "expired", "nbf", "nonce", "no-exp", "not-a-token", "garbage"],
)
def test_a_token_failing_a_check_is_refused_naming_the_check(make: Any, check: str) -> None:
    with pytest.raises(errors.TokenInvalid, match=check):
        verify(make(), nonce="n1")


def test_none_and_symmetric_algorithms_are_refused() -> None:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).decode().rstrip("=")
    payload = base64.urlsafe_b64encode(json.dumps(claims()).encode()).decode().rstrip("=")
    with pytest.raises(errors.TokenInvalid, match="algorithm"):
        verify(f"{header}.{payload}.")
    import hashlib
    import hmac

    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": "k1"}).encode()).decode().rstrip("=")
    signed = f"{header}.{payload}".encode()
    signature = hmac.new(KEY.as_pem(private=False), signed, hashlib.sha256).digest()  # key confusion
    confused = f"{header}.{payload}." + base64.urlsafe_b64encode(signature).decode().rstrip("=")
    with pytest.raises(errors.TokenInvalid, match="algorithm"):
        verify(confused)


def test_a_required_claim_must_be_there() -> None:
    with pytest.raises(errors.TokenInvalid, match="missing oid"):
        verify(token(claims()), required=("sub", "oid"))


# --- Entra ID: the issuer of the token's own tenant ------------------------------------------------
def entra_token(**changes: Any) -> str:
    return token(
        {**claims(iss=f"{AUTHORITY}/{TENANT}/v2.0", aud="entra-app", tid=TENANT, oid="o-1"), **changes}
    )


def entra() -> EntraId:
    upstream = EntraId(AUTHORITY, "entra-app", lambda: "secret")
    upstream.keys = Keys()  # type: ignore[assignment]
    return upstream


def test_entra_tokens_of_any_tenant_pass_with_their_own_issuer() -> None:
    other = "11111111-2222-3333-4444-555555555555"
    assert entra().verify(entra_token())["tid"] == TENANT
    assert entra().verify(entra_token(tid=other, iss=f"{AUTHORITY}/{other}/v2.0"))["tid"] == other


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": f"{AUTHORITY}/11111111-2222-3333-4444-555555555555/v2.0"},  # another tenant's issuer
        {"iss": f"{AUTHORITY}/common/v2.0"},
        {"iss": f"{AUTHORITY}/{{tenantid}}/v2.0"},
        {"tid": "common", "iss": f"{AUTHORITY}/common/v2.0"},  # a tid that is not a tenant id
        {"tid": f"{TENANT}/../evil", "iss": f"{AUTHORITY}/{TENANT}/../evil/v2.0"},
        {"aud": "another-app"},
    ],
)
def test_entra_tokens_are_refused_when_the_issuer_is_not_their_tenants(changes: dict[str, Any]) -> None:
    with pytest.raises(errors.TokenInvalid):
        entra().verify(entra_token(**changes))


def test_entra_tokens_must_name_the_user() -> None:
    without_oid = {**claims(iss=f"{AUTHORITY}/{TENANT}/v2.0", aud="entra-app", tid=TENANT)}
    with pytest.raises(errors.TokenInvalid, match="oid"):
        entra().verify(token(without_oid))


def test_the_authorize_url_is_entras_common_endpoint_with_pkce() -> None:
    url = entra().authorize_url(
        redirect_uri="https://app/cb", state="s", nonce="n", code_challenge="c", login_hint=None
    )
    split = urlsplit(url)
    assert f"{split.scheme}://{split.netloc}{split.path}" == f"{AUTHORITY}/common/oauth2/v2.0/authorize"
    query = {k: v[0] for k, v in parse_qs(split.query).items()}
    assert (
        query["code_challenge_method"] == "S256"
        and query["client_id"] == "entra-app"
        and "login_hint" not in query
    )


# --- The bridge ---------------------------------------------------------------------------------
COGNITO = "https://login.example/oauth2/idpresponse"
PUBLIC = "https://app.example"


class Store:
    def __init__(self) -> None:
        self.pending: dict[str, tuple[dict[str, Any], datetime]] = {}
        self.codes: dict[str, tuple[dict[str, Any], datetime]] = {}

    def start(self, state_hash: str, pending: dict[str, Any], expires_at: datetime) -> None:
        self.pending[state_hash] = (pending, expires_at)

    def take(self, state_hash: str, moment: datetime) -> dict[str, Any] | None:
        found = self.pending.pop(state_hash, None)
        return found[0] if found and found[1] > moment else None

    def keep_code(self, code: str, claims: dict[str, Any], expires_at: datetime) -> None:
        self.codes[code] = (claims, expires_at)

    def take_code(self, code: str, moment: datetime) -> dict[str, Any] | None:
        found = self.codes.pop(code, None)
        return found[0] if found and found[1] > moment else None


class Upstream:
    """Entra ID: remembers what it was asked, answers with a token the test sets."""

    def __init__(self) -> None:
        self.asked: dict[str, Any] = {}
        self.claims: dict[str, Any] = {}
        self.fails: Exception | None = None

    def authorize_url(self, **asked: Any) -> str:
        self.asked = asked
        return "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?x=1"

    def exchange(self, code: str, *, redirect_uri: str, code_verifier: str) -> str:
        if self.fails:
            raise self.fails
        return "entra-id-token"

    def verify(self, id_token: str) -> dict[str, Any]:
        return {"tid": TENANT.upper(), "oid": "ABC", "nonce": self.asked["nonce"], **self.claims}


@pytest.fixture
def parts() -> dict[str, Any]:
    keys = SigningKeys({"keys": [RSAKey.generate_key(2048, auto_kid=True).as_dict(private=True)]})
    return {"store": Store(), "upstream": Upstream(), "signer": keys, "clock": Clock()}


@pytest.fixture
def bridge(parts: dict[str, Any]) -> MicrosoftBridge:
    return MicrosoftBridge(
        public_url=PUBLIC,
        cognito_redirect_uri=COGNITO,
        client_id="cognito",
        client_secret=lambda: "s3cret",
        store=parts["store"],
        upstream=lambda: parts["upstream"],
        signer=lambda: parts["signer"],
        clock=parts["clock"],
    )


COGNITO_ASKS = {
    "client_id": "cognito",
    "redirect_uri": COGNITO,
    "response_type": "code",
    "scope": "openid email",
    "state": "cognito-state",
    "nonce": "cognito-nonce",
    "login_hint": "anna@contoso.com",
}


def _through_entra(bridge: MicrosoftBridge, parts: dict[str, Any], **entra: str) -> dict[str, str]:
    bridge.authorize(COGNITO_ASKS)
    back = bridge.callback({"state": parts["upstream"].asked["state"], "code": "entra-code", **entra})
    assert back.startswith(f"{COGNITO}?")
    return {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}


def test_the_bridge_passes_cognitos_login_on_to_entra_keeping_only_hashes(
    bridge: MicrosoftBridge, parts: dict[str, Any]
) -> None:
    bridge.authorize(COGNITO_ASKS)
    asked = parts["upstream"].asked
    assert (
        asked["redirect_uri"] == f"{PUBLIC}/federation/microsoft/callback"
        and asked["login_hint"] == "anna@contoso.com"
    )
    [(state_hash, (pending, _))] = parts["store"].pending.items()
    assert state_hash == token_hash(asked["state"]) and pending["nonce_hash"] == token_hash(asked["nonce"])
    assert pending["cognito_state"] == "cognito-state"


@pytest.mark.parametrize("change", [{"client_id": "other"}, {"redirect_uri": "https://evil.example/cb"}])
def test_the_bridge_redirects_nowhere_for_another_client(
    bridge: MicrosoftBridge, change: dict[str, str]
) -> None:
    with pytest.raises(BridgeRefusal):
        bridge.authorize({**COGNITO_ASKS, **change})


def test_an_unknown_or_used_state_is_refused(bridge: MicrosoftBridge, parts: dict[str, Any]) -> None:
    with pytest.raises(BridgeRefusal):
        bridge.callback({"state": "unknown", "code": "c"})
    _through_entra(bridge, parts)
    with pytest.raises(BridgeRefusal):
        bridge.callback({"state": parts["upstream"].asked["state"], "code": "c"})


def test_a_checked_entra_login_gives_cognito_a_one_time_code(
    bridge: MicrosoftBridge, parts: dict[str, Any]
) -> None:
    parts["upstream"].claims = {"email": "anna@contoso.com", "name": "Anna", "xms_edov": "1"}
    back = _through_entra(bridge, parts)
    assert back["state"] == "cognito-state" and "error" not in back
    form = {
        "grant_type": "authorization_code",
        "code": back["code"],
        "redirect_uri": COGNITO,
        "client_id": "cognito",
        "client_secret": "s3cret",
    }
    answer = bridge.token(form, None)
    keys = KeySet.import_key_set(bridge.keys())
    id_claims = jwt.decode(answer["id_token"], keys).claims
    assert id_claims["iss"] == f"{PUBLIC}/federation/microsoft" and id_claims["aud"] == "cognito"
    assert id_claims["sub"] == f"{TENANT}.abc"  # tid.oid, lower case
    assert (
        id_claims["xms_edov"] is True
        and id_claims["nonce"] == "cognito-nonce"
        and id_claims["email"] == "anna@contoso.com"
    )
    assert bridge.userinfo(f"Bearer {answer['access_token']}") == {
        "sub": f"{TENANT}.abc",
        "email": "anna@contoso.com",
        "name": "Anna",
        "xms_edov": True,
    }
    with pytest.raises(TokenError, match="invalid_grant"):
        bridge.token(form, None)  # once


@pytest.mark.parametrize("value", [None, False, "false", "0"])
def test_without_xms_edov_the_bridge_says_no(
    bridge: MicrosoftBridge, parts: dict[str, Any], value: Any
) -> None:
    parts["upstream"].claims = {"email": "anna@contoso.com", "xms_edov": value}
    back = _through_entra(bridge, parts)
    form = {"grant_type": "authorization_code", "code": back["code"], "redirect_uri": COGNITO}
    basic = "Basic " + base64.b64encode(b"cognito:s3cret").decode()
    id_claims = jwt.decode(bridge.token(form, basic)["id_token"], KeySet.import_key_set(bridge.keys())).claims
    assert id_claims["xms_edov"] is False


@pytest.mark.parametrize(
    "fails",
    [errors.TokenInvalid("issuer"), errors.LoginRejected("invalid_grant"), errors.IdentityUnavailable("x")],
)
def test_an_entra_login_failing_a_check_reaches_cognito_as_an_error(
    bridge: MicrosoftBridge, parts: dict[str, Any], fails: Exception
) -> None:
    parts["upstream"].fails = fails
    assert _through_entra(bridge, parts) == {"error": "server_error", "state": "cognito-state"}
    assert not parts["store"].codes


def test_an_entra_token_with_another_nonce_is_refused(bridge: MicrosoftBridge, parts: dict[str, Any]) -> None:
    parts["upstream"].claims = {"nonce": "replayed"}
    assert _through_entra(bridge, parts)["error"] == "server_error"


def test_entras_own_errors_pass_on_only_as_known_codes(
    bridge: MicrosoftBridge, parts: dict[str, Any]
) -> None:
    assert _through_entra(bridge, parts, error="access_denied")["error"] == "access_denied"
    assert _through_entra(bridge, parts, error="weird<script>")["error"] == "server_error"


@pytest.mark.parametrize(
    ("form", "authorization", "error"),
    [
        ({"client_id": "cognito", "client_secret": "wrong"}, None, "invalid_client"),
        ({"client_id": "other", "client_secret": "s3cret"}, None, "invalid_client"),
        ({}, "Basic " + base64.b64encode(b"cognito:wrong").decode(), "invalid_client"),
        ({}, "Basic !!!", "invalid_client"),
        (
            {"client_id": "cognito", "client_secret": "s3cret", "grant_type": "refresh_token"},
            None,
            "unsupported_grant_type",
        ),
        (
            {
                "client_id": "cognito",
                "client_secret": "s3cret",
                "grant_type": "authorization_code",
                "redirect_uri": "x",
            },
            None,
            "invalid_grant",
        ),
        (
            {
                "client_id": "cognito",
                "client_secret": "s3cret",
                "grant_type": "authorization_code",
                "redirect_uri": COGNITO,
                "code": "nope",
            },
            None,
            "invalid_grant",
        ),
    ],
)
def test_the_token_endpoint_refuses(
    bridge: MicrosoftBridge, form: dict[str, str], authorization: str | None, error: str
) -> None:
    with pytest.raises(TokenError, match=error):
        bridge.token(form, authorization)


def test_userinfo_needs_the_bridges_own_access_token(bridge: MicrosoftBridge, parts: dict[str, Any]) -> None:
    for authorization in (None, "Bearer x", f"Bearer {token(claims())}"):
        with pytest.raises(TokenError, match="invalid_token"):
            bridge.userinfo(authorization)
    moment = int(parts["clock"]().timestamp())
    id_token = parts["signer"].sign({"iss": bridge.issuer, "aud": "cognito", "sub": "s", "exp": moment + 60})
    with pytest.raises(TokenError):
        bridge.userinfo(f"Bearer {id_token}")  # an ID token is not an access token


def test_the_discovery_document_names_the_endpoints(bridge: MicrosoftBridge) -> None:
    document = bridge.discovery()
    assert document["issuer"] == f"{PUBLIC}/federation/microsoft"
    assert document["jwks_uri"] == f"{PUBLIC}/federation/microsoft/jwks.json"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
