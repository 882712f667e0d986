"""The person's data rights, carried out by the gateway once Rasa has finished a turn.

Rasa writes a turn's events to its tracker store before it answers, and appends by counting
the rows it already has: deleting a conversation while Rasa is still in that turn would make
it write the whole conversation again. So the actions only ask (a `werkmaatje` command in a
custom payload) and the gateway deletes or exports after the turn, still holding the person's
lock, so no next message can start meanwhile. The same holds for removing health words from
the stored conversation: the words are needed to answer, then removed from the history.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.rasa_client import Document, Reply
from core.db import engine_for, session_scope
from core.privacy import mentions_health, redact_health
from core.texts import phrase
from store.conversation import redact_events
from store.deletion import delete_sender
from store.export import export_job_seeker

logger = logging.getLogger(__name__)

EXPORT_FILENAME = "werkmaatje-gegevens.json"
# Events of this turn carry timestamps from just before the message was sent.
_CLOCK_MARGIN = 5.0


class DataRights:
    """Export, deletion and health-word removal on the project database."""

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url

    @property
    def engine(self) -> Engine:
        """The project database (one pool per process)."""
        return engine_for(self._database_url)

    async def after_turn(
        self, sender: str, message: str, started: float, replies: list[Reply]
    ) -> list[Reply]:
        """Carry out the commands in Rasa's replies and clean the turn's stored events."""
        if mentions_health(message):
            await self._redact(sender, started - _CLOCK_MARGIN)
        done = []
        for reply in replies:
            if reply.command == "export":
                done.append(await self._export(sender, reply))
            elif reply.command == "delete":
                done.append(await self._delete(sender, reply))
            else:
                done.append(reply)
        return done

    async def _redact(self, sender: str, since: float) -> None:
        def work() -> int:
            with session_scope(self.engine) as session:
                return redact_events(sender, since, redact_health, session=session)

        try:
            await asyncio.to_thread(work)
        except SQLAlchemyError:
            # Retried for the whole conversation at the next message that needs it; the
            # retention job deletes unconsented conversations within a day regardless.
            logger.error("Removing health words from a stored conversation failed")

    async def _export(self, sender: str, reply: Reply) -> Reply:
        channel, _, user_id = sender.partition(":")

        def work() -> bytes | None:
            with session_scope(self.engine) as session:
                try:
                    data = export_job_seeker(
                        session=session, channel=channel, channel_user_id=user_id
                    )
                except LookupError:
                    return None
            return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")

        try:
            content = await asyncio.to_thread(work)
        except SQLAlchemyError:
            logger.error("An export failed; the database is unavailable")
            return Reply(text=phrase("person.gateway.export_failed", reply.language))
        if content is None:
            return Reply(text=phrase("person.gateway.nothing_stored", reply.language))
        return replace(
            reply,
            command=None,
            document=Document(filename=EXPORT_FILENAME, content=content),
        )

    async def _delete(self, sender: str, reply: Reply) -> Reply:
        def work() -> None:
            with session_scope(self.engine) as session:
                delete_sender(sender, session=session, reason="request")

        try:
            await asyncio.to_thread(work)
        except SQLAlchemyError:
            logger.error("A deletion failed; the database is unavailable")
            return Reply(text=phrase("person.gateway.delete_failed", reply.language))
        logger.info("A person's data was deleted at their request")
        return Reply(text=phrase("person.gateway.deleted", reply.language))
