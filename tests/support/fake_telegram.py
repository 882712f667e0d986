"""A fake Telegram Bot API server that speaks the real wire format, for tests."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
import mimetypes
import re
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456:TEST-token"
DEFAULT_BOT_USERNAME = "werkmaatje_test_bot"

# Bot API fields that are integers; form bodies carry them as strings.
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "timeout",
        "limit",
        "update_id",
        "reply_to_message_id",
        "message_thread_id",
        "from_chat_id",
        "cache_time",
        "max_connections",
        "user_id",
    }
)
_INT_RE = re.compile(r"-?\d+")
_MAX_TEXT_LENGTH = 4096
_MAX_CAPTION_LENGTH = 1024
_MAX_CALLBACK_DATA_BYTES = 64
# Telegram holds a long poll for up to 50 s; keep it short so test shutdown is quick.
_MAX_POLL_SECONDS = 2.0
_DISPOSITION_PARAM_RE = re.compile(r';\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')
# httpx escapes '"' and control characters in multipart names as %XX (HTML5 form encoding).
_FORM_ESCAPE_RE = re.compile(r"%(22|[01][0-9A-Fa-f])")

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)

# Telegram's HTML parse mode: the supported tags and the entity each one makes.
_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([A-Za-z][A-Za-z0-9]*));")
_HTML_SPECIAL_RE = re.compile(r"[<&]")
_HTML_SPACES = frozenset(" \t\n\r\v\f\0")


@dataclass(frozen=True)
class ApiCall:
    """One Bot API request as received by the fake."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    # What the method returned (e.g. the sent message); None for failed calls.
    result: Any = None
    # False when a crash hook closed the connection instead of answering.
    answered: bool = True
    # The Bot API description of a failed call, exactly as sent (PTB rewords it).
    error: str | None = None


@dataclass
class _Fault:
    """A pending injected error for one method."""

    status: int
    description: str
    retry_after: int | None
    remaining: int


@dataclass
class _Reply:
    """An HTTP status with its JSON body."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)


class _ApiError(Exception):
    """An error answer from a method implementation."""

    def __init__(self, status: int, description: str) -> None:
        """Store the HTTP status and the Bot API description."""
        super().__init__(description)
        self.status = status
        self.description = description


@dataclass
class _CrashHook:
    """A one-shot hook: deliver a matching call, run the action, then hang up without answering."""

    method: str
    predicate: Callable[[dict[str, Any]], bool]
    action: Callable[[], object]


# --- flood limits: what Telegram answers 429 to ---------------------------------------------

# Methods that put a message in a chat and so count against the flood limits, besides send*.
_OTHER_MESSAGE_SENDS = frozenset({"copyMessage", "forwardMessage"})
# send* methods that deliver no message.
_NOT_MESSAGE_SENDS = frozenset({"sendChatAction"})
# Two clock readings this close count as the same instant (float rounding, not time).
_EPSILON = 1e-9


@dataclass(frozen=True)
class SendLimits:
    """Telegram's flood limits on message sends, as the fake enforces them when asked.

    Overall: at most `overall_per_second` accepted sends in any sliding 1.0 s window. Per chat:
    a token bucket holding `per_chat_burst` sends that refills at `per_chat_per_second`.
    """

    overall_per_second: int = 30
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 1

    def __post_init__(self) -> None:
        """Reject limits that would refuse everything."""
        if self.overall_per_second < 1:
            raise ValueError("overall_per_second must be at least 1")
        if self.per_chat_per_second <= 0:
            raise ValueError("per_chat_per_second must be positive")
        if self.per_chat_burst < 1:
            raise ValueError("per_chat_burst must be at least 1")


@dataclass(frozen=True)
class SendStats:
    """A consistent snapshot of the fake's message-send counters."""

    # Message sends delivered (answered 200, or delivered before a crash hook hung up).
    count: int
    # When the first and last of them were handled, on the fake's clock; None before any.
    first_at: float | None
    last_at: float | None
    # 429 answers given, whether from the enforced limits or from fail_next.
    too_many_requests: int
    # Delivered sends identical (method, chat and every parameter) to an earlier delivered one.
    duplicates: int

    @property
    def rate(self) -> float | None:
        """Achieved sends per second, (count - 1) / (last - first); None below two sends."""
        if self.count < 2 or self.first_at is None or self.last_at is None:
            return None
        span = self.last_at - self.first_at
        return (self.count - 1) / span if span > 0 else math.inf


class _FloodControl:
    """The state behind SendLimits; every method expects the caller to hold the fake's lock.

    O(1) amortised per send: the window keeps at most `overall_per_second` timestamps, and a
    chat's bucket is a (tokens, updated) pair.
    """

    def __init__(self, limits: SendLimits) -> None:
        """Start with an empty window and full buckets."""
        self.limits = limits
        self._window: deque[float] = deque()
        self._buckets: dict[object, tuple[float, float]] = {}

    def _tokens(self, chat: object, now: float) -> float:
        """The tokens a chat's bucket holds at `now`."""
        bucket = self._buckets.get(chat)
        burst = float(self.limits.per_chat_burst)
        if bucket is None:
            return burst
        tokens, updated = bucket
        return min(burst, tokens + max(now - updated, 0.0) * self.limits.per_chat_per_second)

    def retry_after(self, chat: object, now: float) -> int | None:
        """Whole seconds (at least 1) until a send to `chat` would be allowed; None if now."""
        window = self._window
        while window and window[0] <= now - 1.0 + _EPSILON:
            window.popleft()
        wait = 0.0
        limit = self.limits.overall_per_second
        if len(window) >= limit:
            wait = window[-limit] + 1.0 - now
        tokens = self._tokens(chat, now)
        if tokens < 1.0 - _EPSILON:
            wait = max(wait, (1.0 - tokens) / self.limits.per_chat_per_second)
        if wait <= 0:
            return None
        return max(1, math.ceil(wait - _EPSILON))

    def accept(self, chat: object, now: float) -> None:
        """Count a delivered send against both limits."""
        self._window.append(now)
        self._buckets[chat] = (self._tokens(chat, now) - 1.0, now)


