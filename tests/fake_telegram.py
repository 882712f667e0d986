"""A fake Telegram Bot API server that speaks the real wire format, for tests."""

from __future__ import annotations

import json
import logging
import mimetypes
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
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
_MAX_CALLBACK_DATA_BYTES = 64
# Telegram holds a long poll for up to 50 s; keep it short so test shutdown is quick.
_MAX_POLL_SECONDS = 2.0
_DISPOSITION_PARAM_RE = re.compile(r';\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')
# httpx escapes '"' and control characters in multipart names as %XX (HTML5 form encoding).
_FORM_ESCAPE_RE = re.compile(r"%(22|[01][0-9A-Fa-f])")


@dataclass(frozen=True)
class ApiCall:
    """One Bot API request as received by the fake."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


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


def _chat(chat_id: int) -> dict[str, Any]:
    """Return a Chat object for an id, typed the way Telegram numbers chats."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private"}
    if str(chat_id).startswith("-100"):
        return {"id": chat_id, "type": "supergroup", "title": "Test supergroup"}
    return {"id": chat_id, "type": "group", "title": "Test group"}


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
                    reply = fake._dispatch(method, params)
                except Exception:
                    logger.exception("Fake Bot API failed handling %s", method)
                    reply = _error(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal Server Error")
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

    def __init__(
        self, token: str = DEFAULT_TOKEN, *, bot_username: str = DEFAULT_BOT_USERNAME
    ) -> None:
        """Prepare the fake; call start() or use it as a context manager to serve."""
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
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._next_message_id = 1
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
        logger.debug("Fake Bot API listening on %s", self.base_url)

    def stop(self) -> None:
        """Stop serving and close open connections; safe to call twice."""
        server, thread = self._server, self._thread
        if server is None:
            return
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
        """Successful sendMessage calls, optionally only those for one chat."""
        return [
            call
            for call in self.calls_to("sendMessage")
            if call.status == HTTPStatus.OK
            and (chat_id is None or call.params.get("chat_id") == chat_id)
        ]

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

    def reset(self) -> None:
        """Forget calls, queued updates and pending faults; the webhook stays."""
        with self._cond:
            self._calls.clear()
            self._updates.clear()
            self._faults.clear()
            self._cond.notify_all()

    def _dispatch(self, method_name: str, params: dict[str, Any]) -> _Reply:
        """Answer one authorised request and record it."""
        method = self._method_names.get(method_name.lower())
        if method is None:
            return _error(HTTPStatus.NOT_FOUND, "Not Found: method not found")
        with self._cond:
            reply = self._take_fault(method)
            if reply is None:
                try:
                    reply = _ok(self._methods[method](params))
                except _ApiError as exc:
                    reply = _error(exc.status, exc.description)
            self._record(method, params, reply.status)
        # The long poll waits outside the lock so other requests are served meanwhile.
        if method == "getUpdates" and reply.status == HTTPStatus.OK:
            reply = _ok(self._poll(params))
        logger.debug("Fake Bot API %s -> %s", method, reply.status)
        return reply

    def _record(self, method: str, params: dict[str, Any], status: int) -> None:
        """Store a call and wake up waiters; the caller holds the condition."""
        self._calls.append(ApiCall(method, params, time.monotonic(), int(status)))
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

    def _new_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        """Create and remember a message sent by the bot."""
        message_id = self._next_message_id
        self._next_message_id += 1
        message = {
            "message_id": message_id,
            "from": dict(self.bot_user),
            "chat": _chat(chat_id),
            "date": int(time.time()),
            **content,
        }
        self._messages[(chat_id, message_id)] = message
        return message

    def _edited_message(self, params: dict[str, Any], **changes: Any) -> dict[str, Any] | bool:
        """Apply an edit to a known (or synthesised) message; inline messages answer true."""
        if "inline_message_id" in params:
            return True
        chat_id = _chat_id(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _ApiError(
                HTTPStatus.BAD_REQUEST, "Bad Request: message identifier is not specified"
            )
        # Messages the fake never sent (e.g. from helpers.callback_update) are edited leniently.
        message = self._messages.get((chat_id, message_id)) or {
            "message_id": message_id,
            "from": dict(self.bot_user),
            "chat": _chat(chat_id),
            "date": int(time.time()),
        }
        message = {**message, "edit_date": int(time.time())}
        # Like Telegram, an edit without a field (e.g. reply_markup) removes it.
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        self._messages[(chat_id, message_id)] = message
        return message

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
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: message text is empty")
        if len(text) > _MAX_TEXT_LENGTH:
            raise _ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: message is too long")
        _validate_reply_markup(params)
        content: dict[str, Any] = {"text": text}
        for key in ("entities", "reply_markup"):
            if params.get(key) is not None:
                content[key] = params[key]
        return self._new_message(chat_id, **content)

    def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        """Answer sendDocument with a message carrying a document."""
        chat_id = _chat_id(params)
        document = params.get("document")
        if not document:
            raise _ApiError(
                HTTPStatus.BAD_REQUEST, "Bad Request: there is no document in the request"
            )
        _validate_reply_markup(params)
        unique = f"doc{self._next_message_id}"
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
        content: dict[str, Any] = {"document": doc}
        for key in ("caption", "caption_entities", "reply_markup"):
            if params.get(key) is not None:
                content[key] = params[key]
        return self._new_message(chat_id, **content)

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        """Answer answerCallbackQuery."""
        if not params.get("callback_query_id"):
            raise _ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: query_id is empty")
        return True

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        """Answer editMessageText."""
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: text must be non-empty")
        if len(text) > _MAX_TEXT_LENGTH:
            raise _ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: MESSAGE_TOO_LONG")
        _validate_reply_markup(params)
        return self._edited_message(
            params,
            text=text,
            entities=params.get("entities"),
            reply_markup=params.get("reply_markup"),
        )

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        """Answer editMessageReplyMarkup."""
        _validate_reply_markup(params)
        return self._edited_message(params, reply_markup=params.get("reply_markup"))

    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        """Answer sendChatAction."""
        _chat_id(params)
        if not params.get("action"):
            raise _ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: action is empty")
        return True

    def _delete_message(self, params: dict[str, Any]) -> bool:
        """Answer deleteMessage."""
        chat_id = _chat_id(params)
        self._messages.pop((chat_id, params.get("message_id", 0)), None)
        return True
