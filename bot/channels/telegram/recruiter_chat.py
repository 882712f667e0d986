"""A recruiter's Telegram chat with the bot: the buttons under a summary, and their messages.

A chat registered for a recruiter (`werkmaatje recruiters add --telegram-chat-id`) is not a
job seeker's conversation: its messages never go to Rasa. Everything the bot writes there
goes through the outbox, so every message id in that chat is known
(bot/channels/telegram/sender.py relies on it to find a send that a crash cut off).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from telegram import Update

from bot.channels.telegram.keyboards import keyboard
from core.db import in_thread
from core.languages import reader_language
from core.settings import Settings
from core.texts import keys, phrase
from core.time import utcnow
from store.handovers import (
    HandoverError,
    apply_action,
    buttons,
    first_name,
    mark_delivered,
)
from store.models import Handover, OutboxMessage, Recruiter

logger = logging.getLogger(__name__)

REFUSALS = frozenset(keys("recruiter.refused"))

_CACHE_SECONDS = 30.0


def parse_button(data: str) -> tuple[str, int] | None:
    """The action and handover id of a recruiter button (`ho:accept:12`)."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != "ho" or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


def record_delivery(
    session: Session, *, handover_id: int, chat_id: str, message_id: int, now: datetime
) -> None:
    """A button was pressed under a summary whose send was never recorded: it arrived."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.handover_id == handover_id,
            OutboxMessage.channel == "telegram",
            OutboxMessage.recipient == chat_id,
            OutboxMessage.status == "sending",
        )
        .values(
            status="sent", sent_at=now, provider_message_id=str(message_id), claimed_until=None
        )
    )
    mark_delivered(handover_id, now, session=session)


@dataclass(frozen=True)
class ButtonOutcome:
    """What a recruiter's button press led to, for the answer and the buttons left."""

    language: str
    # "done", or why nothing happened: a HandoverError code (a name under recruiter.refused)
    code: str
    left: list[tuple[str, str]] = field(default_factory=list)  # the buttons that still fit
    status: str | None = None  # "done": the new status, in the recruiter's language


class RecruiterChat:
    """Handles what recruiters do in Telegram; wakes the outbox for what it queues."""

    def __init__(
        self, settings: Settings, engine: Callable[[], Engine], wake: Callable[[], None]
    ) -> None:
        self.settings = settings
        self._engine = engine
        self._wake = wake
        self._chats: frozenset[str] = frozenset()
        self._read_at = 0.0

    async def _in_session(self, work: Callable[[Session], Any]) -> Any:
        return await in_thread(self._engine(), work)

    async def is_recruiter_chat(self, chat_id: int) -> bool:
        """Whether a chat belongs to a recruiter (cached briefly: asked for every message)."""
        if time.monotonic() - self._read_at > _CACHE_SECONDS:
            try:
                chats = await self._in_session(
                    lambda session: session.scalars(
                        select(Recruiter.telegram_chat_id).where(
                            Recruiter.telegram_chat_id.is_not(None)
                        )
                    ).all()
                )
            except Exception as error:  # a database outage must not stop the chat
                logger.warning("Recruiter chats unknown: %s", type(error).__name__)
                return str(chat_id) in self._chats
            self._chats = frozenset(str(chat) for chat in chats)
            self._read_at = time.monotonic()
        return str(chat_id) in self._chats

    async def on_text(self, chat_id: int) -> None:
        """A recruiter wrote to the bot: say where the handovers are (through the outbox)."""

        def queue(session: Session) -> None:
            recruiter = session.scalars(
                select(Recruiter).where(Recruiter.telegram_chat_id == str(chat_id))
            ).first()
            if recruiter is None:
                return
            language = reader_language(recruiter.languages)
            url = self.settings.public_base_url.rstrip("/") + "/recruiter"
            session.add(
                OutboxMessage(
                    idempotency_key=f"recruiter:{recruiter.id}:hello:{uuid4().hex}",
                    channel="telegram",
                    recipient=str(chat_id),
                    payload={
                        "kind": "recruiter_hello",
                        "text": phrase(
                            "recruiter.chat.hello",
                            language,
                            name=first_name(recruiter.name),
                            url=url,
                        ),
                    },
                )
            )

        await self._in_session(queue)
        self._wake()

    async def on_button(self, update: Update) -> None:
        """A recruiter pressed a button under a summary: change the status, say so."""
        query = update.callback_query
        chat = update.effective_chat
        if query is None or chat is None:
            return
        parsed = parse_button(query.data or "")
        if parsed is None:
            await query.answer()
            return
        action, handover_id = parsed
        message = query.message
        message_id = message.message_id if message is not None else None
        now = utcnow()

        def work(session: Session) -> ButtonOutcome:
            recruiter = session.scalars(
                select(Recruiter).where(Recruiter.telegram_chat_id == str(chat.id))
            ).first()
            language = reader_language(recruiter.languages if recruiter else None)
            if recruiter is None:
                return ButtonOutcome(language, "not_yours")
            if message_id is not None:
                record_delivery(
                    session,
                    handover_id=handover_id,
                    chat_id=str(chat.id),
                    message_id=message_id,
                    now=now,
                )
            try:
                handover = apply_action(
                    session=session,
                    handover_id=handover_id,
                    recruiter_id=recruiter.id,
                    action=action,
                    now=now,
                    contact_days=self.settings.handover_contact_working_days,
                )
            except HandoverError as error:
                current = session.get(Handover, handover_id)
                left = (
                    buttons(current.status, language, handover_id)
                    if current is not None and current.recruiter_id == recruiter.id
                    else []
                )
                return ButtonOutcome(language, str(error), left=left)
            return ButtonOutcome(
                language,
                "done",
                left=buttons(handover.status, language, handover_id)
                if handover.recruiter_id == recruiter.id
                else [],
                status=phrase(f"recruiter.status.{handover.status}", language),
            )

        try:
            outcome = await self._in_session(work)
        except Exception as error:
            logger.error("A recruiter button failed: %s", type(error).__name__)
            await query.answer(phrase("recruiter.chat.unavailable", "nl"), show_alert=True)
            return
        self._wake()
        if outcome.code == "done":
            answer = phrase("recruiter.chat.done", outcome.language, status=outcome.status)
        else:
            refused = outcome.code if outcome.code in REFUSALS else "not_now"
            answer = phrase(f"recruiter.refused.{refused}", outcome.language)
        logger.info("Recruiter button %s on handover %s: %s", action, handover_id, outcome.code)
        await query.answer(answer)
        if message is not None:
            # The buttons left fit the new status; editing keeps the message id, so every
            # message id in the chat stays known.
            markup = keyboard({"buttons": outcome.left})
            try:
                await query.edit_message_reply_markup(reply_markup=markup)
            except Exception as error:
                logger.info("Updating the buttons failed: %s", type(error).__name__)
