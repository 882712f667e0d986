"""Channels: how a message comes in from a person and how one goes out to them or to a recruiter.

Each channel has its folder (web/, telegram/, email/; whatsapp/ next): the channel in (a route,
or python-telegram-bot's Application) and, in its sender.py, the channel's `Channel`: how it
sends. The gateway (bot/gateway.py) builds the channels once and hands them to the outbox worker
(bot/delivery/outbox.py), which sends the outbox's rows, nudges among them, through them. The
failures below are how a channel tells the outbox what to do with a row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.rasa_client import Reply
from store.outbox import Claimed


@dataclass(frozen=True)
class ButtonRules:
    """The buttons a channel can show under one message; None: no limit that matters.

    Telegram: as many as wanted, callback data of at most 64 bytes (a longer payload goes as a
    token the channel maps back). WhatsApp: at most 3 reply buttons, titles of at most 20
    characters. The web chat: anything. E-mail: none (a summary links to the recruiter page).
    """

    most: int | None = None  # buttons under one message
    title: int | None = None  # characters of a button's title
    data: int | None = None  # bytes of what a press sends back


class Channel(Protocol):
    """One channel as the gateway sends on it.

    What its messages may hold (`buttons`, `text_limit`, `caption_limit`), the bot's answer to
    a person's own message (`reply`), whether a message the person did not ask for may go to
    them now (`can_reach`: the outbox asks it before it sends a nudge), and the outbox's rows
    (`ready`, `floor`, `send`).

    Telegram any time, unless the person blocked the bot; WhatsApp only within 24 hours of the
    person's last message; the web chat never (what waits for a browser is handed over with the
    answer to its next message); e-mail goes to recruiters only.
    """

    name: str  # the name in OutboxMessage.channel and ChannelIdentity.channel (store/channels.py)
    buttons: ButtonRules

    @property
    def text_limit(self) -> int | None:
        """The most characters (UTF-16 code units) of one message's text; a turn's longer text
        is split (bot/turns.py)."""
        ...

    @property
    def caption_limit(self) -> int | None:
        """The most characters of an image's or a document's caption; a longer one goes before
        the file as a text of its own."""
        ...

    async def reply(self, recipient: str, message: Reply) -> None:
        """Send one message of the bot's answer to a person's own message (text and buttons, an
        image or a document), already within the limits above (bot/turns.py). The web chat
        answers in the response to the person's request instead (bot/channels/web/chat.py),
        and e-mail carries no conversation: theirs raises NotImplementedError."""
        ...

    async def can_reach(self, recipient: str) -> bool:
        """Whether a message the person did not ask for (a nudge) may go to them now. The store
        chooses whom to nudge and where by store.channels.NUDGE_CHANNELS; this is the last word
        before the send."""
        ...

    async def ready(self) -> bool:
        """Whether the channel can send now; its rows are left alone (attempts unused) if not."""
        ...

    def floor(self, recipient: str, recorded: int | None) -> int | None:
        """Where a send cut off by a restart can start, for channels that number their messages
        (store.channels.NUMBERED_MESSAGES): the recorded newest id, or a better one."""
        ...

    async def send(self, row: Claimed, still_mine: Callable[[], Awaitable[bool]]) -> str | None:
        """Send one outbox row; the channel's message id when it has one. `still_mine` renews
        the claim and says whether the row is still this worker's (before a late send)."""
        ...


class WithoutConversation:
    """What the channels that carry no conversation of their own share (e-mail, and the web chat,
    which answers in the response to each request): no reply to send, no limits on a text, and
    no numbered messages (a cut-off send is found by its idempotency key instead)."""

    name: str
    text_limit: int | None = None
    caption_limit: int | None = None

    async def reply(self, recipient: str, message: Reply) -> None:
        """Not this channel's: see the class."""
        raise NotImplementedError(f"the {self.name} channel sends no conversation replies")

    def floor(self, recipient: str, recorded: int | None) -> int | None:
        """Not numbered: the recorded id as it is."""
        return recorded


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
