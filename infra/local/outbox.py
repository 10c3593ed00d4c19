"""Every mail the platform sent, read back from the emulator (works for an external moto
server too, through its ``/moto-api/data.json``)."""

from __future__ import annotations

import json
import urllib.request
from email import message_from_string, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any


def _part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    return str(part.get_content()) if part is not None else ""


def _sent_messages(endpoint_url: str, region: str) -> dict[str, list[dict[str, Any]]]:
    """The emulator's sent mail: straight from its SES backend when it runs in this process
    (cheap), else through moto's state dump (which holds every service's state)."""
    from infra.local.emulator import running_here

    if running_here(endpoint_url):
        from moto.core import DEFAULT_ACCOUNT_ID  # type: ignore[attr-defined]
        from moto.ses.models import RawMessage, ses_backends

        sent = ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages
        return {
            "RawMessage": [
                {"raw_data": m.raw_data, "destinations": m.destinations}
                for m in list(sent)
                if isinstance(m, RawMessage)
            ],
            "Message": [
                {"subject": m.subject, "body": m.body, "destinations": m.destinations}
                for m in list(sent)
                if not isinstance(m, RawMessage) and hasattr(m, "subject")
            ],
        }
    with urllib.request.urlopen(f"{endpoint_url}/moto-api/data.json", timeout=10) as response:  # noqa: S310
        return json.load(response).get("ses", {})  # type: ignore[no-any-return]


def read_outbox(endpoint_url: str, region: str = "eu-west-1") -> list[dict[str, Any]]:
    ses = _sent_messages(endpoint_url, region)
    mails: list[dict[str, Any]] = []
    for raw in ses.get("RawMessage", []):
        message = message_from_string(raw["raw_data"], policy=policy.default)
        assert isinstance(message, EmailMessage)
        date = message.get("Date")
        mails.append(
            {
                "to": list(dict.fromkeys(raw.get("destinations") or [message.get("To", "")])),
                "subject": str(message.get("Subject", "")),
                "text": _part(message, "plain"),
                "html": _part(message, "html"),
                "sent_at": parsedate_to_datetime(date).strftime("%Y-%m-%dT%H:%M:%SZ") if date else None,
            }
        )
    for plain in ses.get("Message", []):  # mails sent as Simple content
        mails.append(
            {
                "to": plain.get("destinations", {}).get("ToAddresses", []),
                "subject": plain["subject"],
                "text": plain["body"],
                "html": plain["body"],
                "sent_at": None,
            }
        )
    return mails
