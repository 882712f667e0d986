"""The Bot API client's HTTP requests, made with aiohttp.

python-telegram-bot makes its requests through a `BaseRequest`; its own one uses httpx. On this
kind of machine an httpx request costs about 4 ms of processor time against 1.5 ms with
aiohttp's C parser, and every reply of every turn pays it
(docs/decisions/0005-aiohttp-for-the-bot-api.md).
The wire format is python-telegram-bot's: form fields (values JSON-encoded where they are not
strings) in an ``application/x-www-form-urlencoded`` body, or ``multipart/form-data`` when a
file is uploaded.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from urllib.parse import urlencode

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# A Bot API path holds the bot token: /bot<token>/<method>, /file/bot<token>/<path>.
_TOKEN_IN_PATH = re.compile(r"/bot[^/\s]+")
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _without_token(text: str) -> str:
    return _TOKEN_IN_PATH.sub("/bot<token>", text)


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one aiohttp session, with python-telegram-bot's timeouts.

    aiohttp has no write timeout: a request's total time is bounded by the sum of its connect,
    pool, write and read timeouts instead (when all are set).
    """

    __slots__ = (
        "_connection_pool_size",
        "_defaults",
        "_media_write_timeout",
        "_session",
        "_trace_configs",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
    ) -> None:
        self._connection_pool_size = connection_pool_size
        self._defaults = {
            "read": read_timeout,
            "write": write_timeout,
            "connect": connect_timeout,
            "pool": pool_timeout,
        }
        self._media_write_timeout = media_write_timeout
        self._trace_configs = list(trace_configs)
        # Made in the event loop that uses it (`initialize` or the first request).
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout, in seconds."""
        return self._defaults["read"]

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connection_pool_size),
                trace_configs=self._trace_configs,
                # No proxy from the environment and no cookies: the Bot API needs neither.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def initialize(self) -> None:
        """Open the session."""
        self._open()

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def _timeout(
        self,
        files: bool,
        read: ODVInput[float],
        write: ODVInput[float],
        connect: ODVInput[float],
        pool: ODVInput[float],
    ) -> aiohttp.ClientTimeout:
        if isinstance(read, DefaultValue):
            read = self._defaults["read"]
        if isinstance(write, DefaultValue):
            write = self._media_write_timeout if files else self._defaults["write"]
        if isinstance(connect, DefaultValue):
            connect = self._defaults["connect"]
        if isinstance(pool, DefaultValue):
            pool = self._defaults["pool"]
        parts = (read, write, connect, pool)
        total = None if any(part is None for part in parts) else sum(parts)  # type: ignore[arg-type]
        waiting = None if pool is None or connect is None else pool + connect
        return aiohttp.ClientTimeout(
            total=total, connect=waiting, sock_connect=connect, sock_read=read
        )

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Make one request; its status and body. Errors as python-telegram-bot's own."""
        session = self._open()
        headers = {"User-Agent": self.USER_AGENT}
        files = bool(request_data and request_data.contains_files)
        data: aiohttp.FormData | bytes | None = None
        if request_data is not None and request_data.multipart_data:
            # Names and file names as browsers and httpx send them: UTF-8, quotes escaped.
            form = aiohttp.FormData(request_data.json_parameters, quote_fields=False)
            for name, (filename, content, mimetype) in request_data.multipart_data.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            data = form
        elif request_data is not None and request_data.json_parameters:
            data = urlencode(request_data.json_parameters).encode()
            headers.update(_FORM)
        timeout = self._timeout(files, read_timeout, write_timeout, connect_timeout, pool_timeout)
        try:
            async with session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except asyncio.TimeoutError as error:
            if isinstance(error, aiohttp.ConnectionTimeoutError):
                raise TimedOut(
                    "No connection to Telegram in time (pool or connect timeout); the request "
                    "was not sent."
                ) from error
            raise TimedOut from error
        except aiohttp.ClientError as error:
            # The class name says what kind of failure; the text never carries the token.
            name = type(error).__name__
            raise NetworkError(f"aiohttp.{name}: {_without_token(str(error))}") from error
