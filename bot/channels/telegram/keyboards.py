"""Telegram's buttons: what it can show (BUTTONS), the inline keyboard under a reply and under
an outbox message, and the map from payloads too long for callback data to tokens and back."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels import ButtonRules
from bot.rasa_client import Reply

CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit for callback_data
# As many buttons as wanted, titles as long as wanted; what a press sends back is short.
BUTTONS = ButtonRules(data=CALLBACK_DATA_LIMIT)
# Up to this many buttons share a row when every title is this short.
SIDE_BY_SIDE = 3
SHORT_TITLE = 12


K = TypeVar("K")
V = TypeVar("V")


class Recent(OrderedDict[K, V]):
    """A mapping that keeps the `size` keys added last: Telegram's answers refer back to recent
    things only (a button under a recent message, an update re-sent within the hour)."""

    def __init__(self, size: int = 10_000) -> None:
        super().__init__()
        self.size = size

    def remember(self, key: K, value: V) -> None:
        """Add or refresh `key`, forgetting the oldest beyond `size`."""
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)


class CallbackPayloads:
    """Maps Rasa button payloads longer than Telegram allows to short tokens and back."""

    def __init__(self, size: int = 10_000) -> None:
        self._payloads: Recent[str, str] = Recent(size)

    def encode(self, payload: str) -> str:
        """callback_data for a payload."""
        if len(payload.encode()) <= CALLBACK_DATA_LIMIT:
            return payload
        token = "#" + hashlib.sha256(payload.encode()).hexdigest()[:40]
        self._payloads.remember(token, payload)
        return token

    def decode(self, data: str) -> str | None:
        """The payload for callback_data; None for an expired token."""
        if data.startswith("#"):
            return self._payloads.get(data)
        return data


def reply_keyboard(reply: Reply, payloads: CallbackPayloads) -> InlineKeyboardMarkup | None:
    """Rasa's buttons as an inline keyboard, short titles side by side."""
    if not reply.buttons:
        return None
    buttons = [
        InlineKeyboardButton(button.title, callback_data=payloads.encode(button.payload))
        for button in reply.buttons
    ]
    if len(buttons) <= SIDE_BY_SIDE and all(len(button.text) <= SHORT_TITLE for button in buttons):
        return InlineKeyboardMarkup([buttons])
    return InlineKeyboardMarkup([[button] for button in buttons])


def keyboard(payload: dict[str, Any]) -> InlineKeyboardMarkup | None:
    """An outbox message's buttons (a summary's, a nudge's), one per row."""
    rows = [
        [InlineKeyboardButton(title, callback_data=data)]
        for title, data in payload.get("buttons") or []
    ]
    return InlineKeyboardMarkup(rows) if rows else None
