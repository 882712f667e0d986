"""Nudges out: the scheduled job that sends one person's nudge, and the scheduler around it.

Each person has one job, `nudge:<job_seeker_id>`, a date trigger in APScheduler's
SQLAlchemyJobStore in the project database, whose arguments are plain values (the person's id
and the due moment) so it pickles and survives restarts. When it runs, the job:

1. checks the person still exists and wants nudges (nudge consent, frequency not off, not
   paused, not placed) and that it is not quiet hours (a late run moves to 09:00);
2. claims the nudge by inserting its NudgeLog row, unique on (job_seeker_id, due_at). When
   several gateways run the same job only one insert succeeds and only that gateway sends.
   A claimed row is never sent again, even if the gateway died mid-send: at most once;
3. sends it over Telegram; a 403 (the person blocked the bot) stops their nudges;
4. plans the next one (store.nudge_schedule.next_due).

Which nudge (the alternation rule): a person who told the bot development points, roles or
sectors gets a module after every encouragement, as long as a module they were never sent is
left; everyone else, and every other nudge, is an encouragement. The first nudge is an
encouragement: a warm start before a suggestion.

The action server has no scheduler: what it changes in the database (consent, frequency) the
scheduler picks up with `sync`, every NUDGE_SYNC_SECONDS. That also wakes the scheduler, so
jobs another gateway added are seen within that time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, TelegramError
from telegram.ext import AIORateLimiter, ExtBot

from bot.launcher import database_engine
from bot.settings import Settings
from store.db import session_scope
from store.jobs import _JOBS, JOBS_TABLE, nudge_job_id, stop_nudges
from store.models import (
    ChannelIdentity,
    Consent,
    Handover,
    JobSeeker,
    NudgeLog,
    NudgeSettings,
    ProfileItem,
    SuccessMoment,
    as_utc,
    utcnow,
)
from store.nudge_catalogue import Catalogue, load_catalogue
from store.nudge_choice import choose_encouragement, choose_module
from store.nudge_schedule import AMSTERDAM, in_quiet_hours, next_due, shift_out_of_quiet_hours
from store.profiles import has_consent

logger = logging.getLogger(__name__)

ENCOURAGEMENT = "encouragement"
MODULE = "elearning"
DONE_PREFIX = "nudge:done:"
DONE_BUTTON = {"nl": "Ik heb hem gedaan", "en": "I did it"}
MODULE_INTRO = {"nl": "Misschien iets voor jou", "en": "Something for you, perhaps"}
DEFAULT_FREQUENCY = "weekly"  # NudgeSettings' own default, for someone without a row yet
SYNC_JOB_ID = "nudge-sync"
STOP_TIMEOUT_SECONDS = 10.0
# Rows that say a nudge went out (or may have): they count for rotation and "never repeat".
_DELIVERED = ("claimed", "sent")


@dataclass(frozen=True)
class Claim:
    """A nudge this gateway won the right to send, as plain values."""

    log_id: int
    chat_id: int
    text: str
    button: str | None  # the "I did it" title for a module nudge


@dataclass(frozen=True)
class Outcome:
    """What one run did, and when the person's job runs next (None: no job)."""

    status: str  # sent | failed | blocked | duplicate | paused | deferred | stopped | gone
    run_at: datetime | None = None
    due_at: datetime | None = None  # the due moment the next run claims (later for a deferral)
    log_id: int | None = None


def _utc(moment: datetime) -> datetime:
    # SQLite keeps wall time without the zone: store instants as UTC so the claim key matches.
    return moment.astimezone(timezone.utc)


def _frequency(session: Session, job_seeker_id: int) -> tuple[str, datetime | None]:
    """A person's frequency and pause end."""
    settings = session.get(NudgeSettings, job_seeker_id)
    if settings is None:
        return DEFAULT_FREQUENCY, None
    paused = as_utc(settings.paused_until) if settings.paused_until else None
    return settings.frequency, paused


def last_due(session: Session, job_seeker_id: int) -> datetime | None:
    """The latest due moment in a person's nudge log (sent, failed or missed alike)."""
    latest = session.scalar(
        select(func.max(NudgeLog.due_at)).where(NudgeLog.job_seeker_id == job_seeker_id)
    )
    if latest is None:
        latest = session.scalar(
            select(func.max(NudgeLog.at)).where(NudgeLog.job_seeker_id == job_seeker_id)
        )
    return as_utc(latest) if latest is not None else None


