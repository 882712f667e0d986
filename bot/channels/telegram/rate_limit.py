"""Pace Bot API requests so that Telegram never has to answer 429 (flood control).

`SteadyRateLimiter` is a python-telegram-bot rate limiter (pass it to ``ExtBot`` or
``ApplicationBuilder.rate_limiter``). Requests to a chat start one at a time at a steady
overall pace; sends also take a token from their chat's bucket; a person's own replies go
first and are not held back by the pace. The full rules: docs/architecture.md, "Pacing
Telegram"; why: docs/decisions/0003-telegram-pacing.md.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import heapq
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeAlias

import aiohttp
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

logger = logging.getLogger(__name__)

ApiResult: TypeAlias = "bool | dict[str, Any] | list[dict[str, Any]]"

# Message sends besides the send* methods; and the send* method that sends no message.
_OTHER_MESSAGE_SENDS = frozenset(
    {"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"}
)
_NOT_MESSAGE_SENDS = frozenset({"sendChatAction"})
# Clock readings this close are the same instant (float rounding, not time).
_EPSILON = 1e-9
# Forget fully refilled chats once this many are tracked (and then at twice the survivors).
_MIN_SWEEP = 1024
# How long the next request waits for one let go to be written (see the module doc).
START_WAIT_SECONDS = 0.5
# Sends a chat's replies may run ahead of 1 a second: more than a person types or taps in a
# quick exchange, since each turn is one message (bot/turns.py).
REPLY_BURST = 20


def is_message_send(endpoint: str) -> bool:
    """Whether a Bot API method puts a message in a chat, and so counts per chat."""
    return (
        endpoint.startswith("send") and endpoint not in _NOT_MESSAGE_SENDS
    ) or endpoint in _OTHER_MESSAGE_SENDS


def _chat_key(chat_id: object) -> int | str:
    """One key per chat whether its id came as an int or a numeric string."""
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id)
    try:
        return int(text)
    except ValueError:
        return text


def _seconds(exc: RetryAfter) -> float:
    """The retry_after of a 429 in seconds (PTB gives an int or a timedelta)."""
    value = exc.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


@dataclass(eq=False)
class _Chat:
    """A chat's token bucket, kept as GCRA state, and its sends not yet released."""

    # The bucket is full again once the clock reaches `full_at`.
    full_at: float = -math.inf
    # Unreleased sends, a heap by (class, arrival number); the first is the chat's next send.
    pending: list[tuple[tuple[int, int], _Request]] = field(default_factory=list)
    # A send was released and has not started yet.
    starting: bool = False


@dataclass(eq=False)
class _Request:
    """One attempt of a paced request, waiting for the pacer to release it."""

    seq: int
    future: asyncio.Future[None]
    # Replies go before proactive messages, and may run further ahead of their chat's bucket.
    reply: bool = False
    chat: _Chat | None = None
    # Whether it sits in the ready heap or the timer heap.
    queued: bool = False
    # Once released: the pacer waits on it for the moment the request really starts.
    started: asyncio.Future[float] | None = None

    @property
    def order(self) -> tuple[int, int]:
        """Its place in a queue: replies first, then by arrival."""
        return (0 if self.reply else 1, self.seq)


# The paced request the current task is making, for the trace hooks to mark it written.
_MAKING: ContextVar[_Request | None] = ContextVar("paced_request", default=None)
# Whether the current task answers a person's own message (see `replying`).
_REPLYING: ContextVar[bool] = ContextVar("replying", default=False)


@contextmanager
def replying() -> Iterator[None]:
    """Mark the Bot API requests made inside (and in tasks started inside) as replies.

    A reply answers what a person just sent: it goes before proactive messages in the overall
    queue and may use up to ``reply_burst`` of its chat's tokens at once, so that a person
    chatting quickly is never kept waiting by the per-chat pace. Everything else (the outbox,
    nudges, status messages) is proactive and keeps to ``per_chat_burst``.
    """
    token = _REPLYING.set(True)
    try:
        yield
    finally:
        _REPLYING.reset(token)


def replies(
    handler: Callable[..., Coroutine[Any, Any, None]],
) -> Callable[..., Coroutine[Any, Any, None]]:
    """A python-telegram-bot handler whose requests are replies (see `replying`)."""

    @wraps(handler)
    async def handle(*args: Any, **kwargs: Any) -> None:
        with replying():
            await handler(*args, **kwargs)

    return handle


