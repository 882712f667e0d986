"""One turn, one message: the replies Rasa gives to one message, as a chat channel sends them.

Rasa answers a turn with several bubbles (an acknowledgement, then the next question). On a
channel that paces messages per chat (Telegram, WhatsApp) each bubble costs a send, so the
bubbles of one turn go out as one message: the texts joined by a blank line, the buttons on
it. Buttons end a message (they belong under the text that asks for them), and an image or
a document is always a message of its own, its text as the caption. A text longer than the
channel allows is split at sentence boundaries, the buttons on its last part; a caption
longer than the channel allows goes before the image or document as text of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from bot.rasa_client import Button, Reply

PART_SEPARATOR = "\n\n"
# Where a text may be cut: after a sentence's end, else at a line break, else at a space.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+")
_LINE_BREAK = re.compile(r"\n+")
_SPACE = re.compile(r"\s+")


def length(text: str) -> int:
    """A text's length as Telegram and WhatsApp count it: in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def one_message_per_turn(
    replies: Iterable[Reply], limit: int, caption_limit: int | None = None
) -> list[Reply]:
    """The replies of one turn merged into as few messages as keep their meaning; texts of
    at most `limit`, captions of at most `caption_limit` (when the channel has one)."""
    messages: list[Reply] = []
    texts: list[str] = []

    def flush(buttons: tuple[Button, ...] = ()) -> None:
        if texts:
            merged = Reply(text=PART_SEPARATOR.join(texts), buttons=buttons)
            messages.extend(split(merged, limit))
            texts.clear()

    for reply in replies:
        if reply.image is not None or reply.document is not None:
            flush()
            if caption_limit is not None and reply.text and length(reply.text) > caption_limit:
                # Too long to go with the file: the text (and its buttons) first, then the file.
                messages.extend(split(Reply(text=reply.text, buttons=reply.buttons), limit))
                reply = replace(reply, text=None, buttons=())
            messages.append(reply)
        elif reply.text:
            if texts and length(PART_SEPARATOR.join([*texts, reply.text])) > limit:
                flush()
            texts.append(reply.text)
            if reply.buttons:
                flush(reply.buttons)
        elif reply.buttons:
            # Buttons without a text of their own: under the text before them, if any.
            if texts:
                flush(reply.buttons)
            else:
                messages.append(reply)
    flush()
    return messages


def split(reply: Reply, limit: int) -> list[Reply]:
    """A text reply cut into parts of at most `limit`; the buttons go on the last part."""
    if reply.text is None or length(reply.text) <= limit:
        return [reply]
    parts = split_text(reply.text, limit)
    return [Reply(text=part) for part in parts[:-1]] + [
        Reply(text=parts[-1], buttons=reply.buttons)
    ]


def split_text(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit`, cut after a sentence where one fits."""
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    rest = text.strip()
    while length(rest) > limit:
        cut = _cut(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _cut(text: str, limit: int) -> int:
    """Where to cut `text` so that its first part fits `limit`: the last good boundary."""
    fits = _prefix_fitting(text, limit)
    for boundary in (re.compile(re.escape(PART_SEPARATOR)), _SENTENCE_END, _LINE_BREAK, _SPACE):
        ends = [m.end() for m in boundary.finditer(text, 0, fits + 1) if 0 < m.start() <= fits]
        if ends:
            return min(ends[-1], fits)
    return fits


def _prefix_fitting(text: str, limit: int) -> int:
    """The number of characters of `text` whose length is at most `limit` (at least one)."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return max(index, 1)
    return len(text)
