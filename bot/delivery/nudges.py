"""The gateway's nudge scheduler: one persistent APScheduler job per person, on the gateway's one
scheduler (bot/delivery/scheduler.py).

How a job runs, and why no nudge is lost or doubled: docs/architecture.md, "Nudges".
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.delivery.nudge_jobstore import NudgeJobStore, in_flight, wait_for_runs
from bot.delivery.scheduler import Scheduler
from core.db import database_engine, session_scope
from core.settings import Settings
from core.time import AMSTERDAM, shift_out_of_quiet_hours, utcnow
from store.jobs import nudge_job_id
from store.nudge_catalogue import Catalogue, load_catalogue
from store.nudge_dispatch import Rules, plan_next, queue_nudge, record_missed, utc
from store.nudge_sync import queued_count, wanted_jobs

logger = logging.getLogger(__name__)

SYNC_JOB_ID = "nudge-sync"
RERUN_SECONDS = 120.0
# Threads that queue nudges: a run waits on the database most of its time, so three keep
# ahead of Telegram's 30/s where one did not, and the event loop (chat replies, the sends
# themselves) keeps the processor.
WORKERS = 3
# Jobs taken from the store and not yet finished: few, so a killed gateway leaves few to rerun.
MAX_IN_FLIGHT = 4 * WORKERS
# Nudges queued ahead of the outbox: about ten seconds of sending. The rest wait in the job
# store, so queueing 100,000 at once never starves the sends, and a message is chosen close to
# when it goes out.
QUEUE_AHEAD = 300
STOP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Outcome:
    """What one run did, and when the person's job runs next (None: no job)."""

    status: str  # queued | duplicate | missed | paused | deferred | stopped | gone | failed
    run_at: datetime | None = None
    log_id: int | None = None


class NudgeTrigger(BaseTrigger):
    """Fires at `run_date`, then every `rerun_seconds` until the job replaces itself."""

    def __init__(self, run_date: datetime, rerun_seconds: float = RERUN_SECONDS) -> None:
        self.run_date = run_date
        self.rerun_seconds = rerun_seconds

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """`run_date` first, then the reruns."""
        if previous_fire_time is None:
            return self.run_date
        return previous_fire_time + timedelta(seconds=self.rerun_seconds)

    def __str__(self) -> str:
        return f"nudge[{self.run_date.isoformat()}]"


def send_nudge(job_seeker_id: int, due_at_iso: str, run_at_iso: str | None = None) -> None:
    """The persistent job: queue one person's nudge due at `due_at_iso`, once."""
    runtime = _active
    if runtime is None:
        logger.error("Nudge for job seeker %s not queued: the nudge scheduler is not running",
                     job_seeker_id)  # fmt: skip
        return
    if runtime.stopping:
        return  # the gateway is stopping: the job stays in the store and runs after the restart
    due_at = datetime.fromisoformat(due_at_iso)
    run_at = datetime.fromisoformat(run_at_iso) if run_at_iso else due_at
    runtime.run_now(job_seeker_id, due_at, run_at=run_at)


def _job_args(job_seeker_id: int, run_at: datetime, due_at: datetime | None) -> list[Any]:
    """send_nudge's arguments for a run at `run_at` of the nudge due at `due_at` (or then)."""
    return [job_seeker_id, utc(due_at or run_at).isoformat(), utc(run_at).isoformat()]


_active: NudgeScheduler | None = None


