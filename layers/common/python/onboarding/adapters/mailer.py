"""Sends the domain's mails through SES (v2), as multipart text + HTML."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from onboarding.adapters import aws
from onboarding.domain.errors import MailNotSent
from onboarding.domain.mail import Mail
from onboarding.domain.rules import now


class SesMailer:
    def __init__(self, sender: str, configuration_set: str | None = None, client: Any | None = None) -> None:
        self.sender = sender
        self.configuration_set = configuration_set
        self._client = client

    def send(self, mail: Mail) -> str:
        message = EmailMessage()
        message["Subject"] = mail.subject
        message["From"] = self.sender
        message["To"] = mail.to
        message["Date"] = format_datetime(now())
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
        params: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": [mail.to]},
            "Content": {"Raw": {"Data": message.as_bytes()}},
        }
        if self.configuration_set:
            params["ConfigurationSetName"] = self.configuration_set
        client = self._client if self._client is not None else aws.sesv2()
        try:
            response = client.send_email(**params)
        except Exception as exc:  # any SES or network failure: the caller decides what it means
            raise MailNotSent(aws.error_code(exc) or type(exc).__name__) from exc
        return str(response.get("MessageId", ""))