def plan_next(session: Session, job_seeker_id: int, now: datetime) -> datetime | None:
    """When the person's next nudge is due, from their settings and log."""
    frequency, paused_until = _frequency(session, job_seeker_id)
    return next_due(
        now=now,
        frequency=frequency,
        paused_until=paused_until,
        last_sent_at=last_due(session, job_seeker_id),
    )


def _telegram_chat(session: Session, job_seeker_id: int) -> int | None:
    """The person's Telegram chat (a private chat's id is the user's id)."""
    user_id = session.scalar(
        select(ChannelIdentity.channel_user_id)
        .where(
            ChannelIdentity.job_seeker_id == job_seeker_id, ChannelIdentity.channel == "telegram"
        )
        .order_by(ChannelIdentity.id)
        .limit(1)
    )
    return int(user_id) if user_id and user_id.lstrip("-").isdigit() else None


def _placed(session: Session, job_seeker_id: int) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Handover)
            .where(Handover.job_seeker_id == job_seeker_id, Handover.status == "placed")
        )
    )


def _content(
    session: Session, seeker: JobSeeker, catalogue: Catalogue
) -> tuple[str, str | None, str | None, str]:
    """(kind, module id, encouragement id, text) of the person's next nudge."""
    history = session.execute(
        select(NudgeLog.kind, NudgeLog.module_id, NudgeLog.encouragement_id)
        .where(NudgeLog.job_seeker_id == seeker.id, NudgeLog.status.in_(_DELIVERED))
        .order_by(NudgeLog.id)
    ).all()
    items: dict[str, list[str]] = {}
    for kind, value in session.execute(
        select(ProfileItem.kind, ProfileItem.value)
        .where(ProfileItem.job_seeker_id == seeker.id)
        .order_by(ProfileItem.kind, ProfileItem.position)
    ):
        items.setdefault(kind, []).append(value)
    wishes = {
        "development_points": items.get("development_point", []),
        "roles": items.get("role", []),
        "sectors": items.get("sector", []),
    }
    language = seeker.language
    if any(wishes.values()) and history and history[-1].kind == ENCOURAGEMENT:
        done = {row.module_id for row in history if row.module_id}
        module = choose_module(catalogue, done_module_ids=done, **wishes)
        if module is not None:
            text = (
                f"{MODULE_INTRO['en' if language.startswith('en') else 'nl']}: "
                f"{module.title.get(language)} ({module.duration_minutes} min)\n"
                f"{module.description.get(language)}\n{module.url}"
            )
            return MODULE, module.id, None, text
    successes = session.scalars(
        select(SuccessMoment.text)
        .where(SuccessMoment.job_seeker_id == seeker.id)
        .order_by(SuccessMoment.id)
    ).all()
    message_id, text = choose_encouragement(
        catalogue,
        language=language,
        sent_ids=[row.encouragement_id for row in history if row.encouragement_id],
        name=seeker.profile.name if seeker.profile else None,
        talents=items.get("talent", []),
        successes=list(successes),
        seed=seeker.id,
    )
    return ENCOURAGEMENT, None, message_id, text


