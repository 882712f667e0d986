"""Delivering the outbox: handover summaries to recruiters, status messages to people.

Each row is sent at most once per idempotency key, retried with backoff while the channel is
down, and reported in the log (an ALERT line) after the last attempt.

A send that was cut off (the gateway killed between sending and recording) leaves its row in
`sending` past its lease. Before such a row is sent again:
- a Telegram message with buttons is looked for in the recruiter's chat, among the message
  ids after the newest one recorded for that chat: `editMessageReplyMarkup` with the very same
  buttons answers "message is not modified" only for a message that has exactly those
  buttons, and the buttons name the handover, so a hit is this message, found without
  changing anything the recruiter sees. Found: recorded as sent. Not found: sent again.
- an e-mail is sent again with the same Message-ID, which mail systems treat as one message.
- a status message to a person is sent again; a repeat says nothing new.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formatdate
from functools import partial
from typing import Any

from sqlalchemy import Engine, Integer, and_, cast, func, or_, select, update
from sqlalchemy.orm import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from core.db import in_thread
from core.settings import Settings
from core.time import utcnow
from store.handovers import mark_delivered
from store.models import OPEN_HANDOVER_STATUSES, Handover, OutboxMessage
from store.nudge_dispatch import DEFAULT_RULES, NUDGE_KIND, Rules, finish_nudge, send_check
from store.profiles import has_consent

logger = logging.getLogger(__name__)

PUSH_CHANNELS = ("telegram", "email")
MAX_BACKOFF = timedelta(hours=1)
BATCH = 50
# How long after a chat turn the outbox looks (see OutboxWorker.wake_soon).
TURN_WAKE_SECONDS = 0.25
LANES = 6
CLAIM_TRIES = 3
NOT_MODIFIED = "message is not modified"


class PermanentError(Exception):
    """A delivery that can never succeed (blocked bot, unknown address)."""


class Superseded(Exception):
    """Another worker claimed the row meanwhile; it sends, this one lets go."""


class Blocked(PermanentError):
    """The person blocked the bot (Telegram 403)."""


class RetryLater(Exception):
    """A delivery to try again, after `delay` seconds when given."""

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


class Ambiguous(Exception):
    """The channel may or may not have the message (a timeout after sending)."""


@dataclass(frozen=True)
class Claimed:
    """A row claimed for sending, as plain values (used outside the session)."""

    id: int
    channel: str
    recipient: str
    payload: dict[str, Any]
    attempts: int
    handover_id: int | None
    recovered: bool  # found in `sending` past its lease: the last attempt was cut off
    previous_message_id: int | None


class MessageIds:
    """The newest Telegram message id this gateway has seen, for where to start looking.

    In private chats (and basic groups) a bot's message ids come from one sequence across
    all its chats, so the newest id seen anywhere, taken just before a send, is a close lower
    bound for that send's id. Supergroups (ids starting -100) count per chat: there only the
    chat's own recorded ids count.

    The same sequence bounds a cut-off send from above: every message this process has sent
    was made after the sends a killed predecessor cut off. (An update can be older: Telegram
    delivers again what a killed gateway did not answer.)
    """

    def __init__(self) -> None:
        self.newest = 0
        self.first_sent = 0  # the id of the first message this process sent
        self.newest_sent = 0

    def note(self, message_id: int | None, *, sent: bool = False) -> None:
        """Remember an id from an update or (`sent`) from one of our sends."""
        if message_id is None:
            return
        self.newest = max(self.newest, message_id)
        if sent:
            self.first_sent = self.first_sent or message_id
            self.newest_sent = max(self.newest_sent, message_id)

    def ceiling(self, start: int) -> int | None:
        """The highest id a send cut off before `start`'s claim can have in a private chat, when
        known: below the first send after a restart, else at most the newest send since."""
        if self.first_sent >= start:  # sent only since the cut-off: a restart
            return self.first_sent - 1
        if self.newest_sent >= start:
            return self.newest_sent
        return None

    def floor(self, chat_id: str, recorded: int | None) -> int | None:
        """Where a cut-off send to `chat_id` can start, from the chat's recorded ids and ours."""
        if chat_id.startswith("-100"):
            return recorded
        return max(recorded or 0, self.newest) or None


