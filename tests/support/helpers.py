"""Builders for Telegram updates in the exact shape Telegram posts them to a webhook."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.support.fake_telegram import (
    DEFAULT_BOT_USERNAME,
    DEFAULT_TOKEN,
    FakeBotApi,
    callback_query_update,
    telegram_user,
)

# The bot as FakeBotApi() describes itself by default, for messages the bot sent.
BOT_USER: dict[str, Any] = {
    "id": int(DEFAULT_TOKEN.split(":", 1)[0]),
    "is_bot": True,
    "first_name": "Werkmaatje",
    "username": DEFAULT_BOT_USERNAME,
}


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
    running = FakeBotApi.running_instances()
    if message_id is None and len(running) == 1:
        # The user's message takes the next id of the bot's counter, as on Telegram.
        message = running[0].incoming_message(chat_id, message)
    return {"update_id": update_id, "message": message}


def callback_update(
    update_id: int,
    chat_id: int,
    data: str,
    *,
    message_id: int = 1,
    first_name: str = "Sanne",
    language_code: str | None = "nl",
    fake: FakeBotApi | None = None,
) -> dict[str, Any]:
    """Return an update for a press on an inline button of the bot's message `message_id`."""
    keyboard = {"inline_keyboard": [[{"text": data, "callback_data": data}]]}
    message: dict[str, Any] = {
        "message_id": message_id,
        "from": dict(BOT_USER),
        "chat": _private_chat(chat_id, first_name),
        "date": int(time.time()) - 1,
        "text": "Kies een optie:",
        "reply_markup": keyboard,
    }
    # The fake refuses edits of messages it does not hold, so the pressed message must exist
    # there for the bot to remove its buttons. Callers that have no handle on the fake (the
    # e2e tests, the benchmark) get it registered with every fake running in this process.
    targets = [fake] if fake is not None else FakeBotApi.running_instances()
    pressed = [_pressable(target, chat_id, message) for target in targets]
    return callback_query_update(
        update_id,
        pressed[0] if pressed else message,
        data,
        telegram_user(chat_id, first_name, language_code),
    )


def _pressable(fake: FakeBotApi, chat_id: int, message: dict[str, Any]) -> dict[str, Any]:
    """Make sure `fake` holds the bot message about to be pressed, with buttons; return it."""
    stored = fake.message(chat_id, message["message_id"])
    if stored is None:
        return fake.remember_message(chat_id, message)
    if (stored.get("from") or {}).get("id") != fake.bot_user["id"]:
        raise ValueError(f"message {message['message_id']} in chat {chat_id} is not the bot's")
    if stored.get("reply_markup"):
        return stored  # a message the bot really sent, keyboard and all
    # Its buttons are gone (already pressed): give it back the pressed one, keeping its text.
    return fake.remember_message(chat_id, {**stored, "reply_markup": message["reply_markup"]})


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
