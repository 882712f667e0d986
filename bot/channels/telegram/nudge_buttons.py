"""The buttons under a nudge: "Ik heb hem gedaan" records a finished module, "Stop de
berichtjes" withdraws the nudge consent at once (as easy as giving it)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from telegram import Update

from core.db import in_thread
from core.texts import phrase
from core.time import utcnow
from store.deletion import withdraw_consent
from store.models import JobSeeker, NudgeLog
from store.nudge_dispatch import DONE_PREFIX, STOP_PREFIX, id_after, owner, record_completion

logger = logging.getLogger(__name__)

PREFIX = "nudge:"


def stop_from_button(session: Session, *, nudge_log_id: int, channel_user_id: str) -> bool:
    """Withdraw the nudge consent of the person a nudge was sent to; False if not theirs."""
    row = session.get(NudgeLog, nudge_log_id)
    seeker_id = owner("telegram", channel_user_id, session=session)
    if row is None or seeker_id is None or row.job_seeker_id != seeker_id:
        return False
    seeker = session.get(JobSeeker, seeker_id)
    assert seeker is not None
    withdraw_consent(seeker, "nudges", session=session, channel="telegram")
    return True


class NudgeButtons:
    """Answers presses on a nudge's buttons in Telegram."""

    def __init__(self, engine: Callable[[], Engine]) -> None:
        self._engine = engine

    async def on_button(self, update: Update) -> None:
        """Handle a `nudge:` button press."""
        query = update.callback_query
        if query is None or query.from_user is None:
            return
        data = query.data or ""
        user_id = str(query.from_user.id)
        language = query.from_user.language_code
        now = utcnow()
        done_id = id_after(data, DONE_PREFIX)
        stop_id = id_after(data, STOP_PREFIX)
        if done_id is not None:
            ok = await in_thread(
                self._engine(),
                lambda session: record_completion(
                    session=session,
                    nudge_log_id=done_id,
                    channel="telegram",
                    channel_user_id=user_id,
                    now=now,
                ),
            )
            await query.answer(
                phrase(
                    "person.gateway.nudge_done" if ok else "person.gateway.nudge_not_yours",
                    language,
                )
            )
            return
        if stop_id is not None:
            ok = await in_thread(
                self._engine(),
                lambda session: stop_from_button(
                    session, nudge_log_id=stop_id, channel_user_id=user_id
                ),
            )
            if not ok:
                await query.answer(phrase("person.gateway.nudge_not_yours", language))
                return
            await query.answer()
            await query.edit_message_reply_markup(reply_markup=None)
            if query.message is not None:
                await query.get_bot().send_message(
                    query.message.chat.id, phrase("person.gateway.nudges_stopped", language)
                )
            return
        await query.answer()
