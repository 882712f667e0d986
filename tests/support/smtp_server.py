"""A real SMTP server in the test process (aiosmtpd), keeping what it receives."""

from __future__ import annotations

import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.stack import free_port


class _Handler:
    """Keeps each message; answers a set reply instead while `refuse_with` is set."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        """Accept (and keep) or refuse one message."""
        with self.server.lock:
            if self.server.refuse_with is not None:
                return self.server.refuse_with
            content = envelope.original_content or b""
            parsed = message_from_bytes(content, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            self.server.received.append((list(envelope.rcpt_tos), parsed))
            self.server.lock.notify_all()
        return "250 Message accepted for delivery"


class SmtpServer:
    """Listens on a free loopback port; `received` holds (recipients, message) pairs."""

    def __init__(self) -> None:
        self.port = free_port()
        self.lock = threading.Condition()
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.refuse_with: str | None = None
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpServer:
        """Start serving in aiosmtpd's thread."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def messages_to(self, address: str) -> list[EmailMessage]:
        """Messages received for one recipient."""
        with self.lock:
            return [message for rcpts, message in self.received if address in rcpts]

    def wait_for(self, address: str, count: int, timeout: float = 30.0) -> list[EmailMessage]:
        """Wait until `count` messages for `address` arrived."""
        with self.lock:
            if not self.lock.wait_for(
                lambda: len([1 for rcpts, _ in self.received if address in rcpts]) >= count,
                timeout=timeout,
            ):
                raise AssertionError(
                    f"{count} message(s) to {address} not received in {timeout} s"
                )
            return [message for rcpts, message in self.received if address in rcpts]