def claim_nudge(
    session: Session,
    *,
    catalogue: Catalogue,
    job_seeker_id: int,
    due_at: datetime,
    now: datetime,
) -> tuple[str, Claim | None]:
    """Check the person still wants this nudge and claim it; (status, the claim if won)."""
    seeker = session.get(JobSeeker, job_seeker_id)
    if seeker is None:
        return "gone", None
    frequency, paused_until = _frequency(session, job_seeker_id)
    if frequency == "off" or not has_consent(session=session, job_seeker=seeker, purpose="nudges"):
        return "stopped", None
    if _placed(session, job_seeker_id):
        stop_nudges(session, job_seeker_id)
        return "stopped", None
    chat_id = _telegram_chat(session, job_seeker_id)
    if chat_id is None:
        return "stopped", None  # only Telegram can be pushed to for now
    if paused_until is not None and paused_until > now:
        return "paused", None
    if in_quiet_hours(now):
        return "deferred", None
    kind, module_id, encouragement_id, text = _content(session, seeker, catalogue)
    row = NudgeLog(
        job_seeker_id=job_seeker_id,
        kind=kind,
        module_id=module_id,
        encouragement_id=encouragement_id,
        due_at=_utc(due_at),
        status="claimed",
        at=now,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        # Another gateway claimed this due nudge first; it sends, this one does nothing.
        session.rollback()
        return "duplicate", None
    button = DONE_BUTTON["en" if seeker.language.startswith("en") else "nl"]
    return "claimed", Claim(row.id, chat_id, text, button if kind == MODULE else None)


def finish_nudge(
    session: Session, *, claim: Claim, job_seeker_id: int, status: str, detail: str | None
) -> None:
    """Record how the send went; a blocked bot stops the person's nudges."""
    row = session.get(NudgeLog, claim.log_id)
    if row is None:  # the person was deleted while it was being sent
        return
    row.status = status
    row.detail = detail
    if status == "blocked":
        stop_nudges(session, job_seeker_id)


def record_missed(
    session: Session, *, job_seeker_id: int, due_at: datetime, now: datetime
) -> bool:
    """Log a nudge the gateway was down for beyond the grace window; False if already logged."""
    if session.get(JobSeeker, job_seeker_id) is None:
        return False
    # "none": nothing was chosen, so it does not count for rotation.
    session.add(
        NudgeLog(
            job_seeker_id=job_seeker_id,
            kind="none",
            due_at=_utc(due_at),
            status="missed",
            at=now,
        )
    )
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True


def record_completion(
    session: Session, *, nudge_log_id: int, channel: str, channel_user_id: str, now: datetime
) -> bool:
    """The person pressed "Ik heb hem gedaan" on a module nudge; False if it is not theirs."""
    row = session.get(NudgeLog, nudge_log_id)
    if row is None or row.kind != MODULE:
        return False
    owner = session.scalar(
        select(ChannelIdentity.job_seeker_id).where(
            ChannelIdentity.channel == channel, ChannelIdentity.channel_user_id == channel_user_id
        )
    )
    if owner != row.job_seeker_id:
        return False
    if row.completed_at is None:
        row.completed_at = now
    return True


def done_callback_id(data: str) -> int | None:
    """The nudge log id in a button's callback data `nudge:done:<id>`."""
    rest = data.removeprefix(DONE_PREFIX)
    return int(rest) if rest != data and rest.isdigit() else None


async def send_claimed(bot: Bot, claim: Claim) -> tuple[str, str | None]:
    """Send a claimed nudge; (status, detail)."""
    markup = None
    if claim.button is not None:
        button = InlineKeyboardButton(claim.button, callback_data=f"{DONE_PREFIX}{claim.log_id}")
        markup = InlineKeyboardMarkup([[button]])
    try:
        await bot.send_message(claim.chat_id, claim.text, reply_markup=markup)
    except Forbidden:
        return "blocked", "the bot was blocked or removed from the chat"
    except TelegramError as error:
        # Not retried: a late nudge is worth less than a clean rhythm; the next one comes.
        return "failed", f"{type(error).__name__}: {error.message}"[:200]
    return "sent", None


def _in_session(engine: Engine, work: Callable[[Session], Any]) -> Any:
    with session_scope(engine) as session:
        return work(session)


async def deliver_nudge(
    *,
    engine: Engine,
    bot: Bot,
    catalogue: Catalogue,
    job_seeker_id: int,
    due_at: datetime,
    now: datetime,
) -> Outcome:
    """One run of a person's nudge job: claim, send, record, and plan the next one."""
    status, claim = await asyncio.to_thread(
        _in_session,
        engine,
        lambda session: claim_nudge(
            session, catalogue=catalogue, job_seeker_id=job_seeker_id, due_at=due_at, now=now
        ),
    )
    if status in ("gone", "stopped"):
        return Outcome(status)
    if status == "deferred":
        shifted = shift_out_of_quiet_hours(now)
        return Outcome(status, run_at=shifted, due_at=due_at)
    log_id = None
    if claim is not None:
        status, detail = await send_claimed(bot, claim)
        log_id = claim.log_id
        await asyncio.to_thread(
            _in_session,
            engine,
            lambda session: finish_nudge(
                session, claim=claim, job_seeker_id=job_seeker_id, status=status, detail=detail
            ),
        )
        if status == "blocked":
            logger.info("Nudges stopped for job seeker %s: the bot was blocked", job_seeker_id)
            return Outcome(status, log_id=log_id)
    following = await asyncio.to_thread(
        _in_session, engine, lambda session: plan_next(session, job_seeker_id, now)
    )
    return Outcome(status, run_at=following, due_at=following, log_id=log_id)


def wanted_jobs(session: Session, now: datetime) -> tuple[dict[int, datetime], list[int]]:
    """People who should have a nudge job and have none (with its due moment), and people
    who have one and should not."""
    latest: dict[int, bool] = {}
    for seeker_id, given in session.execute(
        select(Consent.job_seeker_id, Consent.given)
        .where(Consent.purpose == "nudges")
        .order_by(Consent.at, Consent.id)
    ):
        latest[seeker_id] = given
    off = set(
        session.scalars(
            select(NudgeSettings.job_seeker_id).where(NudgeSettings.frequency == "off")
        ).all()
    )
    on_telegram = set(
        session.scalars(
            select(ChannelIdentity.job_seeker_id).where(ChannelIdentity.channel == "telegram")
        ).all()
    )
    wanted = {seeker for seeker, given in latest.items() if given} - off
    wanted &= on_telegram
    existing: set[int] = set()
    if inspect(session.connection()).has_table(JOBS_TABLE):
        for job_id in session.scalars(select(_JOBS.c.id).where(_JOBS.c.id.like("nudge:%"))):
            suffix = job_id.removeprefix("nudge:")
            if suffix.isdigit():
                existing.add(int(suffix))
    to_add: dict[int, datetime] = {}
    for seeker_id in sorted(wanted - existing):
        due = plan_next(session, seeker_id, now)
        if due is not None:
            to_add[seeker_id] = due
    return to_add, sorted(existing - wanted)


async def send_nudge(job_seeker_id: int, due_at_iso: str) -> None:
    """The persistent job: send one person's nudge due at `due_at_iso`, once."""
    runtime = _active
    if runtime is None:
        logger.error("Nudge for job seeker %s not sent: the nudge scheduler is not running",
                     job_seeker_id)  # fmt: skip
        return
    runtime.track()
    await runtime.run(job_seeker_id, datetime.fromisoformat(due_at_iso))


_active: NudgeScheduler | None = None


class SharedEngineJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy job store on the process's shared engine.

    The stock store disposes its engine at shutdown; this engine (one pool per process) is
    also the gateway's, so it stays open.
    """

    def shutdown(self) -> None:
        """Leave the shared engine to its owner."""


class NudgeScheduler:
    """The gateway's nudge scheduler: persistent per-person jobs, a sync, a Telegram bot."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine | None = None,
        bot: Bot | None = None,
        catalogue: Catalogue | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.engine = engine or database_engine(settings)
        self.catalogue = catalogue or load_catalogue()
        self.clock = clock
        self._bot = bot
        self._own_bot = bot is None
        grace = settings.nudge_misfire_grace_minutes * 60
        self.scheduler = AsyncIOScheduler(
            jobstores={
                "default": SharedEngineJobStore(engine=self.engine),
                # The sync holds this object: never pickled, re-added at every start.
                "memory": MemoryJobStore(),
            },
            timezone=AMSTERDAM,
            job_defaults={
                # After downtime: one late nudge within the grace window, never a burst.
                "coalesce": True,
                "misfire_grace_time": grace,
                "max_instances": 1,
            },
        )
        self.scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def bot(self) -> Bot:
        """The Telegram bot nudges go out with."""
        if self._bot is None:
            raise RuntimeError("NudgeScheduler.start() builds the bot; call it first")
        return self._bot

    async def start(self, *, paused: bool = False) -> None:
        """Start scheduling on the running event loop (paused: store jobs, run none)."""
        global _active
        if self._bot is None:
            token = self.settings.telegram_bot_token
            if token is None:
                raise RuntimeError("nudges need TELEGRAM_BOT_TOKEN")
            base = (self.settings.telegram_api_base_url or "https://api.telegram.org").rstrip("/")
            # AIORateLimiter keeps bulk sends within ~30/s and waits out a 429's retry_after.
            self._bot = ExtBot(
                token.get_secret_value(),
                base_url=f"{base}/bot",
                rate_limiter=AIORateLimiter(max_retries=3),
            )
            await self._bot.initialize()
        _active = self
        self.scheduler.start(paused=paused)
        self.scheduler.add_job(
            self._sync_job,
            IntervalTrigger(seconds=self.settings.nudge_sync_seconds),
            id=SYNC_JOB_ID,
            jobstore="memory",
            replace_existing=True,
            misfire_grace_time=None,
            next_run_time=utcnow(),
        )

    async def stop(self) -> None:
        """Stop scheduling; the persistent jobs stay in the database."""
        global _active
        if self.scheduler.running:
            self.scheduler.pause()
            # Let a send or sync in progress finish: cancelled, it would leave a claimed row
            # unsent and a database connection open.
            if self._tasks:
                await asyncio.wait(list(self._tasks), timeout=STOP_TIMEOUT_SECONDS)
            self.scheduler.shutdown(wait=False)
        if _active is self:
            _active = None
        if self._own_bot and self._bot is not None:
            await self._bot.shutdown()
            self._bot = None

    def schedule_person(
        self, job_seeker_id: int, run_at: datetime, *, due_at: datetime | None = None
    ) -> None:
        """(Re)place the person's one job, to run at `run_at` for the nudge due at `due_at`."""
        due = _utc(due_at or run_at)
        self.scheduler.add_job(
            send_nudge,
            DateTrigger(run_date=run_at),
            args=[job_seeker_id, due.isoformat()],
            id=nudge_job_id(job_seeker_id),
            jobstore="default",
            replace_existing=True,
        )

    async def _sync_job(self) -> None:
        self.track()
        await self.sync()

    def unschedule_person(self, job_seeker_id: int) -> None:
        """Remove the person's job, if there is one."""
        try:
            self.scheduler.remove_job(nudge_job_id(job_seeker_id), jobstore="default")
        except JobLookupError:
            pass

    def job_ids(self) -> list[str]:
        """The ids of the persistent jobs, sorted."""
        return sorted(job.id for job in self.scheduler.get_jobs(jobstore="default"))

    async def sync(self, now: datetime | None = None) -> tuple[int, int]:
        """Add jobs for people who want nudges and have none, remove the others' jobs."""
        moment = now or self.clock()
        try:
            to_add, to_remove = await asyncio.to_thread(
                _in_session, self.engine, lambda session: wanted_jobs(session, moment)
            )
        except SQLAlchemyError:
            logger.error("The nudge sync failed: the database is unavailable")
            return 0, 0
        for seeker_id, due in to_add.items():
            self.schedule_person(seeker_id, due)
        for seeker_id in to_remove:
            self.unschedule_person(seeker_id)
        return len(to_add), len(to_remove)

    async def run(
        self, job_seeker_id: int, due_at: datetime, now: datetime | None = None
    ) -> Outcome:
        """Run a person's nudge now and plan their next one."""
        outcome = await deliver_nudge(
            engine=self.engine,
            bot=self.bot,
            catalogue=self.catalogue,
            job_seeker_id=job_seeker_id,
            due_at=due_at,
            now=now or self.clock(),
        )
        if outcome.run_at is not None:
            self.schedule_person(job_seeker_id, outcome.run_at, due_at=outcome.due_at)
        else:
            self.unschedule_person(job_seeker_id)
        return outcome

    async def note_missed(self, job_seeker_id: int, due_at: datetime) -> datetime | None:
        """Log a missed nudge and plan the next one; when that is."""
        now = self.clock()

        def work(session: Session) -> datetime | None:
            record_missed(session, job_seeker_id=job_seeker_id, due_at=due_at, now=now)
            return plan_next(session, job_seeker_id, now)

        following = await asyncio.to_thread(_in_session, self.engine, work)
        logger.warning("A nudge for job seeker %s due at %s was missed (gateway down)",
                       job_seeker_id, due_at.isoformat())  # fmt: skip
        if following is not None:
            self.schedule_person(job_seeker_id, following)
        return following

    def track(self) -> None:
        """Remember the running job's task, so stop() can let it finish."""
        task = asyncio.current_task()
        if task is not None and task not in self._tasks:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _on_missed(self, event: JobExecutionEvent) -> None:
        suffix = event.job_id.removeprefix("nudge:")
        if suffix == event.job_id or not suffix.isdigit():
            return
        # Listeners are called synchronously on the scheduler's loop: the database work
        # runs as a task of its own.
        task = asyncio.get_running_loop().create_task(
            self.note_missed(int(suffix), event.scheduled_run_time)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
