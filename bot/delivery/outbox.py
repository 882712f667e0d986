"""Delivering the outbox: handover summaries to recruiters, status messages and nudges to people.

Each row is sent at most once per idempotency key, through its Channel (bot/channels/),
retried with backoff while the channel is down, and reported in the log (an
ALERT line) after the last attempt. A send cut off by a restart is found again before a resend:
a Telegram message by its buttons (bot/channels/telegram/sender.py); an e-mail is sent again
with the same Message-ID, which mail systems treat as one message.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.channels import Ambiguous, Blocked, Channel, PermanentError, RetryLater, Superseded
from core.db import in_thread
from core.settings import Settings
from core.time import utcnow
from store.nudge_dispatch import NUDGE_KIND, Rules, Verdict
from store.outbox import (
    Claimed,
    claim,
    put_back,
    record_outcome,
    renew_lease,
    retry_after,
    still_allowed,
)

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
# How long after a chat turn the outbox looks (see OutboxWorker.wake_soon).
TURN_WAKE_SECONDS = 0.25
LANES = 6
# Rows a claim looks at beyond the one it wants: for chats busy elsewhere and rows the other
# lanes are claiming.
SPARE = LANES + 4


class OutboxWorker:
    """Sends due outbox rows; woken when new rows are queued, else polling."""

    def __init__(
        self,
        settings: Settings,
        engine: Callable[[], Engine],
        channels: Iterable[Channel] = (),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self._engine = engine
        self._clock = clock
        # The gateway's channels (bot/gateway.py); their rows wait for another gateway, or for
        # the person (the web chat), where there is none.
        self._channels = {channel.name: channel for channel in channels}
        self._floors = {name: channel.floor for name, channel in self._channels.items()}
        # The wake-ups of the lanes waiting for one, in the order they went idle.
        self._idle: deque[asyncio.Event] = deque()
        # Calls no idle lane was there to take: as many lanes look again before idling.
        self._missed = 0
        # The one wake_soon pending, for all the turns until it fires.
        self._soon: asyncio.TimerHandle | None = None
        self.soon_seconds = TURN_WAKE_SECONDS
        self.idle_lanes = 0  # lanes waiting for a wake or the next poll
        self._failing = False
        self._task: asyncio.Task[None] | None = None
        self._rules = Rules(quiet=settings.quiet_hours)

    def start(self) -> None:
        """Run in the background until stop()."""
        self._task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        """Stop after the current send."""
        if self._soon is not None:
            self._soon.cancel()
            self._soon = None
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def wake(self) -> None:
        """Look at the outbox now with every lane: much may have been queued."""
        self._call(LANES)

    def wake_one(self) -> None:
        """Look at the outbox now with one lane: something was queued. A lane that finds more
        due than it takes calls one more lane in, which does the same, so a backlog soon has
        every lane sending while a single row costs a single look, not one per lane."""
        self._call(1)

    def wake_soon(self) -> None:
        """`wake_one`, `soon_seconds` from now, once for every call until then: after a chat
        turn. Most turns queue nothing, and a claim that finds nothing still costs a few
        milliseconds of processor, which one look for all the turns of that moment spares the
        next replies; what a turn did queue (a recruiter's summary) goes a moment later."""
        if self._soon is None:
            self._soon = asyncio.get_running_loop().call_later(
                self.soon_seconds, self._wake_soon_now
            )

    def _wake_soon_now(self) -> None:
        self._soon = None
        self.wake_one()

    async def _run(self) -> None:
        # A few lanes side by side, so the database work around one send overlaps the wait for
        # the next; the bot's rate limiter paces what they send together. Each lane goes on
        # while rows are due and idles on its own, so one busy lane never keeps the others
        # waiting.
        await asyncio.gather(*(self._keep_sending() for _ in range(LANES)))

    def _call(self, lanes: int) -> None:
        """Have `lanes` more lanes look: idle ones now, busy ones when their pass ends."""
        while lanes and self._idle:
            self._idle.popleft().set()
            lanes -= 1
        self._missed = min(LANES, self._missed + lanes)

    async def _keep_sending(self) -> None:
        while True:
            try:
                await self._lane(await self._sendable())
            except Exception as error:  # the worker must outlive a database outage
                if not self._failing:  # one line per outage, not one per lane and poll
                    logger.error("The outbox could not be read: %s; retrying",
                                 type(error).__name__)  # fmt: skip
                self._failing = True
            else:
                if self._failing:
                    logger.info("The outbox can be read again")
                self._failing = False
            if self._missed:
                # Called while this lane was looking: what was queued may have come after.
                self._missed -= 1
                continue
            woken = asyncio.Event()
            self._idle.append(woken)
            self.idle_lanes += 1
            try:
                # Every lane also looks at each poll.
                await asyncio.wait_for(woken.wait(), self.settings.outbox_poll_seconds)
            except asyncio.TimeoutError:
                pass
            finally:
                self.idle_lanes -= 1
                if not woken.is_set():
                    self._idle.remove(woken)

    async def _sendable(self) -> tuple[str, ...]:
        # A channel not ready (Telegram not connected yet): its rows are left alone rather
        # than have their attempts used up.
        return tuple([name for name, channel in self._channels.items() if await channel.ready()])

    async def drain(self) -> int:
        """Send every due row now; the number handled."""
        channels = await self._sendable()
        counts = await asyncio.gather(*(self._lane(channels) for _ in range(LANES)))
        return sum(counts)

    async def _lane(self, channels: tuple[str, ...]) -> int:
        """Send due rows one at a time while there are more; the number handled."""
        handled = 0
        while channels:
            now = self._clock()
            lease = timedelta(seconds=self.settings.outbox_lease_seconds)
            # One row at a time: a gateway killed mid-send leaves at most one row per lane whose
            # fate must be looked up at Telegram, not a whole batch.
            claimed, more = await self._in_session(
                partial(self._claim_one, now=now, lease=lease, channels=channels)
            )
            if not claimed:
                return handled
            if more:
                # More is due: one more lane comes to help, and it calls the next if it too
                # finds more, so a backlog soon has every lane sending.
                self._call(1)
            for row, verdict in claimed:
                await self._deliver(row, verdict)
                handled += 1
            if not more:
                # Nothing else was due. What is queued from now on calls a lane in itself.
                return handled
        return handled

    def _claim_one(
        self, session: Session, *, now: datetime, lease: timedelta, channels: tuple[str, ...]
    ) -> tuple[list[tuple[Claimed, Verdict]], bool]:
        """A due row, and whether it may still go out (see still_allowed), in one transaction;
        and whether more rows were due."""
        rows, more = claim(
            session=session,
            now=now,
            lease=lease,
            channels=channels,
            floors=self._floors,
            most=1,
            spare=SPARE,
        )
        return [(row, still_allowed(row, now, self._rules, session=session)) for row in rows], more

    def _lease_end(self) -> datetime:
        return self._clock() + timedelta(seconds=self.settings.outbox_lease_seconds)

    async def _in_session(self, work: Callable[[Session], Any]) -> Any:
        return await in_thread(self._engine(), work)

    async def _deliver(self, row: Claimed, verdict: Verdict) -> None:
        if isinstance(verdict, datetime):
            await self._defer(row, verdict)
            return
        if verdict == "cancel":
            await self._finish(row, "cancelled", None)
            logger.info("Outbox #%s (%s) cancelled: no longer wanted", row.id,
                        row.payload.get("kind"))  # fmt: skip
            return
        channel = self._channels[row.channel]
        nudge = row.payload.get("kind") == NUDGE_KIND
        if nudge and not await channel.can_reach(row.recipient):
            # Unasked, and the channel cannot reach the person now (WhatsApp after 24 hours).
            await self._finish(row, "cancelled", "the channel cannot reach the person unasked now")
            logger.info("Outbox #%s (nudge) cancelled: %s cannot reach the person now", row.id,
                        row.channel)  # fmt: skip
            return
        try:
            provider_id = await channel.send(row, partial(self._still_mine, row))
        except Superseded as error:
            logger.info("%s", error)
            return
        except Blocked as error:
            await self._finish(row, "failed", str(error), blocked=True)
            if nudge:
                # Not an operational fault: the person chose to block the bot.
                logger.info("Outbox #%s: the person blocked the bot; nudges stopped", row.id)
            else:
                self._alert(row, str(error))
            return
        except PermanentError as error:
            await self._finish(row, "failed", str(error))
            self._alert(row, str(error))
            return
        except Ambiguous as error:
            await self._retry(row, str(error), None, keep_sending=True)
            return
        except RetryLater as error:
            # A row cut off mid-send stays so until it has been looked for at Telegram.
            await self._retry(row, str(error), error.delay, keep_sending=row.recovered)
            return
        await self._finish(row, "sent", provider_id)

    async def _still_mine(self, row: Claimed) -> bool:
        """Renew the claim on `row`; False when another worker has taken it over."""
        until = self._lease_end()
        return bool(
            await self._in_session(
                lambda session: renew_lease(session=session, row=row, until=until)
            )
        )

    async def _defer(self, row: Claimed, until: datetime) -> None:
        """Not now (a nudge in the quiet hours): back to pending, without using an attempt."""
        await self._in_session(lambda session: put_back(session=session, row=row, until=until))

    async def _finish(
        self, row: Claimed, status: str, detail: str | None, *, blocked: bool = False
    ) -> None:
        now = self._clock()
        await self._in_session(
            lambda session: record_outcome(
                session=session, row=row, status=status, detail=detail, now=now, blocked=blocked
            )
        )
        if status == "sent":
            logger.info("Outbox #%s sent (%s, %s)", row.id, row.payload.get("kind"), row.channel)

    async def _retry(
        self, row: Claimed, reason: str, delay: float | None, *, keep_sending: bool = False
    ) -> None:
        if row.attempts >= self.settings.outbox_max_attempts:
            await self._finish(row, "failed", reason)
            self._alert(row, reason)
            return
        backoff = timedelta(seconds=self.settings.outbox_retry_seconds * 2 ** (row.attempts - 1))
        wait = timedelta(seconds=delay) if delay is not None else min(backoff, MAX_BACKOFF)
        # Cut off mid-send, the row stays `sending` until the wait is over, then is looked for
        # at the channel before a resend.
        at = self._clock() + wait
        await self._in_session(
            lambda session: retry_after(
                session=session, row=row, reason=reason, at=at, keep_sending=keep_sending
            )
        )
        logger.warning(
            "Outbox #%s (%s, %s): attempt %s failed (%s); next in %.0f s",
            row.id,
            row.payload.get("kind"),
            row.channel,
            row.attempts,
            reason,
            wait.total_seconds(),
        )

    @staticmethod
    def _alert(row: Claimed, reason: str) -> None:
        logger.error(
            "ALERT: outbox #%s (%s to %s, handover %s) was not delivered after %s attempt(s): %s",
            row.id,
            row.payload.get("kind"),
            row.channel,
            row.handover_id,
            row.attempts,
            reason,
        )
