"""Forwarding one person's messages to Rasa one at a time, whatever channel they come from."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from bot.data_rights import DataRights
from bot.language import guess_language
from bot.rasa_client import RasaClient, RasaUnavailable, Reply
from core.texts import phrase


class Conversations:
    """Serialises each sender's messages; Rasa's lock store alone does not guarantee order."""

    def __init__(
        self,
        rasa: RasaClient,
        data_rights: DataRights | None = None,
        on_turn: Callable[[], None] | None = None,
    ) -> None:
        self._rasa = rasa
        self._data_rights = data_rights
        # Called by `delivered` after each turn: the actions may have queued messages for the
        # outbox.
        self._on_turn = on_turn
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def _turn(self, sender: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(sender, (asyncio.Lock(), 0))
        self._locks[sender] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[sender]
            if users == 1:
                del self._locks[sender]
            else:
                self._locks[sender] = (lock, users - 1)

    async def handle(self, sender: str, message: str, metadata: dict[str, Any]) -> list[Reply]:
        """Rasa's replies to one message, or an apology when Rasa cannot be reached."""
        if not message.startswith("/"):
            # Rasa's first action of a session sees only metadata, not the text: pass a hint.
            metadata = {**metadata, "text_language": guess_language(message)}
        async with self._turn(sender):
            started = time.time()
            try:
                replies = await self._rasa.send(sender, message, metadata)
            except RasaUnavailable:
                code = metadata.get("language_code")
                return [
                    Reply(
                        text=phrase(
                            "person.gateway.unavailable", code if isinstance(code, str) else None
                        )
                    )
                ]
            if self._data_rights is None:
                return replies
            return await self._data_rights.after_turn(sender, message, started, replies)

    def delivered(self) -> None:
        """Call once a turn's replies are out: what its actions queued (a summary for a
        recruiter, say) goes next. Not beside the reply, whose send it would slow down."""
        if self._on_turn is not None:
            self._on_turn()
