"""Federated logins in progress: started logins (until their callback) and the one-time
session codes that hand a login's tokens to the app.

Item layout (pk / sk):
  LOGIN#<sha256 of state>  / LOGIN    a started login: provider (and a tenant's app client),
                                      SHA-256 of the nonce and of the browser binding, PKCE
                                      verifier, login hint; used once (``used_at``), valid
                                      minutes (TTL)
  SESSION#<lookup of code> / SESSION  a finished login's tokens, sealed (JWE, dir + A256GCM) under
                                      a key derived from the code itself, so the table alone never
                                      reveals them (``adapters.sealed``); used once, valid 60 seconds
  BRIDGE#<sha256 of state> / BRIDGE   a Microsoft login passing through the OIDC bridge: Cognito's
                                      state and nonce, the SHA-256 of the nonce sent to Entra ID, the
                                      PKCE verifier; used once, valid minutes
  BRIDGE_CODE#<lookup>     / BRIDGE_CODE  the bridge's code for Cognito: the verified claims, sealed
                                      under the code; used once, valid 2 minutes
  REFRESH#<sha256 of token> / REFRESH the app client that issued a tenant login's refresh token (a
                                      refresh token works only there and does not say where);
                                      kept as long as the token lives (TTL)
Single use is a conditional update (``attribute_not_exists(used_at)`` and not expired), so two
requests with one state or code cannot both succeed.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from onboarding.adapters import sealed
from onboarding.adapters.dynamo import NOT_EXISTS, TTL_ATTRIBUTE, ConditionFailed, Put, Table, Update
from onboarding.domain.models import LoginAttempt
from onboarding.domain.ports import Tokens
from onboarding.domain.rules import token_hash

_TAKE = "attribute_exists(pk) AND attribute_not_exists(used_at) AND expires_at > :now"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _tokens(value: dict[str, object]) -> Tokens:
    return Tokens(
        str(value["id_token"]),
        str(value["access_token"]),
        str(value["refresh_token"]) if value.get("refresh_token") else None,
        int(str(value["expires_in"])),
    )


def _take(
    table: Table, pk: str, sk: str, moment: datetime, *, returns: str = "ALL_NEW"
) -> dict[str, Any] | None:
    """Use up a one-time item: its values, or None if it is unknown, used or expired."""
    try:
        item = table.write(
            Update(
                pk,
                sk,
                "SET used_at = :now REMOVE sealed",
                values={":now": moment.isoformat()},
                condition=_TAKE,
                returns=returns,
            )
        )
    except ConditionFailed:
        return None
    return item or {}


def _one_time(pk: str, sk: str, values: dict[str, Any], expires_at: datetime) -> Put:
    return Put(
        {
            "pk": pk,
            "sk": sk,
            **values,
            "expires_at": expires_at.isoformat(),
            TTL_ATTRIBUTE: _epoch(expires_at + timedelta(hours=1)),
        },
        condition=NOT_EXISTS,
    )


class LoginRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def start(self, attempt: LoginAttempt) -> None:
        values = {
            "type": "login",
            "provider": attempt.provider,
            "nonce_hash": attempt.nonce_hash,
            "code_verifier": attempt.code_verifier,
            "browser_hash": attempt.browser_hash,
            "login_hint": attempt.login_hint,
            "client_id": attempt.client_id,
            "retried": attempt.retried,
            "created_at": attempt.created_at.isoformat(),
        }
        self.table.write(_one_time(f"LOGIN#{attempt.state_hash}", "LOGIN", values, attempt.expires_at))

    def take(self, state_hash: str, moment: datetime) -> LoginAttempt | None:
        """The started login with this state, used up now; None if unknown, used or expired."""
        item = _take(self.table, f"LOGIN#{state_hash}", "LOGIN", moment)
        if item is None:
            return None
        return LoginAttempt(
            state_hash=state_hash,
            provider=item["provider"],
            nonce_hash=item["nonce_hash"],
            code_verifier=item["code_verifier"],
            browser_hash=item["browser_hash"],
            login_hint=item.get("login_hint"),
            client_id=item.get("client_id"),
            retried=bool(item.get("retried")),
            created_at=datetime.fromisoformat(item["created_at"]),
            expires_at=datetime.fromisoformat(item["expires_at"]),
        )

    def keep_session(self, code: str, tokens: Tokens, expires_at: datetime) -> None:
        values = {"type": "session", "sealed": sealed.seal(asdict(tokens), code, "session")}
        self.table.write(
            _one_time(f"SESSION#{sealed.lookup(code, 'session')}", "SESSION", values, expires_at)
        )

    def take_session(self, code: str, moment: datetime) -> Tokens | None:
        """The tokens of a session code, used up now (the table forgets them); None if
        unknown, used or expired."""
        item = _take(
            self.table, f"SESSION#{sealed.lookup(code, 'session')}", "SESSION", moment, returns="UPDATED_OLD"
        )
        kept = (item or {}).get("sealed")
        return _tokens(sealed.unseal(kept, code, "session")) if kept else None

    def remember_client(self, refresh_token: str, client_id: str, expires_at: datetime) -> None:
        self.table.write(
            Put(
                {
                    "pk": f"REFRESH#{token_hash(refresh_token)}",
                    "sk": "REFRESH",
                    "type": "refresh_client",
                    "client_id": client_id,
                    TTL_ATTRIBUTE: _epoch(expires_at),
                }
            )
        )

    def client_of(self, refresh_token: str) -> str | None:
        item = self.table.get(f"REFRESH#{token_hash(refresh_token)}", "REFRESH")
        return str(item["client_id"]) if item else None


class BridgeLoginRepository:
    """Microsoft logins passing through the OIDC bridge."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def start(self, state_hash: str, pending: dict[str, Any], expires_at: datetime) -> None:
        self.table.write(
            _one_time(f"BRIDGE#{state_hash}", "BRIDGE", {"type": "bridge", **pending}, expires_at)
        )

    def take(self, state_hash: str, moment: datetime) -> dict[str, Any] | None:
        return _take(self.table, f"BRIDGE#{state_hash}", "BRIDGE", moment)

    def keep_code(self, code: str, claims: dict[str, Any], expires_at: datetime) -> None:
        values = {"type": "bridge_code", "sealed": sealed.seal(claims, code, "bridge")}
        self.table.write(
            _one_time(f"BRIDGE_CODE#{sealed.lookup(code, 'bridge')}", "BRIDGE_CODE", values, expires_at)
        )

    def take_code(self, code: str, moment: datetime) -> dict[str, Any] | None:
        item = _take(
            self.table,
            f"BRIDGE_CODE#{sealed.lookup(code, 'bridge')}",
            "BRIDGE_CODE",
            moment,
            returns="UPDATED_OLD",
        )
        kept = (item or {}).get("sealed")
        return sealed.unseal(kept, code, "bridge") if kept else None
