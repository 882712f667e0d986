"""Builders for Telegram updates in the exact shape Telegram posts them to a webhook."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.fake_telegram import DEFAULT_BOT_USERNAME, DEFAULT_TOKEN

# The bot as FakeBotApi() describes itself by default, for messages the bot sent.
BOT_USER: dict[str, Any] = {
    "id": int(DEFAULT_TOKEN.split(":", 1)[0]),
    "is_bot": True,
    "first_name": "Werkmaatje",
    "username": DEFAULT_BOT_USERNAME,
}


def telegram_user(
    user_id: int, first_name: str = "Sanne", language_code: str | None = "nl"
) -> dict[str, Any]:
    """Return a Telegram User object for a human user."""
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code is not None:
        user["language_code"] = language_code
    return user


def _private_chat(chat_id: int, first_name: str) -> dict[str, Any]:
    """Return the private Chat object Telegram sends with a user's messages."""
    return {"id": chat_id, "first_name": first_name, "type": "private"}


def _utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def text_update(
    update_id: int,
    chat_id: int,
    text: str,
    *,
    first_name: str = "Sanne",
    language_code: str | None = "nl",
    message_id: int | None = None,
) -> dict[str, Any]:
    """Return an update with a private-chat text message; /commands get a bot_command entity."""
    message: dict[str, Any] = {
        "message_id": message_id if message_id is not None else update_id,
        "from": telegram_user(chat_id, first_name, language_code),
        "chat": _private_chat(chat_id, first_name),
        "date": int(time.time()),
        "text": text,
    }
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        message["entities"] = [
            {"offset": 0, "length": _utf16_length(command), "type": "bot_command"}
        ]
    return {"update_id": update_id, "message": message}


def callback_update(
    update_id: int,
    chat_id: int,
    data: str,
    *,
    message_id: int = 1,
    first_name: str = "Sanne",
    language_code: str | None = "nl",
) -> dict[str, Any]:
    """Return an update for a press on an inline button of the bot's message `message_id`."""
    now = int(time.time())
    return {
        "update_id": update_id,
        "callback_query": {
            # Telegram sends callback query ids and chat instances as numeric strings.
            "id": str(4_000_000_000_000_000 + update_id),
            "from": telegram_user(chat_id, first_name, language_code),
            "message": {
                "message_id": message_id,
                "from": dict(BOT_USER),
                "chat": _private_chat(chat_id, first_name),
                "date": now - 1,
                "text": "Kies een optie:",
            },
            "chat_instance": str(-(chat_id * 7919 % 9_000_000_000_000_000_000)),
            "data": data,
        },
    }


def stored_text(value: object) -> str:
    """A stored column value as text to search: JSON (Rasa's `data`) also with its escapes
    undone, bytes (a pickled APScheduler job) decoded byte for byte."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("latin-1")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    if text[:1] in ("{", "["):
        try:
            text += "\n" + json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    return text