class SteadyRateLimiter(BaseRateLimiter[int]):
    """Paces chat-addressed requests overall and message sends per chat; see the module doc.

    ``rate_limit_args`` of a request, if given, is its own ``max_retries``.
    """

    def __init__(
        self,
        rate: float = 29.0,
        *,
        per_chat_per_second: float = 1.0,
        per_chat_burst: int = 3,
        reply_burst: int = REPLY_BURST,
        max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        """Pace at `rate` requests per second overall; `clock` and `sleep` must agree."""
        if not rate > 0:
            raise ValueError("rate must be positive")
        if not per_chat_per_second > 0:
            raise ValueError("per_chat_per_second must be positive")
        if per_chat_burst < 1:
            raise ValueError("per_chat_burst must be at least 1")
        if reply_burst < per_chat_burst:
            raise ValueError("reply_burst must be at least per_chat_burst")
        if max_retries < 0:
            raise ValueError("max_retries cannot be negative")
        self.rate = float(rate)
        self.per_chat_per_second = float(per_chat_per_second)
        self.per_chat_burst = per_chat_burst
        self.reply_burst = reply_burst
        self.max_retries = max_retries
        self._clock = clock
        self._sleep = sleep
        self._interval = 1.0 / self.rate
        # At most this many starts in any second (at least one, for rates below 1/s).
        self._per_second = max(1, math.floor(self.rate + _EPSILON))
        self._per_chat_interval = 1.0 / self.per_chat_per_second
        # How far ahead of the clock a chat's bucket may be booked and still have a token.
        self._tolerance = (per_chat_burst - 1) * self._per_chat_interval
        self._reply_tolerance = (reply_burst - 1) * self._per_chat_interval
        self._seq = itertools.count()
        self._pacer: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Event | None = None
        self._on_the_wire = False  # whether trace_config was handed out
        # Sends (replies and proactive ones) that had to wait for their chat's bucket.
        self.held_for_chat = 0
        self.replies_held_for_chat = 0
        self._reset_schedule()

    def _reset_schedule(self) -> None:
        """Forget every queue, bucket and pause."""
        self._ready: list[tuple[tuple[int, int], _Request]] = []
        self._timers: list[tuple[float, int, _Request]] = []
        self._chats: dict[int | str, _Chat] = {}
        self._sweep_at = _MIN_SWEEP
        self._next_slot = -math.inf
        self._paused_until = -math.inf
        self._recent_starts: deque[float] = deque(maxlen=self._per_second)

    @property
    def tracked_chats(self) -> int:
        """How many chats' buckets are held (those not yet full again or with sends waiting)."""
        return len(self._chats)

    @property
    def paused_until(self) -> float:
        """Until when (on the clock) a 429 holds the paced requests; -inf if it never did."""
        return self._paused_until

    def trace_config(self) -> aiohttp.TraceConfig:
        """Hooks for the bot's aiohttp session (``ClientSession(trace_configs=[...])``) that let
        the limiter count each request from when it is written."""
        self._on_the_wire = True
        config = aiohttp.TraceConfig()
        # A body's first chunk goes to the socket in the same step as this hook; a request
        # without a body counts from its answer; a failed one from its failure.
        for signal in (
            config.on_request_chunk_sent,
            config.on_request_end,
            config.on_request_exception,
        ):
            signal.append(self._on_written)
        return config

    async def _on_written(self, session: Any, context: Any, params: Any) -> None:
        making = _MAKING.get()
        if making is not None:
            self._mark_started(making)

    def _mark_started(self, request: _Request) -> None:
        if request.started is not None and not request.started.done():
            request.started.set_result(self._clock())

    async def initialize(self) -> None:
        """Nothing to do: the pacer starts with the first paced request."""

    async def shutdown(self) -> None:
        """Stop the pacer; requests still waiting for their turn are cancelled."""
        pacer, self._pacer = self._pacer, None
        if pacer is not None and not pacer.done():
            pacer.cancel()
            try:
                await pacer
            except asyncio.CancelledError:
                pass
        self._cancel_waiting()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, ApiResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> ApiResult:
        """Wait for the request's turn, make it, and retry it after a 429."""
        max_retries = self.max_retries if rate_limit_args is None else rate_limit_args
        chat_id = data.get("chat_id")
        paced = chat_id is not None
        chat = _chat_key(chat_id) if paced and is_message_send(endpoint) else None
        # The arrival number orders the paced requests; a retry keeps it and so goes first.
        seq = next(self._seq)
        reply = _REPLYING.get()
        attempt = 0
        while True:
            making = None
            if paced:
                making = await self._acquire(seq, chat, reply)
            token = _MAKING.set(making)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = _seconds(exc)
                # Telegram wants quiet for `seconds` even when this request gives up.
                self._pause(seconds, endpoint, attempt, max_retries)
                if attempt >= max_retries:
                    raise
                attempt += 1
                if not paced:
                    # The pacer holds the paced ones; an unpaced request waits by itself.
                    await self._sleep(seconds)
            finally:
                _MAKING.reset(token)
                if making is not None:
                    self._mark_started(making)  # it never reached the write (or no hooks)

    def _pause(self, seconds: float, endpoint: str, retries: int, max_retries: int) -> None:
        """Hold all paced requests for `seconds` from now; warn once per pause."""
        now = self._clock()
        until = now + seconds
        if now >= self._paused_until:
            logger.warning(
                "Telegram flood control: %s answered 429; holding chat requests for %.1f s (%s)",
                endpoint,
                seconds,
                f"retry {retries + 1} of {max_retries}"
                if retries < max_retries
                else f"giving up on it after {retries} retries",
            )
        else:
            logger.debug("Telegram flood control: %s answered 429 during a pause", endpoint)
        if until > self._paused_until:
            self._paused_until = until
            if self._wakeup is not None:
                self._wakeup.set()

    async def _acquire(self, seq: int, chat_key: int | str | None, reply: bool) -> _Request:
        """Return once the pacer releases this request."""
        loop = asyncio.get_running_loop()
        if self._pacer is not None and self._pacer.get_loop() is not loop:
            # Used from a new event loop: what was queued on the old one can never run.
            self._cancel_waiting()
            self._pacer = None
        request = _Request(seq, loop.create_future(), reply)
        now = self._clock()
        if chat_key is None:
            self._schedule(request, now)
        else:
            chat = self._chats.get(chat_key)
            if chat is None:
                if len(self._chats) >= self._sweep_at:
                    self._sweep(now)
                chat = self._chats[chat_key] = _Chat()
            request.chat = chat
            heapq.heappush(chat.pending, (request.order, request))
            if chat.pending[0][1] is request:
                self._schedule(request, now)
            # Otherwise an earlier send of the chat is still waiting; this one follows it.
        if self._pacer is None or self._pacer.done():
            self._wakeup = asyncio.Event()
            self._pacer = loop.create_task(self._pace(self._wakeup), name="steady-rate-limiter")
            self._pacer.add_done_callback(self._pacer_done)
        try:
            await request.future
        except BaseException:
            # Released and cancelled just now: let the pacer go on to the next one.
            self._mark_started(request)
            raise
        if not self._on_the_wire:
            self._mark_started(request)  # without the hooks it counts from now
        return request

    def _tolerance_of(self, request: _Request) -> float:
        """How far ahead of the clock the request may find its chat's bucket booked."""
        return self._reply_tolerance if request.reply else self._tolerance

    def _schedule(self, request: _Request, now: float) -> None:
        """Queue a chat's next send (or an overall-only request) for the pacer."""
        if request.queued:
            return
        request.queued = True
        chat = request.chat
        eligible = -math.inf if chat is None else chat.full_at - self._tolerance_of(request)
        if eligible <= now + _EPSILON:
            heapq.heappush(self._ready, (request.order, request))
        else:
            self.held_for_chat += 1
            self.replies_held_for_chat += request.reply
            heapq.heappush(self._timers, (eligible, request.seq, request))
        if self._wakeup is not None:
            self._wakeup.set()

    def _advance(self, chat: _Chat, now: float) -> None:
        """Queue the chat's next send, skipping cancelled ones."""
        pending = chat.pending
        while pending and pending[0][1].future.done():
            heapq.heappop(pending)
        if pending:
            self._schedule(pending[0][1], now)

    def _sweep(self, now: float) -> None:
        """Drop the buckets that are full again and have nothing waiting."""
        self._chats = {
            key: chat
            for key, chat in self._chats.items()
            if chat.pending or chat.starting or chat.full_at > now + _EPSILON
        }
        self._sweep_at = max(_MIN_SWEEP, 2 * len(self._chats))

    def _take_releasable(self, now: float, *, replies_only: bool = False) -> _Request | None:
        """Pop the earliest-arrived request that may start now, if any (only a reply, when
        the slot was a reply's)."""
        while self._ready:
            if replies_only and not self._ready[0][1].reply:
                return None
            _, request = heapq.heappop(self._ready)
            request.queued = False
            chat = request.chat
            if request.future.done():  # cancelled while waiting
                if chat is not None and chat.pending and chat.pending[0][1] is request:
                    heapq.heappop(chat.pending)
                    self._advance(chat, now)
                continue
            if chat is None:
                return request
            if chat.pending[0][1] is not request:
                continue  # a retried send of this chat went first; this one is queued again
            if chat.full_at - self._tolerance_of(request) > now + _EPSILON:
                self._schedule(request, now)  # a retry used the token meanwhile
                continue
            heapq.heappop(chat.pending)
            chat.full_at = max(chat.full_at, now) + self._per_chat_interval
            chat.starting = True
            return request
        return None

    async def _pace(self, wakeup: asyncio.Event) -> None:
        """Release the queued requests one slot at a time, for as long as the loop runs."""
        loop = asyncio.get_running_loop()
        slot: float | None = None
        early = False
        while True:
            wakeup.clear()
            now = self._clock()
            while self._timers and self._timers[0][0] <= now + _EPSILON:
                _, _, request = heapq.heappop(self._timers)
                heapq.heappush(self._ready, (request.order, request))
            if now < self._paused_until - _EPSILON:
                slot = None
                await self._sleep(self._paused_until - now)
                continue
            if not self._ready:
                slot = None
                if self._timers:
                    await self._sleep_or_wakeup(self._timers[0][0] - now, wakeup)
                else:
                    await wakeup.wait()
                continue
            if slot is None:
                # A reply need not keep the steady spacing, only the limit of any one second:
                # a person's answer never waits behind the previous request's slot.
                early = self._ready[0][1].reply
                slot = now if early else max(now, self._next_slot)
                if len(self._recent_starts) == self._per_second:
                    slot = max(slot, self._recent_starts[0] + 1.0)
            if now < slot - _EPSILON:
                await self._sleep(slot - now)
                continue
            released = self._take_releasable(now, replies_only=early)
            if released is None:
                slot = None
                continue
            started = released.started = loop.create_future()
            released.future.set_result(None)
            # What comes after a reply that went early still keeps the spacing from it.
            self._next_slot = max(self._next_slot, slot + self._interval)
            slot = None
            start = await self._started(started)
            self._recent_starts.append(start)
            chat = released.chat
            if chat is not None:
                # Charged from when the send really started, which is what Telegram sees.
                chat.full_at = max(chat.full_at, start + self._per_chat_interval)
                chat.starting = False
                self._advance(chat, start)

    async def _started(self, started: asyncio.Future[float]) -> float:
        """When a released request started; counted from now if it takes too long to write."""
        if not self._on_the_wire:
            return await started  # it counts from when it was let go: that is moments away
        if not started.done():
            sleeper = asyncio.ensure_future(self._sleep(START_WAIT_SECONDS))
            try:
                either: set[asyncio.Future[Any]] = {started, sleeper}
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
            if not started.done():
                started.set_result(self._clock())
        return started.result()

    async def _sleep_or_wakeup(self, seconds: float, wakeup: asyncio.Event) -> None:
        """Sleep until `seconds` pass or something is queued, whichever comes first."""
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waiter = asyncio.ensure_future(wakeup.wait())
        try:
            await asyncio.wait({sleeper, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waiter.cancel()

    def _pacer_done(self, task: asyncio.Task[None]) -> None:
        """If the pacer died, fail the waiting requests rather than leave them hanging."""
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            return
        logger.error("The rate limiter's pacer failed", exc_info=error)
        self._cancel_waiting(error)
        if self._pacer is task:
            self._pacer = None

    def _cancel_waiting(self, error: BaseException | None = None) -> None:
        """End every request still waiting for its turn and forget the schedule."""
        waiting = [request for _, request in self._ready]
        waiting += [request for _, _, request in self._timers]
        waiting += [request for chat in self._chats.values() for _, request in chat.pending]
        for request in waiting:
            if request.future.done():
                continue
            if error is None:
                request.future.cancel()
            else:
                request.future.set_exception(error)
        self._reset_schedule()
