"""Talking to Rasa's REST channel: one user message in, the bot's replies out."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa did not answer (down, starting, overloaded or erroring)."""


@dataclass(frozen=True)
class Button:
    """A button under a reply; pressing it sends `payload` back to Rasa."""

    title: str
    payload: str


@dataclass(frozen=True)
class Document:
    """A file sent in the chat (the person's data export)."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class Reply:
    """One message from the bot.

    `command` is an instruction from the actions to the gateway ("export", "delete"), sent
    as the custom payload `{"werkmaatje": {"command": ..., "language": ...}}`; the gateway
    carries it out after the turn (bot/data_rights.py) and never shows it.
    """

    text: str | None = None
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    image: str | None = None
    document: Document | None = None
    command: str | None = None
    language: str | None = None

    @classmethod
    def from_rasa(cls, data: dict[str, Any]) -> Reply:
        """Parse one element of the REST channel's answer."""
        buttons = tuple(
            Button(title=str(button.get("title", "")), payload=str(button.get("payload", "")))
            for button in data.get("buttons") or []
            if isinstance(button, dict) and button.get("payload")
        )
        text = data.get("text")
        image = data.get("image")
        custom = data.get("custom")
        instruction = custom.get("werkmaatje") if isinstance(custom, dict) else None
        command = language = None
        if isinstance(instruction, dict):
            command = str(instruction.get("command") or "") or None
            language = str(instruction.get("language") or "") or None
        return cls(
            text=str(text) if text else None,
            buttons=buttons,
            image=str(image) if image else None,
            command=command,
            language=language,
        )

    def as_json(self) -> dict[str, Any]:
        """The reply as the web chat's JSON."""
        document = None
        if self.document is not None:
            document = {
                "filename": self.document.filename,
                "content": self.document.content.decode("utf-8"),
            }
        return {
            "text": self.text,
            "buttons": [{"title": b.title, "payload": b.payload} for b in self.buttons],
            "image": self.image,
            "document": document,
        }


class RasaClient:
    """A small client for `POST /webhooks/rest/webhook` with retries for a Rasa that restarts.

    aiohttp rather than httpx: on this kind of machine a request costs about 1.5 ms with
    aiohttp's C parser against 4 ms with httpx's pure-Python one, and every turn of every
    person pays it (docs/decisions/0003-telegram-pacing.md, "Latency").
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        attempts: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self._url = base_url.rstrip("/") + "/webhooks/rest/webhook"
        self._attempts = attempts
        self._backoff = backoff
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=5.0)
        # Made on first use: a session belongs to the event loop it was made in.
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(limit=200, limit_per_host=200),
                raise_for_status=False,
            )
        return self._session

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, sender: str, message: str, metadata: dict[str, Any]) -> list[Reply]:
        """Send one message and return Rasa's replies; RasaUnavailable when it keeps failing."""
        body = {"sender": sender, "message": message, "metadata": metadata}
        for attempt in range(1, self._attempts + 1):
            try:
                async with self._client().post(self._url, json=body) as response:
                    status = response.status
                    content = await response.read()
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as error:
                # Only a request that never reached Rasa is safe to send again.
                logger.warning("Rasa not reachable (attempt %s of %s)", attempt, self._attempts)
                if attempt == self._attempts:
                    raise RasaUnavailable("not reachable") from error
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
                continue
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                logger.warning("Rasa request failed: %s", type(error).__name__)
                raise RasaUnavailable(type(error).__name__) from error
            if status != 200:
                logger.warning("Rasa answered HTTP %s", status)
                raise RasaUnavailable(f"HTTP {status}")
            try:
                data = json.loads(content)
            except ValueError as error:
                raise RasaUnavailable("not JSON") from error
            if not isinstance(data, list):
                raise RasaUnavailable("unexpected answer")
            return [Reply.from_rasa(item) for item in data if isinstance(item, dict)]
        raise RasaUnavailable("not reachable")
