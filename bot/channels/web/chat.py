"""The local web chat: an HTML page and a JSON endpoint, one conversation per browser cookie."""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable
from importlib import resources
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from bot.conversation import Conversations
from bot.rasa_client import Reply
from core.db import in_thread
from core.time import utcnow
from store.outbox import take_inbox

logger = logging.getLogger(__name__)

COOKIE = "werkmaatje_session"
MAX_TEXT = 2000
MAX_BODY = 16_384
_SESSION = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class WebChat:
    """Serves /chat and forwards its messages as `web:<session>`."""

    def __init__(
        self, conversations: Conversations, engine: Callable[[], Engine] | None = None
    ) -> None:
        self.conversations = conversations
        self._engine = engine
        self.page = (
            resources.files("bot.channels.web").joinpath("static/chat.html").read_text("utf-8")
        )

    async def page_view(self, request: Request) -> Response:
        """The chat page."""
        return HTMLResponse(self.page, headers={"Cache-Control": "no-store"})

    async def message_view(self, request: Request) -> Response:
        """Forward one message (`text`, or a button's `payload`) and return the bot's replies."""
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return _error(413, "The message is too long.")
        body = await request.body()
        if len(body) > MAX_BODY:
            return _error(413, "The message is too long.")
        try:
            data: Any = json.loads(body)
        except ValueError:
            return _error(400, 'Send JSON such as {"text": "hoi"}.')
        if not isinstance(data, dict):
            return _error(400, 'Send JSON such as {"text": "hoi"}.')
        message = data.get("payload") or data.get("text")
        if not isinstance(message, str) or not message.strip():
            return _error(400, 'The message is empty: put your words in "text".')
        message = message.strip()
        if len(message) > MAX_TEXT:
            return _error(413, f"The message is too long: at most {MAX_TEXT} characters.")
        language = data.get("language")
        language_code = language[:16] if isinstance(language, str) else None

        session = request.cookies.get(COOKIE, "")
        new_session = not _SESSION.match(session)
        if new_session:
            session = secrets.token_urlsafe(24)
        metadata = {"channel": "web", "language_code": language_code, "first_name": None}
        replies = await self.conversations.handle(f"web:{session}", message, metadata)
        # News from a recruiter waits here: the web chat has no way to push it.
        replies = [Reply(text=text) for text in await self._inbox(session)] + replies
        response = JSONResponse(
            {"messages": [reply.as_json() for reply in replies]},
            background=BackgroundTask(self._delivered),
        )
        if new_session:
            response.set_cookie(
                COOKIE, session, max_age=60 * 60 * 24 * 365, httponly=True, samesite="strict"
            )
        return response

    async def _delivered(self) -> None:
        # A coroutine, so that Starlette runs it on the event loop, not in a thread.
        self.conversations.delivered()

    async def _inbox(self, session: str) -> list[str]:
        """Waiting status messages for this browser session (empty when none, or on failure)."""
        if self._engine is None:
            return []
        try:
            return await in_thread(
                self._engine(),
                lambda db: take_inbox(session=db, channel="web", recipient=session, now=utcnow()),
            )
        except SQLAlchemyError:
            logger.warning("Waiting web chat messages could not be read")
            return []