def keyboard(payload: dict[str, Any]) -> InlineKeyboardMarkup | None:
    """The recruiter's buttons of a summary, one per row."""
    rows = [
        [InlineKeyboardButton(title, callback_data=data)]
        for title, data in payload.get("buttons") or []
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def email_message(settings: Settings, row: Claimed) -> EmailMessage:
    """The e-mail for a row: plain text with an HTML alternative, a stable Message-ID."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = row.recipient
    message["Subject"] = row.payload.get("subject") or "Werkmaatje"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = row.payload.get("message_id") or f"<outbox-{row.id}@werkmaatje>"
    message.set_content(row.payload["text"])
    if row.payload.get("html"):
        message.add_alternative(row.payload["html"], subtype="html")
    return message


def send_email(settings: Settings, message: EmailMessage) -> None:
    """Hand one e-mail to the SMTP server (blocking; run it in a thread)."""
    assert settings.smtp_host is not None
    timeout = settings.smtp_timeout_seconds
    try:
        client: smtplib.SMTP
        if settings.smtp_security == "ssl":
            client = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with client:
            if settings.smtp_security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_username and settings.smtp_password is not None:
                client.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentError("recipient refused") from error
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:
            raise PermanentError(f"SMTP {error.smtp_code}") from error
        raise RetryLater(f"SMTP {error.smtp_code}") from error
    except (smtplib.SMTPException, OSError) as error:
        raise RetryLater(type(error).__name__) from error


def _due(now: datetime) -> Any:
    return or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
    )


def _last_known_message_id(session: Session, recipient: str) -> int | None:
    """The newest Telegram message id recorded for a chat."""
    # Only Telegram rows carry a provider id, and it is always Telegram's numeric message id.
    newest = session.scalar(
        select(func.max(cast(OutboxMessage.provider_message_id, Integer))).where(
            OutboxMessage.channel == "telegram",
            OutboxMessage.recipient == recipient,
            OutboxMessage.provider_message_id.is_not(None),
        )
    )
    return int(newest) if newest is not None else None


def claim(
    session: Session,
    *,
    now: datetime,
    lease: timedelta,
    channels: tuple[str, ...],
    seen: MessageIds | None = None,
    most: int = BATCH,
) -> tuple[list[Claimed], bool]:
    """Claim up to `most` due rows for this process (a row another process holds is left
    alone); and whether more rows were due than it claimed, worth another look."""
    for _ in range(CLAIM_TRIES):
        claimed, lost, more = _claim_once(
            session, now=now, lease=lease, channels=channels, seen=seen, most=most
        )
        if claimed or not lost:
            return claimed, more
    return [], False  # other workers were faster every time: they send


def _claim_once(
    session: Session,
    *,
    now: datetime,
    lease: timedelta,
    channels: tuple[str, ...],
    seen: MessageIds | None,
    most: int,
) -> tuple[list[Claimed], bool, bool]:
    """One try of claim; also whether a row was taken by another worker meanwhile, and
    whether due rows were left (a chat busy, more than `most`)."""
    # A few more than wanted, for chats busy elsewhere and rows other lanes are claiming.
    look_at = min(BATCH, most + LANES + 4)
    # Two queries rather than one with OR: each walks the due index in order, so the cost
    # does not grow with the rows already sent. Rows another worker is claiming right now
    # are skipped rather than waited for (PostgreSQL; SQLite has one writer at a time anyway).
    cut_off = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.status == "sending",
            OutboxMessage.claimed_until < now,
            OutboxMessage.channel.in_(channels),
        )
        .order_by(OutboxMessage.id)
        .limit(look_at)
        .with_for_update(skip_locked=True)
    ).all()
    pending = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.channel.in_(channels),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(look_at)
        .with_for_update(skip_locked=True)
    ).all()
    rows = [*cut_off, *pending]
    claimed: list[Claimed] = []
    lost = False
    busy: set[tuple[str, str]] = set()
    for row in rows:
        if len(claimed) >= most:
            break
        target = (row.channel, row.recipient)
        # One send at a time per chat: the search for a cut-off send relies on it.
        in_flight = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.channel == row.channel,
                OutboxMessage.recipient == row.recipient,
                OutboxMessage.status == "sending",
                OutboxMessage.claimed_until >= now,
                OutboxMessage.id != row.id,
            )
        )
        if target in busy or in_flight:
            continue
        recovered = row.status == "sending"
        previous = row.previous_message_id
        if not recovered and row.channel == "telegram":
            previous = _last_known_message_id(session, row.recipient)
            if seen is not None:
                previous = seen.floor(row.recipient, previous)
        result = session.connection().execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, _due(now))
            .values(
                status="sending",
                claimed_until=now + lease,
                attempts=OutboxMessage.attempts + 1,
                previous_message_id=previous,
            )
        )
        if result.rowcount != 1:
            lost = True  # another worker was faster
            continue
        busy.add(target)
        claimed.append(
            Claimed(
                id=row.id,
                channel=row.channel,
                recipient=row.recipient,
                payload=dict(row.payload),
                attempts=row.attempts + 1,
                handover_id=row.handover_id,
                recovered=recovered,
                previous_message_id=previous,
            )
        )
    return claimed, lost, len(rows) > len(claimed)


def renew_lease(session: Session, *, row: Claimed, until: datetime) -> bool:
    """Extend this worker's claim on a row; False when another worker claimed it since (each
    claim counts an attempt, so the attempt number tells whose claim it is)."""
    result = session.connection().execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == row.id,
            OutboxMessage.status == "sending",
            OutboxMessage.attempts == row.attempts,
        )
        .values(claimed_until=until)
    )
    return result.rowcount == 1


def still_allowed(
    session: Session, row: Claimed, now: datetime, rules: Rules = DEFAULT_RULES
) -> bool | datetime:
    """Whether the row may go out now, or the moment to wait for.

    A summary goes out only while the handover is open, with that recruiter, and shared; a
    nudge only while the person still wants nudges, and not in the quiet hours.
    """
    if row.payload.get("kind") == NUDGE_KIND:
        decision = send_check(
            session, nudge_log_id=int(row.payload["nudge_log_id"]), now=now, rules=rules
        )
        return decision if isinstance(decision, datetime) else decision == "send"
    if row.payload.get("kind") != "handover_summary":
        return True
    handover = session.get(Handover, row.handover_id) if row.handover_id else None
    if handover is None or handover.status not in OPEN_HANDOVER_STATUSES:
        return False
    if handover.recruiter_id != row.payload.get("recruiter_id"):
        return False
    return has_consent(
        session=session, job_seeker=handover.job_seeker, purpose="share_with_recruiter"
    )


class OutboxWorker:
    """Sends due outbox rows; woken when new rows are queued, else polling."""

    def __init__(
        self,
        settings: Settings,
        engine: Callable[[], Engine],
        telegram_bot: Callable[[], Awaitable[Bot | None]] | None = None,
        clock: Callable[[], datetime] = utcnow,
        seen: MessageIds | None = None,
    ) -> None:
        self.settings = settings
        self.seen = seen or MessageIds()
        self._engine = engine
        self._telegram_bot = telegram_bot
        self._clock = clock
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

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels this gateway can push to."""
        channels = []
        if self._telegram_bot is not None:
            channels.append("telegram")
        if self.settings.email_enabled:
            channels.append("email")
        return tuple(channels)

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
        channels = self.channels
        if "telegram" in channels and await self._telegram_bot() is None:  # type: ignore[misc]
            # Not connected yet: leave Telegram's rows alone rather than use up their attempts.
            channels = tuple(channel for channel in channels if channel != "telegram")
        return channels

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
            for row, allowed in claimed:
                await self._deliver(row, allowed)
                handled += 1
            if not more:
                # Nothing else was due. What is queued from now on calls a lane in itself.
                return handled
        return handled

    def _claim_one(
        self, session: Session, *, now: datetime, lease: timedelta, channels: tuple[str, ...]
    ) -> tuple[list[tuple[Claimed, bool | datetime]], bool]:
        """A due row, and whether it may still go out (see still_allowed), in one transaction;
        and whether more rows were due."""
        rows, more = claim(
            session, now=now, lease=lease, channels=channels, seen=self.seen, most=1
        )
        return [(row, still_allowed(session, row, now, self._rules)) for row in rows], more

    def _lease_end(self) -> datetime:
        return self._clock() + timedelta(seconds=self.settings.outbox_lease_seconds)

    async def _in_session(self, work: Callable[[Session], Any]) -> Any:
        return await in_thread(self._engine(), work)

    async def _deliver(self, row: Claimed, allowed: bool | datetime) -> None:
        if isinstance(allowed, datetime):
            await self._defer(row, allowed)
            return
        if not allowed:
            await self._finish(row, "cancelled", None)
            logger.info("Outbox #%s (%s) cancelled: no longer wanted", row.id,
                        row.payload.get("kind"))  # fmt: skip
            return
        try:
            if row.channel == "telegram":
                provider_id = await self._send_telegram(row)
            else:
                await asyncio.to_thread(
                    send_email, self.settings, email_message(self.settings, row)
                )
                provider_id = None
        except Superseded as error:
            logger.info("%s", error)
            return
        except Blocked as error:
            await self._finish(row, "failed", str(error), blocked=True)
            if row.payload.get("kind") == NUDGE_KIND:
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

    async def _send_telegram(self, row: Claimed) -> str | None:
        bot = await self._telegram_bot() if self._telegram_bot is not None else None
        if bot is None:
            raise RetryLater("Telegram is not connected yet", delay=5.0)
        if not row.recipient.lstrip("-").isdigit():
            raise PermanentError("not a Telegram chat id")
        chat_id = int(row.recipient)
        markup = keyboard(row.payload)
        try:
            if row.recovered and markup is not None:
                found = await self._find_cut_off_send(bot, chat_id, row, markup)
                if found is not None:
                    logger.info("Outbox #%s had reached Telegram before a restart", row.id)
                    return str(found)
                # The look-up took time: send only while the row is still this worker's.
                if not await self._in_session(
                    partial(renew_lease, row=row, until=self._lease_end())
                ):
                    raise Superseded(f"outbox #{row.id} was taken over by another worker")
            message = await bot.send_message(
                chat_id,
                row.payload["text"],
                parse_mode=row.payload.get("parse_mode"),
                reply_markup=markup,
            )
        except Forbidden as error:
            raise Blocked("the bot was blocked or removed from the chat") from error
        except BadRequest as error:
            raise PermanentError(f"Telegram refused: {error.message}") from error
        except RetryAfter as error:
            delay = error.retry_after
            seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
            raise RetryLater("Telegram asked to slow down", delay=seconds) from error
        except TimedOut as error:
            # The request may have arrived: look for it before sending again.
            raise Ambiguous("Telegram timed out") from error
        except NetworkError as error:
            raise RetryLater(f"Telegram unreachable ({type(error).__name__})") from error
        self.seen.note(message.message_id, sent=True)
        return str(message.message_id)

    async def _find_cut_off_send(
        self, bot: Bot, chat_id: int, row: Claimed, markup: InlineKeyboardMarkup
    ) -> int | None:
        """The id of this row's message if an earlier, cut-off attempt delivered it."""
        start = (row.previous_message_id or 0) + 1
        end = start + self.settings.outbox_probe_limit - 1
        ceiling = None if str(chat_id).startswith("-100") else self.seen.ceiling(start)
        if ceiling is not None:
            end = min(end, ceiling)
        for message_id in range(start, end + 1):
            try:
                await bot.edit_message_reply_markup(chat_id, message_id, reply_markup=markup)
            except BadRequest as error:
                if NOT_MODIFIED in error.message.lower():
                    return message_id
                continue  # not in this chat, or not ours
            # Edited without complaint: a message of ours no send recorded, so this one.
            return message_id
        return None

    async def _defer(self, row: Claimed, until: datetime) -> None:
        """Not now (a nudge in the quiet hours): back to pending, without using an attempt."""

        def work(session: Session) -> None:
            stored = session.get(OutboxMessage, row.id)
            if stored is not None:
                stored.status = "pending"
                stored.claimed_until = None
                stored.attempts = max(0, stored.attempts - 1)
                # UTC: SQLite keeps the wall time without its zone.
                stored.next_attempt_at = until.astimezone(timezone.utc)

        await self._in_session(work)

    async def _finish(
        self, row: Claimed, status: str, detail: str | None, *, blocked: bool = False
    ) -> None:
        now = self._clock()

        values: dict[str, Any] = {"status": status, "claimed_until": None}
        if status == "sent":
            values.update(sent_at=now, provider_message_id=detail, last_error=None)
        else:
            values.update(last_error=detail)

        def work(session: Session) -> None:
            # Statements rather than a load and a flush: this runs for every message sent.
            result = session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row.id).values(**values)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]  # the person was deleted
                return
            if row.payload.get("kind") == NUDGE_KIND:
                finish_nudge(
                    session,
                    nudge_log_id=int(row.payload["nudge_log_id"]),
                    status="blocked" if blocked else status,
                    detail=None if status == "sent" else detail,
                    now=now,
                )
            if status == "sent" and row.payload.get("kind") == "handover_summary":
                if row.handover_id:
                    mark_delivered(session, row.handover_id, now)

        await self._in_session(work)
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
        now = self._clock()

        def work(session: Session) -> None:
            stored = session.get(OutboxMessage, row.id)
            if stored is None:
                return
            stored.last_error = reason
            if keep_sending:
                # Stays `sending` until the wait is over, then is looked for before a resend.
                stored.claimed_until = now + wait
            else:
                stored.status = "pending"
                stored.claimed_until = None
                stored.next_attempt_at = now + wait

        await self._in_session(work)
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


def take_inbox(session: Session, *, channel: str, recipient: str, now: datetime) -> list[str]:
    """Messages waiting for a person on a channel that cannot be pushed to (the web chat):
    handed over with their next reply, oldest first."""
    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.recipient == recipient,
            OutboxMessage.status == "pending",
        )
        .order_by(OutboxMessage.id)
    ).all()
    for row in rows:
        row.status = "sent"
        row.sent_at = now
    return [str(row.payload.get("text") or "") for row in rows if row.payload.get("text")]
