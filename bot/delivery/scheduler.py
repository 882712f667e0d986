"""The gateway's one scheduler: APScheduler's BackgroundScheduler, in a thread of its own.

Two kinds of job share it. Each person's nudge job (bot/delivery/nudges.py) lives in the job
store `default`, in the project database, and runs in the nudge threads (the executor
`default`); both are added by the NudgeScheduler. The periodic jobs (retention, re-routing
handovers) live in the job store `periodic`, in memory, so they are never written to the nudge
table, synced or counted with the nudges, and they run in threads of their own, so a long
retention run takes no nudge thread. A job that must reach the event loop (to wake the outbox)
does so through `loop.call_soon_threadsafe` (the gateway's `_wake_outbox_from_thread`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from core.time import AMSTERDAM

PERIODIC = "periodic"  # the job store and the executor of the periodic jobs
PERIODIC_WORKERS = 2  # retention and re-routing, each at most one run at a time


class Scheduler(BackgroundScheduler):
    """The gateway's one APScheduler scheduler; the nudges add their job store and threads."""

    def __init__(self) -> None:
        super().__init__(
            jobstores={PERIODIC: MemoryJobStore()},
            executors={PERIODIC: ThreadPoolExecutor(PERIODIC_WORKERS)},
            timezone=AMSTERDAM,
            job_defaults={
                # A job whose run was missed runs once (coalesce), however late: a nudge job
                # decides itself between a late nudge and a missed one (NudgeScheduler.run_now).
                # The periodic jobs say what they want.
                "coalesce": True,
                "misfire_grace_time": None,
                "max_instances": 1,
            },
        )

    def add_periodic(
        self,
        func: Callable[..., None],
        trigger: BaseTrigger,
        *,
        job_id: str,
        args: Sequence[Any] = (),
        **options: Any,
    ) -> None:
        """Add (or replace) a periodic job: kept in memory, run in the periodic threads."""
        self.add_job(
            func,
            trigger,
            args=list(args),
            id=job_id,
            jobstore=PERIODIC,
            executor=PERIODIC,
            replace_existing=True,
            **options,
        )

    def periodic_job_ids(self) -> list[str]:
        """The ids of the periodic jobs, sorted."""
        return sorted(job.id for job in self.get_jobs(jobstore=PERIODIC))

    def stop(self) -> None:
        """Stop scheduling, without waiting for the runs in progress."""
        if self.running:
            self.shutdown(wait=False)