class NudgeScheduler:
    """The gateway's nudge scheduler: persistent per-person jobs and a sync, on `scheduler`
    (the gateway's) or on a scheduler of its own."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine | None = None,
        catalogue: Catalogue | None = None,
        clock: Callable[[], datetime] = utcnow,
        wake: Callable[[], None] | None = None,
        scheduler: Scheduler | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine or database_engine(settings)
        self.catalogue = catalogue or load_catalogue()
        self.clock = clock
        self.rules = Rules(
            quiet=settings.quiet_hours,
            first_after=timedelta(minutes=settings.nudge_first_after_minutes),
        )
        self.grace = timedelta(minutes=settings.nudge_misfire_grace_minutes)
        self._wake = wake
        self._executor = ThreadPoolExecutor(WORKERS)
        self._store = NudgeJobStore(self.engine, self._room, RERUN_SECONDS)
        # Added before the scheduler starts. The stored jobs name the store and the executor
        # `default`; the sync holds this object: never pickled, re-added at every start.
        self.scheduler = scheduler or Scheduler()
        self.scheduler.add_executor(self._executor, "default")
        self.scheduler.add_jobstore(self._store, "default")
        self.scheduler.add_jobstore(MemoryJobStore(), "memory")
        self._stopped = threading.Event()
        self._backlog_at = -1.0
        self._backlog_count = 0
        self.started_at = utcnow()

    @property
    def stopping(self) -> bool:
        """Whether stop() was called."""
        return self._stopped.is_set()

    def _room(self) -> int:
        if self._stopped.is_set():
            return 0  # stopping: the scheduler's thread may look once more; hand it nothing
        # The executor counts the jobs it runs or has queued.
        room = MAX_IN_FLIGHT - in_flight(self._executor)
        if room > 0 and self._backlog() >= QUEUE_AHEAD:
            return 0  # the outbox has enough to send: queue the rest when it gets there
        return room

    def _backlog(self) -> int:
        """Nudges queued and not yet sent (by any gateway), looked up at most once a second."""
        now = time.monotonic()
        if now - self._backlog_at >= 1.0:
            try:
                with session_scope(self.engine) as session:
                    self._backlog_count = queued_count(session=session)
            except SQLAlchemyError:
                self._backlog_count = QUEUE_AHEAD  # the database is away: queue nothing now
            self._backlog_at = now
        return self._backlog_count

    async def start(self, *, paused: bool = False) -> None:
        """Start scheduling (paused: store jobs, run none), and with it the scheduler."""
        global _active
        _active = self
        self.started_at = utcnow()
        if not self.scheduler.running:
            self.scheduler.start(paused=paused)
        self.scheduler.add_job(
            self._sync_job,
            IntervalTrigger(seconds=self.settings.nudge_sync_seconds),
            id=SYNC_JOB_ID,
            jobstore="memory",
            replace_existing=True,
            next_run_time=datetime.now(AMSTERDAM),
        )

    async def stop(self) -> None:
        """Stop scheduling, and with it the scheduler (the gateway's: its periodic jobs stop
        too); the persistent jobs stay in the database."""
        global _active
        self._stopped.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        # Let a run in progress finish (cancelled, it would leave a connection open); jobs
        # that were waiting return at once (see send_nudge) and run again after the restart.
        await asyncio.wait_for(
            asyncio.to_thread(wait_for_runs, self._executor), STOP_TIMEOUT_SECONDS
        )
        if _active is self:
            _active = None

    def schedule_person(
        self, job_seeker_id: int, run_at: datetime, *, due_at: datetime | None = None
    ) -> None:
        """(Re)place the person's one job, to run at `run_at` for the nudge due at `due_at`."""
        self.scheduler.add_job(
            send_nudge,
            NudgeTrigger(run_at),
            args=_job_args(job_seeker_id, run_at, due_at),
            id=nudge_job_id(job_seeker_id),
            jobstore="default",
            replace_existing=True,
        )

    def _reschedule(
        self, job_seeker_id: int, run_at: datetime, *, due_at: datetime | None = None
    ) -> None:
        """schedule_person for a job that replaces itself: one read and one update in the job
        store, without waiting for the scheduler's lock."""
        moved = self._store.move(
            nudge_job_id(job_seeker_id),
            NudgeTrigger(run_at),
            _job_args(job_seeker_id, run_at, due_at),
            run_at.astimezone(AMSTERDAM),
        )
        if not moved:  # run directly, or removed meanwhile: add it afresh
            self.schedule_person(job_seeker_id, run_at, due_at=due_at)

    def unschedule_person(self, job_seeker_id: int) -> None:
        """Remove the person's job, if there is one."""
        try:
            self.scheduler.remove_job(nudge_job_id(job_seeker_id), jobstore="default")
        except JobLookupError:
            pass

    def job_ids(self) -> list[str]:
        """The ids of the persistent jobs, sorted."""
        return sorted(job.id for job in self.scheduler.get_jobs(jobstore="default"))

    def _sync_job(self) -> None:
        if not self._stopped.is_set():
            self.sync_now()

    def sync_now(self, now: datetime | None = None) -> tuple[int, int]:
        """Add jobs for people who want nudges and have none, remove the others' jobs."""
        moment = now or self.clock()
        try:
            with session_scope(self.engine) as session:
                to_add, to_remove = wanted_jobs(moment, self.rules, session=session)
        except SQLAlchemyError:
            logger.error("The nudge sync failed: the database is unavailable")
            return 0, 0
        for seeker_id, due in to_add.items():
            self.schedule_person(seeker_id, due)
        for seeker_id in to_remove:
            self.unschedule_person(seeker_id)
        return len(to_add), len(to_remove)

    async def sync(self, now: datetime | None = None) -> tuple[int, int]:
        """sync_now, off the event loop."""
        return await asyncio.to_thread(self.sync_now, now)

    def run_now(
        self,
        job_seeker_id: int,
        due_at: datetime,
        *,
        run_at: datetime | None = None,
        now: datetime | None = None,
    ) -> Outcome:
        """Run a person's nudge job: queue the nudge (or log it missed), plan the next one."""
        moment = now or self.clock()
        try:
            outcome = self._run(job_seeker_id, due_at, run_at or due_at, moment)
        except SQLAlchemyError as error:
            # The job stays in the store and runs again in RERUN_SECONDS.
            logger.error("Nudge for job seeker %s not queued yet: %s", job_seeker_id,
                         type(error).__name__)  # fmt: skip
            self._wake_scheduler()
            return Outcome("failed")
        if outcome.status == "queued" and self._wake is not None:
            self._wake()
        try:
            if outcome.status == "deferred" and outcome.run_at is not None:
                self._reschedule(job_seeker_id, outcome.run_at, due_at=due_at)
            elif outcome.run_at is not None:
                self._reschedule(job_seeker_id, outcome.run_at)
            else:
                self.unschedule_person(job_seeker_id)
        except SQLAlchemyError as error:
            # The job runs again in RERUN_SECONDS and finds its nudge queued.
            logger.error("Nudge job of job seeker %s not moved on yet: %s", job_seeker_id,
                         type(error).__name__)  # fmt: skip
        finally:
            self._wake_scheduler()
        return outcome

    def _wake_scheduler(self) -> None:
        """Let the scheduler look again: this job has left room, and may have moved."""
        if self.scheduler.running:
            self.scheduler.wakeup()

    async def run(self, job_seeker_id: int, due_at: datetime, **options: Any) -> Outcome:
        """run_now, off the event loop."""
        return await asyncio.to_thread(partial(self.run_now, job_seeker_id, due_at, **options))

    def _run(
        self, job_seeker_id: int, due_at: datetime, run_at: datetime, now: datetime
    ) -> Outcome:
        with session_scope(self.engine) as session:
            # Missed: due while no gateway ran (before this one started), and long enough ago.
            # A job that waited behind a large queue in a running gateway is just late.
            if run_at < self.started_at and now - run_at > self.grace:
                record_missed(session=session, job_seeker_id=job_seeker_id, due_at=due_at, now=now)
                logger.warning("A nudge for job seeker %s due at %s was missed (gateway down)",
                               job_seeker_id, due_at.isoformat())  # fmt: skip
                return Outcome(
                    "missed", plan_next(job_seeker_id, now, self.rules, session=session)
                )
            status, log_id = queue_nudge(
                session=session,
                catalogue=self.catalogue,
                job_seeker_id=job_seeker_id,
                due_at=due_at,
                now=now,
                rules=self.rules,
            )
            if status in ("gone", "stopped"):
                return Outcome(status)
            if status == "deferred":
                return Outcome(status, shift_out_of_quiet_hours(now, self.rules.quiet))
            return Outcome(
                status, plan_next(job_seeker_id, now, self.rules, session=session), log_id
            )
