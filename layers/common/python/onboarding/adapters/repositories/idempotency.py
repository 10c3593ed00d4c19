"""What was answered to a request with an ``Idempotency-Key``, kept for 24 hours.

Item layout (pk / sk):
  IDEMPOTENCY#<scope>#<sha256(key)> / IDEMPOTENCY   ``in_progress`` while the first request runs
                                                    (at most ``IN_PROGRESS_SECONDS``, then a
                                                    retry may take over), then ``completed`` with
                                                    the response to replay; TTL after 24 hours
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import datetime, timedelta

from onboarding.adapters.dynamo import TTL_ATTRIBUTE, ConditionFailed, Delete, Put, Table, Update
from onboarding.domain.ports import IdempotencyRecord

SK = "IDEMPOTENCY"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class IdempotencyRepository:
    RETENTION = timedelta(hours=24)
    IN_PROGRESS_SECONDS = 60

    def __init__(self, table: Table) -> None:
        self.table = table

    @staticmethod
    def _pk(scope: str, key: str) -> str:
        return f"IDEMPOTENCY#{scope}#{hashlib.sha256(key.encode()).hexdigest()}"

    def begin(self, scope: str, key: str, fingerprint: str, moment: datetime) -> IdempotencyRecord | None:
        pk = self._pk(scope, key)
        now_epoch = _epoch(moment)
        try:
            self.table.write(
                Put(
                    {
                        "pk": pk,
                        "sk": SK,
                        "type": "idempotency",
                        "fingerprint": fingerprint,
                        "status": "in_progress",
                        "in_progress_until": now_epoch + self.IN_PROGRESS_SECONDS,
                        "expires_at": _epoch(moment + self.RETENTION),
                        TTL_ATTRIBUTE: _epoch(moment + self.RETENTION),
                    },
                    condition="attribute_not_exists(pk) OR expires_at < :now OR "
                    "(#s = :in_progress AND in_progress_until < :now)",
                    names={"#s": "status"},
                    values={":now": now_epoch, ":in_progress": "in_progress"},
                )
            )
        except ConditionFailed:
            item = self.table.get(pk, SK)
            if item is None:  # expired and removed in between: let the caller retry
                return IdempotencyRecord(fingerprint=fingerprint, completed=False)
            return IdempotencyRecord(
                fingerprint=item["fingerprint"],
                completed=item["status"] == "completed",
                status_code=item.get("status_code", 0),
                body=item.get("body", ""),
                content_type=item.get("content_type", ""),
            )
        return None

    def finish(
        self, scope: str, key: str, fingerprint: str, status_code: int, body: str, content_type: str
    ) -> None:
        with contextlib.suppress(ConditionFailed):  # taken over after a very slow first request
            self.table.write(
                Update(
                    self._pk(scope, key),
                    SK,
                    "SET #s = :completed, status_code = :code, body = :body, content_type = :type",
                    {"#s": "status", "#f": "fingerprint"},
                    {
                        ":completed": "completed",
                        ":code": status_code,
                        ":body": body,
                        ":type": content_type,
                        ":fingerprint": fingerprint,
                    },
                    condition="#f = :fingerprint",
                )
            )

    def abandon(self, scope: str, key: str, fingerprint: str) -> None:
        """Free the key after a failure, so that the same request can be retried."""
        with contextlib.suppress(ConditionFailed):
            self.table.write(
                Delete(
                    self._pk(scope, key),
                    SK,
                    condition="#f = :fingerprint AND #s = :in_progress",
                    names={"#f": "fingerprint", "#s": "status"},
                    values={":fingerprint": fingerprint, ":in_progress": "in_progress"},
                )
            )
