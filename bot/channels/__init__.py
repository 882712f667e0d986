"""Channels: how a message comes in from a person and how one goes out to them or to a recruiter.

Each channel has its folder (web/, telegram/, email/; whatsapp/ next). What the outbox worker
(bot/delivery/outbox.py) needs of a channel is a `Sender`; the failures below are how a sender
tells it what to do with a row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from store.outbox import Claimed


class Sender(Protocol):
    """Sends claimed outbox rows on one channel."""

    channel: str  # the name in OutboxMessage.channel (store/channels.py)

    async def ready(self) -> bool:
        """Whether the channel can send now; its rows are left alone (attempts unused) if not."""
        ...

    def floor(self, recipient: str, recorded: int | None) -> int | None:
        """Where a send cut off by a restart can start, for channels that number their messages
        (store.channels.NUMBERED_MESSAGES): the recorded newest id, or a better one."""
        ...

    async def send(self, row: Claimed, still_mine: Callable[[], Awaitable[bool]]) -> str | None:
        """Send one row; the channel's message id when it has one. `still_mine` renews the
        claim and says whether the row is still this worker's (before a late send)."""
        ...


class PermanentError(Exception):
    """A delivery that can never succeed (blocked bot, unknown address)."""


class Superseded(Exception):
    """Another worker claimed the row meanwhile; it sends, this one lets go."""


class Blocked(PermanentError):
    """The person blocked the bot (Telegram 403)."""


class RetryLater(Exception):
    """A delivery to try again, after `delay` seconds when given."""

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


class Ambiguous(Exception):
    """The channel may or may not have the message (a timeout after sending)."""