def _send_key(method: str, params: dict[str, Any]) -> bytes:
    """A digest that is equal for two sends with the same method and parameters."""
    canonical = json.dumps([method, params], sort_keys=True, default=repr, ensure_ascii=False)
    return hashlib.blake2b(canonical.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class _HtmlError(Exception):
    """Why Telegram cannot parse a text with parse_mode HTML."""


def _bad_request(description: str) -> _ApiError:
    """A 400 error with Telegram's description."""
    return _ApiError(HTTPStatus.BAD_REQUEST, f"Bad Request: {description}")


def _ok(result: Any) -> _Reply:
    """Build a successful Bot API answer."""
    return _Reply(HTTPStatus.OK, {"ok": True, "result": result})


def _error(status: int, description: str, retry_after: int | None = None) -> _Reply:
    """Build a failed Bot API answer."""
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return _Reply(status, body)


def _decode_value(name: str, value: Any) -> Any:
    """Turn a form value back into the Python object PTB encoded."""
    if not isinstance(value, str):
        return value
    if name in _INT_FIELDS and _INT_RE.fullmatch(value):
        return int(value)
    if value[:1] in ("{", "["):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        if isinstance(decoded, (dict, list)):
            return decoded
    return value


def _header_params(header: str) -> dict[str, str]:
    """Parse the ;-separated parameters of a header like Content-Type or Content-Disposition."""
    params: dict[str, str] = {}
    for match in _DISPOSITION_PARAM_RE.finditer(header):
        quoted, bare = match.group(2), match.group(3)
        if quoted is not None:
            quoted = _FORM_ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), quoted)
            params[match.group(1).lower()] = quoted.replace("\\\\", "\\").replace('\\"', '"')
        else:
            params[match.group(1).lower()] = bare
    return params


