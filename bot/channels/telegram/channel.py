"""Telegram: a python-telegram-bot Application fed by our webhook route (or by polling)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

from telegram import Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.telegram.keyboards import Recent
from bot.channels.telegram.nudge_buttons import PREFIX as NUDGE_PREFIX
from bot.channels.telegram.nudge_buttons import NudgeButtons
from bot.channels.telegram.rate_limit import SteadyRateLimiter, replies
from bot.channels.telegram.recruiter_chat import RecruiterChat
from bot.channels.telegram.request import AiohttpRequest
from bot.channels.telegram.sender import MessageIds, TelegramSender
from bot.conversation import Conversations
from bot.turns import one_message_per_turn
from core.settings import Settings
from core.texts import phrase

logger = logging.getLogger(__name__)


CONNECTIONS = 256  # to the Bot API, as python-telegram-bot's default for an Application
START_PAYLOAD = "/greet"
# A turn that takes longer than this shows "typing…"; Telegram shows it for 5 s at most, or
# until the bot's next message arrives, so it is sent again every few seconds.
TYPING_AFTER_SECONDS = 0.5
TYPING_EVERY_SECONDS = 4.0


class RecentIds(Recent[int, None]):
    """The update ids seen last; Telegram re-sends an update it saw no 2xx for."""

    def add(self, update_id: int) -> bool:
        """Remember `update_id`; False when it was already seen."""
        if update_id in self:
            return False
        self.remember(update_id, None)
        return True


class TelegramChannel:
    """Owns the PTB Application: handlers and de-duplication; what it sends goes through
    `sender`, Telegram's Channel (bot/channels/telegram/sender.py)."""

    def __init__(
        self,
        settings: Settings,
        conversations: Conversations,
        recruiters: RecruiterChat | None = None,
        nudge_buttons: NudgeButtons | None = None,
    ) -> None:
        assert settings.telegram_bot_token is not None
        self.settings = settings
        self.conversations = conversations
        self.recruiters = recruiters
        self.nudge_buttons = nudge_buttons
        self.seen = MessageIds()
        self.recent = RecentIds()
        self.ready = asyncio.Event()
        self.polling = settings.telegram_webhook_url is None
        self.typing_after = TYPING_AFTER_SECONDS
        self.limiter = limiter = SteadyRateLimiter(settings.telegram_messages_per_second)
        # getUpdates holds its connection open for a long poll: a session of its own.
        self._requests = (
            AiohttpRequest(
                connection_pool_size=CONNECTIONS, trace_configs=[limiter.trace_config()]
            ),
            AiohttpRequest(connection_pool_size=1),
        )
        builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
            Application.builder()
            .token(settings.telegram_bot_token.get_secret_value())
            # Replies, outbox messages and nudges share the bot's ~30 messages/s: paced evenly,
            # each counted from when it is written, a 429's retry_after waited out by every
            # request.
            .rate_limiter(limiter)
            .request(self._requests[0])
            .get_updates_request(self._requests[1])
            # Updates of different chats run side by side; Conversations keeps each chat in order.
            .concurrent_updates(256)
        )
        if settings.telegram_api_base_url:
            base = settings.telegram_api_base_url.rstrip("/")
            builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
        if not self.polling:
            builder = builder.updater(None)
        self.application = builder.build()
        self.sender = TelegramSender(
            settings, self.application.bot, self.seen, connected=self.ready
        )
        self.payloads = self.sender.payloads
        # Whatever a handler sends answers the update it handles: a reply (rate_limit.py).
        # One handler per button family, the first that matches handles the press: a
        # recruiter's buttons under a summary, the buttons under a nudge, else a person's answer.
        if self.recruiters is not None:
            self.application.add_handler(
                CallbackQueryHandler(replies(self._on_recruiter_button), pattern=r"^ho:")
            )
        if self.nudge_buttons is not None:
            self.application.add_handler(
                CallbackQueryHandler(
                    replies(self._on_nudge_button), pattern=f"^{re.escape(NUDGE_PREFIX)}"
                )
            )
        self.application.add_handler(CallbackQueryHandler(replies(self._on_button)))
        self.application.add_handler(MessageHandler(filters.TEXT, replies(self._on_text)))
        self.application.add_handler(
            MessageHandler(filters.ChatType.PRIVATE & ~filters.TEXT, replies(self._on_other))
        )
        self.application.add_error_handler(self._on_error)
        self._starter: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start in the background; Telegram being unreachable must not stop the web chat."""
        self._starter = asyncio.create_task(self._start_with_retries())

    async def _start_with_retries(self) -> None:
        delay = 1.0
        while True:
            try:
                await self._start_once()
            except (TelegramError, OSError) as error:
                logger.warning(
                    "Telegram start failed (%s); retrying in %.0f s", type(error).__name__, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
                continue
            self.ready.set()
            logger.info("Telegram ready (%s)", "polling" if self.polling else "webhook")
            return

    async def _start_once(self) -> None:
        app = self.application
        await app.initialize()  # does nothing the second time
        if self.polling:
            assert app.updater is not None
            if not app.updater.running:
                await app.updater.start_polling(allowed_updates=["message", "callback_query"])
        else:
            assert self.settings.telegram_webhook_url is not None
            assert self.settings.telegram_webhook_secret is not None
            await app.bot.set_webhook(
                url=self.settings.telegram_webhook_url,
                secret_token=self.settings.telegram_webhook_secret.get_secret_value(),
                allowed_updates=["message", "callback_query"],
            )
        if not app.running:
            await app.start()

    async def stop(self) -> None:
        """Stop polling and the application."""
        starter = self._starter
        if starter is not None and not starter.done():
            starter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starter
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()  # does nothing when it was never initialized
        # A start that failed or was cancelled half-way leaves the sessions open.
        for request in self._requests:
            await request.shutdown()

    async def receive(self, data: dict[str, Any]) -> bool:
        """Queue one webhook update; False when its update_id was seen before."""
        update = Update.de_json(data, self.application.bot)
        if not self.recent.add(update.update_id):
            logger.info("Ignoring repeated update %s", update.update_id)
            return False
        await self.application.update_queue.put(update)
        return True

    async def _forward(self, update: Update, message: str) -> None:
        chat = update.effective_chat
        user = update.effective_user
        if chat is None:
            return
        metadata = {
            "channel": "telegram",
            "language_code": user.language_code if user else None,
            "first_name": user.first_name if user else None,
        }
        if update.effective_message is not None:
            self.seen.note(update.effective_message.message_id)
        typing = asyncio.create_task(self._show_typing(chat.id))
        try:
            turn = await self.conversations.handle(f"telegram:{chat.id}", message, metadata)
        finally:
            typing.cancel()
        # One turn, one message: Rasa's bubbles joined, so that no reply waits for the chat's
        # pace and the person sees one answer (bot/turns.py).
        sender = self.sender
        try:
            for reply in one_message_per_turn(turn, sender.text_limit, sender.caption_limit):
                await sender.reply(chat.id, reply)
        finally:
            self.conversations.delivered()

    async def _show_typing(self, chat_id: int) -> None:
        """Show "typing…" while a turn takes longer than a moment; cancelled when it ends."""
        await asyncio.sleep(self.typing_after)
        while True:
            try:
                await self.application.bot.send_chat_action(chat_id, ChatAction.TYPING)
            except TelegramError as error:
                # Only a courtesy: the reply itself is what matters.
                logger.info("Typing indicator failed: %s", type(error).__name__)
            await asyncio.sleep(TYPING_EVERY_SECONDS)

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        chat = update.effective_chat
        if (
            self.recruiters is not None
            and chat is not None
            and await self.recruiters.is_recruiter_chat(chat.id)
        ):
            # A recruiter's chat is not a job seeker's conversation: nothing goes to Rasa.
            await self.recruiters.on_text(chat.id)
            return
        text = message.text.strip()
        if text.split("@")[0] == "/start":
            text = START_PAYLOAD
        elif text.startswith("/"):
            # Other commands are words to understand, not intents to trigger.
            text = text.lstrip("/").replace("_", " ")
        if text:
            await self._forward(update, text)

    async def _on_recruiter_button(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE
    ) -> None:
        assert self.recruiters is not None
        await self.recruiters.on_button(update)

    async def _on_nudge_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert self.nudge_buttons is not None
        await self.nudge_buttons.on_button(update)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        payload = self.payloads.decode(query.data or "")
        # Answering the press and removing the buttons (so a stale one cannot be pressed
        # again) wait until the reply is out, or until the turn takes longer than a moment:
        # two Bot API requests that would otherwise share the processor with the turn.
        answered = asyncio.Event()
        housekeeping = asyncio.create_task(self._tidy_up(update, answered))
        try:
            if payload:
                await self._forward(update, payload)
        finally:
            answered.set()
            for outcome in await housekeeping:
                if isinstance(outcome, Exception):
                    logger.info("Button housekeeping failed: %s", type(outcome).__name__)

    async def _tidy_up(self, update: Update, answered: asyncio.Event) -> tuple[object, ...]:
        """Answer a button press and remove its buttons, once the turn is answered or slow."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(answered.wait(), self.typing_after)
        query = update.callback_query
        assert query is not None
        return tuple(
            await asyncio.gather(
                query.answer(), self._remove_buttons(update), return_exceptions=True
            )
        )

    @staticmethod
    async def _remove_buttons(update: Update) -> None:
        query = update.callback_query
        if query is not None and query.message is not None and query.message.chat is not None:
            await query.edit_message_reply_markup(reply_markup=None)

    async def _on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        user = update.effective_user
        if chat is not None:
            code = user.language_code if user else None
            await self.application.bot.send_message(
                chat.id, phrase("person.gateway.text_only", code)
            )

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # The exception's text can quote the message; its type is enough to find it in a trace.
        error = context.error
        logger.error(
            "Handling a Telegram update failed: %s",
            type(error).__name__,
            exc_info=logger.isEnabledFor(logging.DEBUG),
        )
