"""E-mail as a Channel: handover notices and summaries to recruiters, over SMTP."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.utils import formatdate

from bot.channels import ButtonRules, PermanentError, RetryLater, WithoutConversation
from core.settings import Settings
from store.channels import EMAIL
from store.outbox import Claimed


def email_message(settings: Settings, row: Claimed) -> EmailMessage:
    """The e-mail for a row: plain text with an HTML alternative, a stable Message-ID."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = row.recipient
    message["Subject"] = row.payload.get("subject") or "Werkmaatje"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = row.payload.get("message_id") or f"<outbox-{row.id}@werkmaatje>"
    message.set_content(row.payload["text"])
    if row.payload.get("html"):
        message.add_alternative(row.payload["html"], subtype="html")
    return message


def send_email(settings: Settings, message: EmailMessage) -> None:
    """Hand one e-mail to the SMTP server (blocking; run it in a thread)."""
    assert settings.smtp_host is not None
    timeout = settings.smtp_timeout_seconds
    try:
        client: smtplib.SMTP
        if settings.smtp_security == "ssl":
            client = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with client:
            if settings.smtp_security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_username and settings.smtp_password is not None:
                client.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentError("recipient refused") from error
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:
            raise PermanentError(f"SMTP {error.smtp_code}") from error
        raise RetryLater(f"SMTP {error.smtp_code}") from error
    except (smtplib.SMTPException, OSError) as error:
        raise RetryLater(type(error).__name__) from error


class EmailSender(WithoutConversation):
    """E-mail as a Channel: one SMTP conversation per message, to recruiters only; a repeated
    e-mail keeps its Message-ID."""

    name = EMAIL
    buttons = ButtonRules(most=0)  # none: a summary links to the recruiter page instead

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def can_reach(self, recipient: str) -> bool:
        """Any time: e-mail goes to recruiters only (store/handovers.py), who asked for it."""
        return True

    async def ready(self) -> bool:
        """An SMTP server is only reached when there is something to send."""
        return True

    async def send(self, row: Claimed, still_mine: Callable[[], Awaitable[bool]]) -> str | None:
        """Hand the row's e-mail to the SMTP server, off the event loop."""
        await asyncio.to_thread(send_email, self.settings, email_message(self.settings, row))
        return None