def _parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """Parse a multipart/form-data body; file parts become {"filename", "content"} dicts."""
    boundary = _header_params(content_type).get("boundary")
    if not boundary:
        raise _ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: invalid multipart body")
    fields: dict[str, Any] = {}
    for chunk in body.split(b"--" + boundary.encode("latin-1"))[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            continue
        content = content.removesuffix(b"\r\n")
        disposition = ""
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-disposition":
                disposition = value.strip()
        params = _header_params(disposition)
        name = params.get("name")
        if name is None:
            continue
        if "filename" in params:
            fields[name] = {"filename": params["filename"], "content": content}
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields


def _is_true(value: Any) -> bool:
    """Interpret a Bot API boolean as sent in a form (``"true"``) or JSON (``true``)."""
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def _validate_reply_markup(params: dict[str, Any]) -> None:
    """Reject reply markup that Telegram would reject."""
    markup = params.get("reply_markup")
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise _ApiError(
            HTTPStatus.BAD_REQUEST, "Bad Request: can't parse reply keyboard markup JSON object"
        )
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not (
                1 <= len(str(data).encode("utf-8")) <= _MAX_CALLBACK_DATA_BYTES
            ):
                raise _ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: BUTTON_DATA_INVALID")


def _chat_id(params: dict[str, Any]) -> int:
    """Return the numeric chat_id or raise the error Telegram gives."""
    chat_id = params.get("chat_id")
    if chat_id is None or chat_id == "":
        raise _ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: chat_id is empty")
    if not isinstance(chat_id, int):
        raise _ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: chat not found")
    return chat_id


def _counter(chat_id: int) -> int:
    """Which message counter a chat uses: its own for a supergroup or channel (-100…), else
    the bot's one counter shared by all its private chats and basic groups (key 0)."""
    return chat_id if str(chat_id).startswith("-100") else 0


def _chat(chat_id: int) -> dict[str, Any]:
    """Return a Chat object for an id, typed the way Telegram numbers chats."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private"}
    if str(chat_id).startswith("-100"):
        return {"id": chat_id, "type": "supergroup", "title": "Test supergroup"}
    return {"id": chat_id, "type": "group", "title": "Test group"}


def telegram_user(
    user_id: int, first_name: str = "Sanne", language_code: str | None = "nl"
) -> dict[str, Any]:
    """Return a Telegram User object for a human user."""
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code is not None:
        user["language_code"] = language_code
    return user


def callback_query_update(
    update_id: int, message: dict[str, Any], data: str, from_user: dict[str, Any]
) -> dict[str, Any]:
    """Return the update Telegram sends when `from_user` presses a button of `message`."""
    chat_id = int(message["chat"]["id"])
    return {
        "update_id": update_id,
        "callback_query": {
            # Telegram sends callback query ids and chat instances as numeric strings.
            "id": str(4_000_000_000_000_000 + update_id),
            "from": dict(from_user),
            "message": copy.deepcopy(message),
            "chat_instance": str(-(chat_id * 7919 % 9_000_000_000_000_000_000)),
            "data": data,
        },
    }


def callback_data_of(message: dict[str, Any]) -> list[str]:
    """The callback_data of every inline button of a message, row by row."""
    markup = message.get("reply_markup") or {}
    return [
        str(button["callback_data"])
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    ]


def _utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@dataclass
class _OpenTag:
    """An HTML start tag waiting for its end tag."""

    name: str
    attributes: dict[str, str]
    offset: int  # where the entity starts in the parsed text, in UTF-16 code units
    language: str | None = None  # of a <pre>, from its <code class="language-...">


class _HtmlParser:
    """Telegram's parse_mode HTML: plain text plus entities, or the reason Telegram rejects it."""

    def __init__(self, source: str) -> None:
        """Prepare to parse one text."""
        self.source = source
        self.parts: list[str] = []
        self.length = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        """Return the plain text and its entities; raise _HtmlError like Telegram would."""
        source, i = self.source, 0
        while i < len(source):
            special = _HTML_SPECIAL_RE.search(source, i)
            end = special.start() if special else len(source)
            if end > i:
                self._append(source[i:end])
                i = end
            elif source[i] == "&":
                decoded, i = self._entity(i)
                self._append(decoded)
            elif source.startswith("</", i):
                i = self._end_tag(i)
            else:
                i = self._start_tag(i)
        if self.stack:
            raise _HtmlError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return "".join(self.parts), self.entities

    def _append(self, text: str) -> None:
        """Add text to the parsed result."""
        self.parts.append(text)
        self.length += _utf16_length(text)

    def _byte_offset(self, index: int) -> int:
        """Telegram reports positions as byte offsets into the UTF-8 text."""
        return len(self.source[:index].encode("utf-8", "surrogatepass"))

    def _skip_spaces(self, i: int) -> int:
        """The index of the next non-space character."""
        while i < len(self.source) and self.source[i] in _HTML_SPACES:
            i += 1
        return i

    def _name_end(self, i: int) -> int:
        """The end of a tag name: Telegram reads up to a space or '>'."""
        source = self.source
        while i < len(source) and source[i] not in _HTML_SPACES and source[i] != ">":
            i += 1
        return i

    def _entity(self, i: int) -> tuple[str, int]:
        """Decode the character reference at i; a lone '&' is just text."""
        match = _HTML_ENTITY_RE.match(self.source, i)
        if match is None:
            return "&", i + 1
        decimal, hexadecimal, name = match.groups()
        if name is not None:
            if name not in _HTML_NAMED_ENTITIES:
                raise _HtmlError(
                    f'Unsupported HTML entity "&{name};" at byte offset {self._byte_offset(i)}'
                )
            return _HTML_NAMED_ENTITIES[name], match.end()
        code = int(decimal) if decimal is not None else int(hexadecimal, 16)
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return "&", i + 1  # not a character: Telegram keeps the text as typed
        return chr(code), match.end()

    def _attribute_value(self, start: int, end: int) -> str:
        """Decode the character references in source[start:end]."""
        parts: list[str] = []
        i = start
        while i < end:
            ampersand = self.source.find("&", i, end)
            if ampersand < 0:
                parts.append(self.source[i:end])
                break
            parts.append(self.source[i:ampersand])
            decoded, i = self._entity(ampersand)
            parts.append(decoded)
        return "".join(parts)

    def _start_tag(self, begin: int) -> int:
        """Parse the start tag at begin and return the index after it."""
        source, at = self.source, self._byte_offset(begin)
        name_end = self._name_end(begin + 1)
        name = source[begin + 1 : name_end].lower()
        if name not in _HTML_ENTITY_TYPES:
            raise _HtmlError(f'Unsupported start tag "{name}" at byte offset {at}')
        unclosed = _HtmlError(f"Unclosed start tag at byte offset {at}")
        attributes: dict[str, str] = {}
        i = name_end
        while True:
            i = self._skip_spaces(i)
            if i >= len(source):
                raise unclosed
            if source[i] == ">":
                i += 1
                break
            attribute_start = i
            while i < len(source) and source[i] not in _HTML_SPACES and source[i] not in "=>":
                i += 1
            attribute = source[attribute_start:i].lower()
            if not attribute:
                raise _HtmlError(f'Empty attribute name in the tag "{name}" at byte offset {at}')
            i = self._skip_spaces(i)
            if i >= len(source):
                raise unclosed
            if source[i] != "=":
                if name == "blockquote" and attribute == "expandable":
                    attributes[attribute] = ""
                    continue
                raise _HtmlError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{name}" at byte offset {at}'
                )
            i = self._skip_spaces(i + 1)
            if i >= len(source):
                raise unclosed
            if source[i] in "\"'":
                close = source.find(source[i], i + 1)
                if close < 0:
                    raise unclosed
                attributes[attribute] = self._attribute_value(i + 1, close)
                i = close + 1
            else:
                value_end = self._name_end(i)
                attributes[attribute] = self._attribute_value(i, value_end)
                i = value_end
        if name == "a" and not attributes.get("href"):
            raise _HtmlError(f'Tag "a" must have attribute "href" at byte offset {at}')
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise _HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise _HtmlError(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {at}')
        self.stack.append(_OpenTag(name, attributes, self.length))
        return i

    def _end_tag(self, begin: int) -> int:
        """Parse the end tag at begin, close its entity and return the index after it."""
        at = self._byte_offset(begin)
        name_end = self._name_end(begin + 2)
        name = self.source[begin + 2 : name_end].lower()
        if not self.stack:
            raise _HtmlError(f"Unexpected end tag at byte offset {at}")
        expected = self.stack[-1].name
        if name != expected:
            raise _HtmlError(
                f'Unmatched end tag at byte offset {at}, expected "</{expected}>", '
                f'found "</{name}>"'
            )
        i = self._skip_spaces(name_end)
        if i >= len(self.source) or self.source[i] != ">":
            raise _HtmlError(f"Unclosed end tag at byte offset {at}")
        self._close(self.stack.pop())
        return i + 1

    def _close(self, tag: _OpenTag) -> None:
        """Turn a closed tag into its entity; empty ones vanish, as on Telegram."""
        if tag.name == "code" and self.stack and self.stack[-1].name == "pre":
            # <pre><code class="language-x"> is one pre entity with a language.
            css_class = tag.attributes.get("class", "")
            if css_class.startswith("language-"):
                self.stack[-1].language = css_class.removeprefix("language-")
            return
        length = self.length - tag.offset
        if length == 0:
            return
        entity: dict[str, Any] = {
            "type": _HTML_ENTITY_TYPES[tag.name],
            "offset": tag.offset,
            "length": length,
        }
        if tag.name == "a":
            entity["url"] = tag.attributes["href"]
        elif tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        elif tag.name == "blockquote" and "expandable" in tag.attributes:
            entity["type"] = "expandable_blockquote"
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.attributes["emoji-id"]
        self.entities.append(entity)


def _formatted(
    text: str, params: dict[str, Any], entities_key: str
) -> tuple[str, list[dict[str, Any]] | None]:
    """The text and entities as Telegram stores them after applying parse_mode."""
    parse_mode = params.get("parse_mode")
    mode = parse_mode.lower() if isinstance(parse_mode, str) else ""
    if mode == "html":
        try:
            plain, entities = _HtmlParser(text).parse()
        except _HtmlError as exc:
            raise _bad_request(f"can't parse entities: {exc}") from None
        return plain, entities or None
    if mode not in ("", "none", "markdown", "markdownv2"):
        raise _bad_request("unsupported parse_mode")
    # Markdown is not parsed: its text is stored as sent.
    given = params.get(entities_key)
    return text, given or None


def _inline_markup(params: dict[str, Any]) -> dict[str, Any] | None:
    """The reply_markup a message keeps: only a non-empty inline keyboard shows on it."""
    markup = params.get("reply_markup")
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        return markup
    return None


def _message_id(params: dict[str, Any]) -> int:
    """Return the message_id or raise the error Telegram gives."""
    message_id = params.get("message_id")
    if not isinstance(message_id, int):
        raise _bad_request("message identifier is not specified")
    return message_id


def _summarize(call: ApiCall) -> str:
    """Describe one call in a line for assertion messages."""
    shown = {
        key: (
            f"<{len(value['content'])} bytes>"
            if isinstance(value, dict) and "content" in value
            else value
        )
        for key, value in call.params.items()
    }
    text = json.dumps(shown, ensure_ascii=False, default=str)
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{call.method} [{call.status}] {text}"


class _Server(ThreadingHTTPServer):
    """HTTP server that knows its FakeBotApi and tracks open connections."""

    daemon_threads = True

    def __init__(self, fake: FakeBotApi) -> None:
        """Bind to a free port on the loopback interface."""
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    """Translates HTTP requests into FakeBotApi method calls."""

    # HTTP/1.1 keeps connections alive, as PTB's httpx pool expects from Telegram.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the second waits ~40 ms for the
    # client's delayed ACK, a stall Telegram's servers do not have.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        """Register the connection so stop() can close it."""
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        """Unregister the connection."""
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request logging to stderr."""

    def do_GET(self) -> None:
        """Handle a GET request."""
        self._handle()

    def do_POST(self) -> None:
        """Handle a POST request."""
        self._handle()

    def _read_body(self) -> bytes:
        """Read the request body, plain or chunked."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _parse_params(self, query: str, body: bytes) -> dict[str, Any]:
        """Merge query string and body parameters, decoded to Python values."""
        raw: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        content_type = self.headers.get("Content-Type", "")
        media_type = content_type.split(";")[0].strip().lower()
        if body and media_type == "multipart/form-data":
            raw.update(_parse_multipart(body, content_type))
        elif body and media_type == "application/json":
            try:
                decoded = json.loads(body)
            except ValueError:
                raise _ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: can't parse JSON") from None
            if not isinstance(decoded, dict):
                raise _ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: can't parse JSON")
            raw.update(decoded)
        elif body:
            raw.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return {name: _decode_value(name, value) for name, value in raw.items()}

    def _handle(self) -> None:
        """Route one request and write the JSON answer."""
        url = urlsplit(self.path)
        body = self._read_body()
        fake = self.server.fake
        prefix, _, method = url.path.rpartition("/")
        if prefix != f"/bot{fake.token}":
            reply = _error(HTTPStatus.UNAUTHORIZED, "Unauthorized")
        else:
            try:
                params = self._parse_params(url.query, body)
            except _ApiError as exc:
                reply = _error(exc.status, exc.description)
            else:
                try:
                    dispatched = fake._dispatch(method, params)
                except Exception:
                    logger.exception("Fake Bot API failed handling %s", method)
                    dispatched = _error(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal Server Error")
                if dispatched is None:
                    # A crash hook fired: hang up without a response, so the client never
                    # learns what Telegram did with the call.
                    self.close_connection = True
                    return
                reply = dispatched
        self._send(reply)

    def _send(self, reply: _Reply) -> None:
        """Write a JSON response, tolerating clients that already hung up."""
        payload = json.dumps(reply.body).encode("utf-8")
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            logger.debug("Client went away before the %s answer was written", reply.status)


class FakeBotApi:
    """In-process Telegram Bot API server recording every call, for tests."""

    # Running fakes, so update builders without a handle on one can register messages with it.
    _running: ClassVar[list[FakeBotApi]] = []
    _running_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = DEFAULT_BOT_USERNAME,
        limits: SendLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Prepare the fake; call start() or use it as a context manager to serve.

        With `limits`, message sends over Telegram's flood limits are refused with a 429 (see
        enforce_limits). `clock` timestamps calls and drives the limits.
        """
        bot_id, sep, _ = token.partition(":")
        if not sep or not bot_id.isdigit():
            raise ValueError(f"token must look like '<digits>:<secret>', got {token!r}")
        self.token = token
        self.bot_username = bot_username
        self.bot_user: dict[str, Any] = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": "Werkmaatje",
            "username": bot_username,
        }
        self.webhook: dict[str, Any] | None = None
        # An RLock so predicates passed to wait_for may use the thread-safe accessors.
        self._cond = threading.Condition(threading.RLock())
        self._calls: list[ApiCall] = []
        self._updates: list[dict[str, Any]] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._crash_hooks: list[_CrashHook] = []
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        # Message ids as the bot sees them: private chats and basic groups share the bot's own
        # counter (every message in any of them takes the next number); supergroups and
        # channels count per chat. Keyed by _counter(chat_id).
        self._last_message_id: dict[int, int] = {}
        self._last_update_id = 0
        self._files = 0
        self._stopping = False
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": self._get_me,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "answerCallbackQuery": self._answer_callback_query,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "sendChatAction": self._send_chat_action,
            "deleteMessage": self._delete_message,
            "setMyCommands": lambda params: True,
            "deleteMyCommands": lambda params: True,
            "getMyCommands": lambda params: [],
        }
        # Telegram treats method names case-insensitively.
        self._method_names = {name.lower(): name for name in self._methods}
        # Flood limits and the counters over message sends; all guarded by _cond.
        self._clock = clock
        self._message_sends = frozenset(
            name
            for name in self._methods
            if (name.startswith("send") and name not in _NOT_MESSAGE_SENDS)
            or name in _OTHER_MESSAGE_SENDS
        )
        self._flood: _FloodControl | None = None
        self._send_times: list[float] = []
        self._sends_per_chat: Counter[object] = Counter()
        self._send_keys: set[bytes] = set()
        self._duplicates = 0
        self._too_many_requests = 0
        if limits is not None:
            self.enforce_limits(limits)

    @classmethod
    def running_instances(cls) -> list[FakeBotApi]:
        """The fakes currently serving in this process, oldest first."""
        with cls._running_lock:
            return list(cls._running)

    def start(self) -> None:
        """Start serving in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeBotApi is already running")
        with self._cond:
            self._stopping = False
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-telegram-bot-api",
            daemon=True,
        )
        self._thread.start()
        with self._running_lock:
            self._running.append(self)
        logger.debug("Fake Bot API listening on %s", self.base_url)

    def stop(self) -> None:
        """Stop serving and close open connections; safe to call twice."""
        server, thread = self._server, self._thread
        if server is None:
            return
        with self._running_lock:
            if self in self._running:
                self._running.remove(self)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        server.shutdown()
        server.server_close()
        with server.connections_lock:
            connections = list(server.connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeBotApi:
        """Start serving."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving."""
        self.stop()

    @property
    def base_url(self) -> str:
        """Base URL to hand to PTB, which appends the token itself."""
        if self._server is None:
            raise RuntimeError("FakeBotApi is not running; call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    @property
    def calls(self) -> list[ApiCall]:
        """A copy of all recorded calls, oldest first."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        """Recorded calls of one method, including failed ones."""
        return [call for call in self.calls if call.method == method]

    def sent_messages(self, chat_id: int | None = None) -> list[ApiCall]:
        """Delivered sendMessage calls (also those a crash hook left unanswered), per chat."""
        return [
            call
            for call in self.calls_to("sendMessage")
            if call.status == HTTPStatus.OK
            and (chat_id is None or call.params.get("chat_id") == chat_id)
        ]

    def enforce_limits(self, limits: SendLimits | None) -> None:
        """Refuse message sends over `limits` with Telegram's 429 from now on; None turns it off.

        Counted are sendMessage, sendDocument and every other send* that delivers a message
        (not sendChatAction), timestamped when handled. A refused send is not delivered and
        uses up no allowance. Each call starts with an empty window and full buckets.
        """
        with self._cond:
            self._flood = _FloodControl(limits) if limits is not None else None

    @property
    def limits(self) -> SendLimits | None:
        """The flood limits being enforced, if any."""
        with self._cond:
            return self._flood.limits if self._flood is not None else None

    def send_stats(self) -> SendStats:
        """Counters over delivered message sends and 429 answers, in O(1)."""
        with self._cond:
            times = self._send_times
            return SendStats(
                count=len(times),
                first_at=times[0] if times else None,
                last_at=times[-1] if times else None,
                too_many_requests=self._too_many_requests,
                duplicates=self._duplicates,
            )

    def send_times(self) -> list[float]:
        """When each delivered message send was handled, on the fake's clock, oldest first."""
        with self._cond:
            return list(self._send_times)

    def delivered_count(self, chat_id: int | None = None) -> int:
        """Delivered message sends (any send* method), to one chat or in all; O(1), so cheap
        enough for a wait_for predicate over 100,000 messages (sent_messages is O(calls))."""
        with self._cond:
            if chat_id is None:
                return len(self._send_times)
            return self._sends_per_chat.get(chat_id, 0)

    def delivered_per_chat(self) -> dict[object, int]:
        """How many message sends each chat received."""
        with self._cond:
            return dict(self._sends_per_chat)

    @property
    def too_many_requests(self) -> int:
        """How many 429 answers the fake gave."""
        with self._cond:
            return self._too_many_requests

    @property
    def duplicate_sends(self) -> int:
        """Delivered sends identical (method, chat, all parameters) to an earlier one."""
        with self._cond:
            return self._duplicates

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """A copy of a message as Telegram holds it now (after edits), or None if unknown."""
        with self._cond:
            message = self._messages.get((chat_id, message_id))
            return copy.deepcopy(message) if message is not None else None

    def remember_message(self, chat_id: int, message: dict[str, Any]) -> dict[str, Any]:
        """Store a message the fake did not send; without a `from` it counts as the bot's."""
        message_id = message.get("message_id")
        if not isinstance(message_id, int) or message_id < 1:
            raise ValueError("a message needs a positive integer message_id")
        stored: dict[str, Any] = {
            "message_id": message_id,
            "from": dict(self.bot_user),
            "chat": _chat(chat_id),
            "date": int(time.time()),
            **copy.deepcopy(message),
        }
        if stored["chat"].get("id") != chat_id:
            raise ValueError(f"message chat {stored['chat'].get('id')} is not chat {chat_id}")
        with self._cond:
            self._messages[(chat_id, message_id)] = stored
            counter = _counter(chat_id)
            self._last_message_id[counter] = max(self._last_message_id.get(counter, 0), message_id)
            return copy.deepcopy(stored)

    def incoming_message(self, chat_id: int, message: dict[str, Any]) -> dict[str, Any]:
        """Store a message a user sends the bot, numbered by the chat's counter like Telegram."""
        with self._cond:
            counter = _counter(chat_id)
            message_id = self._last_message_id.get(counter, 0) + 1
            self._last_message_id[counter] = message_id
            stored = {**copy.deepcopy(message), "message_id": message_id}
            self._messages[(chat_id, message_id)] = stored
            return copy.deepcopy(stored)

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        callback_data: str,
        *,
        from_user: dict[str, Any] | None = None,
        update_id: int | None = None,
        queue: bool = False,
    ) -> dict[str, Any]:
        """The callback_query update for pressing a button of a message this fake holds."""
        if from_user is None:
            if chat_id <= 0:
                raise ValueError("pass from_user for a press in a group chat")
            from_user = telegram_user(chat_id)
        with self._cond:
            message = self._messages.get((chat_id, message_id))
            if message is None:
                raise LookupError(f"no message {message_id} in chat {chat_id}")
            if callback_data not in callback_data_of(message):
                raise ValueError(
                    f"message {message_id} in chat {chat_id} has no button with callback_data "
                    f"{callback_data!r}; its buttons: {callback_data_of(message)}"
                )
            if update_id is None:
                update_id = self._last_update_id + 1
            self._last_update_id = max(self._last_update_id, update_id)
            update = callback_query_update(update_id, message, callback_data, from_user)
        if queue:
            self.queue_update(update)
        return copy.deepcopy(update)

    def wait_for(self, predicate: Callable[[FakeBotApi], bool], timeout: float = 30.0) -> None:
        """Block until predicate(self) holds, re-checking on every call; AssertionError if not."""
        with self._cond:
            if self._cond.wait_for(lambda: predicate(self), timeout=timeout):
                return
            calls = list(self._calls)
        summary = "\n".join(f"  {_summarize(call)}" for call in calls) or "  (none)"
        raise AssertionError(
            f"condition not met within {timeout} s; {len(calls)} calls received:\n{summary}"
        )

    def wait_for_messages(self, chat_id: int, count: int, timeout: float = 30.0) -> list[ApiCall]:
        """Wait until at least `count` messages were sent to a chat and return them all."""
        self.wait_for(lambda fake: len(fake.sent_messages(chat_id)) >= count, timeout=timeout)
        return self.sent_messages(chat_id)

    def queue_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates (polling mode)."""
        if not isinstance(update.get("update_id"), int):
            raise ValueError("an update needs an integer update_id")
        with self._cond:
            self._updates.append(update)
            self._last_update_id = max(self._last_update_id, update["update_id"])
            self._cond.notify_all()

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` answer with this Bot API error."""
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._cond:
            self._faults.setdefault(method, []).append(
                _Fault(status, description, retry_after, times)
            )

    def crash_after_delivery(
        self,
        method: str,
        predicate: Callable[[dict[str, Any]], bool],
        action: Callable[[], object],
    ) -> None:
        """Once a `method` call matching predicate(params) succeeds: run action, never answer."""
        if method not in self._methods:
            raise ValueError(f"the fake does not implement {method}")
        with self._cond:
            self._crash_hooks.append(_CrashHook(method, predicate, action))

    def reset(self) -> None:
        """Forget calls, queued updates, faults, crash hooks and send counters; webhook,
        messages and the enforced limits stay (with an empty window and full buckets)."""
        with self._cond:
            self._calls.clear()
            self._updates.clear()
            self._faults.clear()
            self._crash_hooks.clear()
            self._send_times.clear()
            self._sends_per_chat.clear()
            self._send_keys.clear()
            self._duplicates = 0
            self._too_many_requests = 0
            if self._flood is not None:
                self._flood = _FloodControl(self._flood.limits)
            self._cond.notify_all()

    def _dispatch(self, method_name: str, params: dict[str, Any]) -> _Reply | None:
        """Answer one authorised request and record it; None means hang up without answering."""
        method = self._method_names.get(method_name.lower())
        if method is None:
            return _error(HTTPStatus.NOT_FOUND, "Not Found: method not found")
        with self._cond:
            now = self._clock()
            reply = self._take_fault(method)
            result = None
            counted = method in self._message_sends
            if reply is None and counted and self._flood is not None:
                wait = self._flood.retry_after(params.get("chat_id"), now)
                if wait is not None:
                    description = f"Too Many Requests: retry after {wait}"
                    reply = _error(HTTPStatus.TOO_MANY_REQUESTS, description, wait)
            if reply is None:
                try:
                    result = self._methods[method](params)
                except _ApiError as exc:
                    reply = _error(exc.status, exc.description)
                else:
                    reply = _ok(result)
                    if counted:
                        self._count_send(method, params, now)
            hook = self._take_crash_hook(method, params) if reply.status == HTTPStatus.OK else None
            self._record(method, params, reply, result, answered=hook is None)
        if hook is not None:
            # Outside the lock: the action may wait for a process that still calls the fake.
            logger.debug("Fake Bot API delivered %s; crashing before the answer", method)
            try:
                hook.action()
            except Exception:
                logger.exception("Crash hook action for %s failed", method)
            return None
        # The long poll waits outside the lock so other requests are served meanwhile.
        if method == "getUpdates" and reply.status == HTTPStatus.OK:
            reply = _ok(self._poll(params))
        logger.debug("Fake Bot API %s -> %s", method, reply.status)
        return reply

    def _count_send(self, method: str, params: dict[str, Any], now: float) -> None:
        """Count a delivered message send; the caller holds the condition."""
        chat = params.get("chat_id")
        if self._flood is not None:
            self._flood.accept(chat, now)
        self._send_times.append(now)
        self._sends_per_chat[chat] += 1
        key = _send_key(method, params)
        if key in self._send_keys:
            self._duplicates += 1
        else:
            self._send_keys.add(key)

    def _record(
        self, method: str, params: dict[str, Any], reply: _Reply, result: Any, *, answered: bool
    ) -> None:
        """Store a call and wake up waiters; the caller holds the condition."""
        error = None if reply.body.get("ok") else reply.body.get("description")
        if reply.status == HTTPStatus.TOO_MANY_REQUESTS:
            self._too_many_requests += 1
        call = ApiCall(method, params, self._clock(), int(reply.status), result, answered, error)
        self._calls.append(call)
        self._cond.notify_all()

    def _take_fault(self, method: str) -> _Reply | None:
        """Consume a pending injected error for `method`, if any."""
        faults = self._faults.get(method)
        if not faults:
            return None
        fault = faults[0]
        fault.remaining -= 1
        if fault.remaining == 0:
            faults.pop(0)
        return _error(fault.status, fault.description, fault.retry_after)

    def _take_crash_hook(self, method: str, params: dict[str, Any]) -> _CrashHook | None:
        """Remove and return the first crash hook this call triggers; the caller holds the lock."""
        for hook in self._crash_hooks:
            if hook.method != method:
                continue
            try:
                matches = hook.predicate(params)
            except Exception:
                logger.exception("Crash hook predicate for %s failed", method)
                continue
            if matches:
                self._crash_hooks.remove(hook)
                return hook
        return None

    def _new_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        """Create and remember a message sent by the bot, numbered by its chat's counter."""
        counter = _counter(chat_id)
        message_id = self._last_message_id.get(counter, 0) + 1
        while (chat_id, message_id) in self._messages:
            message_id += 1
        self._last_message_id[counter] = message_id
        message = {
            "message_id": message_id,
            "from": dict(self.bot_user),
            "chat": _chat(chat_id),
            "date": int(time.time()),
            **{key: value for key, value in content.items() if value is not None},
        }
        self._messages[(chat_id, message_id)] = message
        return message

    def _is_from_bot(self, message: dict[str, Any]) -> bool:
        """Whether this bot sent the message, which is what lets it edit it."""
        sender = message.get("from") or {}
        return bool(sender.get("id") == self.bot_user["id"])

    def _edited_message(self, params: dict[str, Any], **changes: Any) -> dict[str, Any] | bool:
        """Apply an edit to a known message the way Telegram does; inline messages answer true."""
        if "inline_message_id" in params:
            return True
        chat_id = _chat_id(params)
        message_id = _message_id(params)
        current = self._messages.get((chat_id, message_id))
        if current is None:
            raise _bad_request("message to edit not found")
        if not self._is_from_bot(current):
            raise _bad_request("message can't be edited")
        if "text" in changes and "text" not in current:
            raise _bad_request("there is no text in the message to edit")
        edited = dict(current)
        # Like Telegram, an edit without a field (e.g. reply_markup) removes it.
        for key, value in changes.items():
            if value is None:
                edited.pop(key, None)
            else:
                edited[key] = value
        if edited == current:
            raise _ApiError(HTTPStatus.BAD_REQUEST, _NOT_MODIFIED)
        edited["edit_date"] = int(time.time())
        self._messages[(chat_id, message_id)] = edited
        return edited

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        """Answer getMe."""
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        """Answer setWebhook; an empty url removes the webhook, as on Telegram."""
        self.webhook = dict(params) if params.get("url") else None
        if _is_true(params.get("drop_pending_updates")):
            self._updates.clear()
        return True

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        """Answer deleteWebhook."""
        self.webhook = None
        if _is_true(params.get("drop_pending_updates")):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        """Answer getWebhookInfo."""
        info: dict[str, Any] = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook and "allowed_updates" in self.webhook:
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Validate getUpdates; the long poll itself happens in _poll."""
        if self.webhook is not None:
            raise _ApiError(
                HTTPStatus.CONFLICT,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        return []

    def _poll(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Confirm updates below offset and wait up to `timeout` seconds for new ones."""
        offset = params.get("offset")
        limit = params.get("limit")
        limit = limit if isinstance(limit, int) and 1 <= limit <= 100 else 100
        try:
            timeout = min(float(params.get("timeout") or 0), _MAX_POLL_SECONDS)
        except (TypeError, ValueError):
            timeout = 0.0
        with self._cond:
            if isinstance(offset, int) and offset < 0:
                del self._updates[: max(len(self._updates) + offset, 0)]
            elif isinstance(offset, int):
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._cond.wait_for(lambda: bool(self._updates) or self._stopping, timeout=timeout)
            return list(self._updates[:limit])

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        """Answer sendMessage, validating like Telegram."""
        chat_id = _chat_id(params)
        raw = params.get("text")
        if not isinstance(raw, str) or not raw.strip():
            raise _bad_request("message text is empty")
        text, entities = _formatted(raw, params, "entities")
        if not text.strip():
            raise _bad_request("message text is empty")
        if len(text) > _MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        _validate_reply_markup(params)
        return self._new_message(
            chat_id, text=text, entities=entities, reply_markup=_inline_markup(params)
        )

    def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        """Answer sendDocument with a message carrying a document."""
        chat_id = _chat_id(params)
        document = params.get("document")
        if not document:
            raise _bad_request("there is no document in the request")
        caption, caption_entities = None, None
        if isinstance(params.get("caption"), str):
            caption, caption_entities = _formatted(params["caption"], params, "caption_entities")
            if len(caption) > _MAX_CAPTION_LENGTH:
                raise _bad_request("message caption is too long")
        _validate_reply_markup(params)
        self._files += 1
        unique = f"doc{self._files}"
        doc: dict[str, Any] = {"file_id": f"BQAC-{unique}", "file_unique_id": unique}
        if isinstance(document, dict):
            doc["file_name"] = document["filename"]
            doc["file_size"] = len(document["content"])
            doc["mime_type"] = (
                mimetypes.guess_type(document["filename"])[0] or "application/octet-stream"
            )
        else:
            # A file_id or URL: Telegram reuses the existing file.
            doc["file_id"] = str(document)
            doc["file_name"] = str(document).rsplit("/", 1)[-1]
        return self._new_message(
            chat_id,
            document=doc,
            caption=caption or None,
            caption_entities=caption_entities,
            reply_markup=_inline_markup(params),
        )

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        """Answer answerCallbackQuery."""
        if not params.get("callback_query_id"):
            raise _bad_request("query_id is empty")
        return True

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        """Answer editMessageText."""
        raw = params.get("text")
        if not isinstance(raw, str) or not raw.strip():
            raise _bad_request("text must be non-empty")
        text, entities = _formatted(raw, params, "entities")
        if not text.strip():
            raise _bad_request("text must be non-empty")
        if len(text) > _MAX_TEXT_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        _validate_reply_markup(params)
        return self._edited_message(
            params, text=text, entities=entities, reply_markup=_inline_markup(params)
        )

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        """Answer editMessageReplyMarkup."""
        _validate_reply_markup(params)
        return self._edited_message(params, reply_markup=_inline_markup(params))

    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        """Answer sendChatAction."""
        _chat_id(params)
        if not params.get("action"):
            raise _bad_request("action is empty")
        return True

    def _delete_message(self, params: dict[str, Any]) -> bool:
        """Answer deleteMessage; bots may delete any message of a private chat."""
        chat_id = _chat_id(params)
        if self._messages.pop((chat_id, _message_id(params)), None) is None:
            raise _bad_request("message to delete not found")
        return True
