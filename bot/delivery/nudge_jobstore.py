"""The nudge scheduler's APScheduler parts that reach past its public API, in one module.

APScheduler 3.11 (pinned in requirements/project.lock): `NudgeJobStore` subclasses its
`SQLAlchemyJobStore` and uses `_reconstitute_job` and the scheduler's `_thread`; `in_flight` and
`wait_for_runs` read the thread pool executor's `_instances` and `_pool`. A new APScheduler
version is checked here first (tests/bot/delivery/test_nudges.py runs all of it).
"""

from __future__ import annotations

import logging
import pickle
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.triggers.base import BaseTrigger
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import Engine, delete, select, update

from core.time import AMSTERDAM

logger = logging.getLogger(__name__)


def in_flight(executor: ThreadPoolExecutor) -> int:
    """The jobs the executor runs or has queued."""
    return len(executor._instances)


def wait_for_runs(executor: ThreadPoolExecutor) -> None:
    """Block until the runs in progress have finished; the queued ones return at once."""
    executor._pool.shutdown(True)


class NudgeJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy job store on the process's shared engine, handing out due jobs
    a few at a time.

    The stock store disposes its engine at shutdown; this engine (one pool per process) is
    also the gateway's, so it stays open. It would also load every due job at once: 100,000
    of them would hold the store's lock for minutes and fill the memory.

    Due jobs are handed out with a lease: in the same transaction their run time moves on by
    `lease_seconds` (the trigger's
    rerun time), which is when the trigger would run them again anyway. So a job whose run
    never moved it on (the gateway was killed) runs again then, another gateway does not take
    it meanwhile (PostgreSQL skips the rows being handed out), and the scheduler does not
    store each handed-out job's next run one by one: with its lock held, those round trips
    capped how many nudges a second could be queued.
    """

    def __init__(self, engine: Engine, room: Callable[[], int], lease_seconds: float) -> None:
        super().__init__(engine=engine)
        self._room = room
        self._lease_seconds = lease_seconds
        self._handed_out: set[str] = set()  # by the last get_due_jobs; see update_job

    def get_due_jobs(self, now: datetime) -> list[Any]:
        """At most as many due jobs as there is room for, earliest first, leased."""
        room = self._room()
        if room <= 0:
            return []
        timestamp = datetime_to_utc_timestamp(now)
        query = (
            select(self.jobs_t.c.id, self.jobs_t.c.job_state)
            .where(self.jobs_t.c.next_run_time <= timestamp)
            .order_by(self.jobs_t.c.next_run_time)
            .limit(room)
            .with_for_update(skip_locked=True)
        )
        jobs = []
        unreadable = []
        with self.engine.begin() as connection:
            for row in connection.execute(query):
                try:
                    jobs.append(self._reconstitute_job(row.job_state))
                except Exception:
                    unreadable.append(row.id)
            self._handed_out = {job.id for job in jobs}
            if self._handed_out:
                connection.execute(
                    update(self.jobs_t)
                    .where(self.jobs_t.c.id.in_(self._handed_out))
                    .values(next_run_time=timestamp + self._lease_seconds)
                )
            if unreadable:
                # Left in place they would come first at every look and take all the room,
                # so no due job would ever run. The sync adds a fresh job for anyone who
                # should have one.
                connection.execute(delete(self.jobs_t).where(self.jobs_t.c.id.in_(unreadable)))
        for job_id in unreadable:
            logger.error("Nudge job %s could not be read and was removed", job_id)
        return jobs

    def update_job(self, job: Any) -> None:
        """Store a changed job; not a job just handed out, whose rerun the lease already
        stored (and whose run may have moved it on since: see move)."""
        if job.id in self._handed_out and threading.current_thread() is self._scheduler_thread():
            self._handed_out.discard(job.id)
            return
        super().update_job(job)

    def _scheduler_thread(self) -> threading.Thread | None:
        thread: threading.Thread | None = getattr(self._scheduler, "_thread", None)
        return thread

    def move(self, job_id: str, trigger: BaseTrigger, args: list[Any], run_at: datetime) -> bool:
        """Give a stored job a new trigger, arguments and run time; False when there is no
        such job (or it cannot be read).

        The same as the scheduler's modify_job, without its lock: the scheduler holds that
        lock while it hands out due jobs and stores their rerun times, so every running job
        that moved itself through it waited for those database round trips in turn.
        """
        with self.engine.begin() as connection:
            stored = connection.execute(
                select(self.jobs_t.c.job_state).where(self.jobs_t.c.id == job_id).with_for_update()
            ).scalar_one_or_none()
            if stored is None:
                return False
            try:
                state = pickle.loads(stored)  # noqa: S301 (our own job store's rows)
            except Exception:
                return False
            state.update(trigger=trigger, args=tuple(args), next_run_time=run_at)
            connection.execute(
                update(self.jobs_t)
                .where(self.jobs_t.c.id == job_id)
                .values(
                    next_run_time=datetime_to_utc_timestamp(run_at),
                    job_state=pickle.dumps(state, self.pickle_protocol),
                )
            )
        return True

    def get_next_run_time(self) -> datetime | None:
        """The next run; while no room is left, a look again in a second."""
        if self._room() <= 0:
            return datetime.now(AMSTERDAM) + timedelta(seconds=1)
        next_run: datetime | None = super().get_next_run_time()
        return next_run

    def shutdown(self) -> None:
        """Leave the shared engine to its owner."""
