"""Telegram as a Channel: the replies in a person's chat, and for the outbox summaries and
notices to recruiters, nudges and status messages to people, with the search for a send that a
restart cut off.

How a send cut off by a restart is found again: docs/architecture.md, "The outbox".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from telegram import Bot, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.channels import Ambiguous, Blocked, PermanentError, RetryLater, Superseded
from bot.channels.telegram.keyboards import BUTTONS, CallbackPayloads, keyboard, reply_keyboard
from bot.rasa_client import Reply
from core.settings import Settings
from store.channels import TELEGRAM, can_address
from store.outbox import Claimed

logger = logging.getLogger(__name__)

NOT_MODIFIED = "message is not modified"
TEXT_LIMIT = 4096  # characters of a message's text, as Telegram counts them
CAPTION_LIMIT = 1024  # characters of a photo's or document's caption


class MessageIds:
    """The newest Telegram message id this gateway has seen, for where to start looking.

    In private chats (and basic groups) a bot's message ids come from one sequence across
    all its chats, so the newest id seen anywhere, taken just before a send, is a close lower
    bound for that send's id. Supergroups (ids starting -100) count per chat: there only the
    chat's own recorded ids count.

    The same sequence bounds a cut-off send from above: every message this process has sent
    was made after the sends a killed predecessor cut off. (An update can be older: Telegram
    delivers again what a killed gateway did not answer.)
    """

    def __init__(self) -> None:
        self.newest = 0
        self.first_sent = 0  # the id of the first message this process sent
        self.newest_sent = 0

    def note(self, message_id: int | None, *, sent: bool = False) -> None:
        """Remember an id from an update or (`sent`) from one of our sends."""
        if message_id is None:
            return
        self.newest = max(self.newest, message_id)
        if sent:
            self.first_sent = self.first_sent or message_id
            self.newest_sent = max(self.newest_sent, message_id)

    def ceiling(self, start: int) -> int | None:
        """The highest id a send cut off before `start`'s claim can have in a private chat, when
        known: below the first send after a restart, else at most the newest send since."""
        if self.first_sent >= start:  # sent only since the cut-off: a restart
            return self.first_sent - 1
        if self.newest_sent >= start:
            return self.newest_sent
        return None

    def floor(self, chat_id: str, recorded: int | None) -> int | None:
        """Where a cut-off send to `chat_id` can start, from the chat's recorded ids and ours."""
        if chat_id.startswith("-100"):
            return recorded
        return max(recorded or 0, self.newest) or None


class TelegramSender:
    """Telegram as a Channel, through the gateway's Bot.

    `connected` is set once the Bot is (bot/channels/telegram/channel.py starts it); without
    one the Bot is taken to be connected.
    """

    name = TELEGRAM
    buttons = BUTTONS
    text_limit = TEXT_LIMIT
    caption_limit = CAPTION_LIMIT

    def __init__(
        self,
        settings: Settings,
        bot: Bot,
        seen: MessageIds | None = None,
        *,
        connected: asyncio.Event | None = None,
        payloads: CallbackPayloads | None = None,
    ) -> None:
        self.settings = settings
        self.bot = bot
        self.seen = seen or MessageIds()
        self.payloads = payloads or CallbackPayloads()
        self._connected = connected

    async def reply(self, recipient: int | str, message: Reply) -> None:
        """Send one message of a turn's answer to the chat the person wrote in."""
        bot = self.bot
        chat_id = int(recipient)
        markup = reply_keyboard(message, self.payloads)
        if message.document is not None:
            # Only ever to the chat the request came from: the export is the person's own.
            document = InputFile(message.document.content, filename=message.document.filename)
            sent = await bot.send_document(chat_id, document, caption=message.text)
        elif message.image:
            sent = await bot.send_photo(
                chat_id, message.image, caption=message.text, reply_markup=markup
            )
        elif message.text:
            sent = await bot.send_message(chat_id, message.text, reply_markup=markup)
        else:
            return
        self.seen.note(sent.message_id, sent=True)

    async def can_reach(self, recipient: str) -> bool:
        """Any time, unless the person blocked the bot: a 403 marks their identity blocked
        (ChannelIdentity.blocked_at, cleared when they ask for nudges again), and the store
        offers no blocked identity for a nudge, so every chat that gets here can be reached."""
        return True

    def _is_connected(self) -> bool:
        return self._connected is None or self._connected.is_set()

    async def ready(self) -> bool:
        """Whether the Bot is connected (it is not yet while the gateway starts)."""
        return self._is_connected()

    def floor(self, recipient: str, recorded: int | None) -> int | None:
        """Where a cut-off send to a chat can start (MessageIds.floor)."""
        return self.seen.floor(recipient, recorded)

    async def send(self, row: Claimed, still_mine: Callable[[], Awaitable[bool]]) -> str | None:
        """Send the row to its chat; Telegram's message id."""
        if not self._is_connected():
            raise RetryLater("Telegram is not connected yet", delay=5.0)
        bot = self.bot
        if not can_address(TELEGRAM, row.recipient):
            raise PermanentError("not a Telegram chat id")
        chat_id = int(row.recipient)
        markup = keyboard(row.payload)
        try:
            if row.recovered and markup is not None:
                found = await self._find_cut_off_send(bot, chat_id, row, markup)
                if found is not None:
                    logger.info("Outbox #%s had reached Telegram before a restart", row.id)
                    return str(found)
                # The look-up took time: send only while the row is still this worker's.
                if not await still_mine():
                    raise Superseded(f"outbox #{row.id} was taken over by another worker")
            message = await bot.send_message(
                chat_id,
                row.payload["text"],
                parse_mode=row.payload.get("parse_mode"),
                reply_markup=markup,
            )
        except Forbidden as error:
            raise Blocked("the bot was blocked or removed from the chat") from error
        except BadRequest as error:
            raise PermanentError(f"Telegram refused: {error.message}") from error
        except RetryAfter as error:
            delay = error.retry_after
            seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
            raise RetryLater("Telegram asked to slow down", delay=seconds) from error
        except TimedOut as error:
            # The request may have arrived: look for it before sending again.
            raise Ambiguous("Telegram timed out") from error
        except NetworkError as error:
            raise RetryLater(f"Telegram unreachable ({type(error).__name__})") from error
        self.seen.note(message.message_id, sent=True)
        return str(message.message_id)

    async def _find_cut_off_send(
        self, bot: Bot, chat_id: int, row: Claimed, markup: InlineKeyboardMarkup
    ) -> int | None:
        """The id of this row's message if an earlier, cut-off attempt delivered it."""
        start = (row.previous_message_id or 0) + 1
        end = start + self.settings.outbox_probe_limit - 1
        ceiling = None if str(chat_id).startswith("-100") else self.seen.ceiling(start)
        if ceiling is not None:
            end = min(end, ceiling)
        for message_id in range(start, end + 1):
            try:
                await bot.edit_message_reply_markup(chat_id, message_id, reply_markup=markup)
            except BadRequest as error:
                if NOT_MODIFIED in error.message.lower():
                    return message_id
                continue  # not in this chat, or not ours
            # Edited without complaint: a message of ours no send recorded, so this one.
            return message_id
        return None
