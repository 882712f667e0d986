"""Passing on handovers that wait too long: a job in the gateway's scheduler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from bot.delivery.scheduler import Scheduler
from core.db import database_engine, session_scope
from core.settings import Settings
from core.time import utcnow
from store.handovers import reroute_overdue

logger = logging.getLogger(__name__)

JOB_ID = "handover-reroute"


def reroute_now(settings: Settings, now: datetime | None = None) -> int:
    """Re-route overdue handovers (and route waiting ones) once; how many moved."""
    with session_scope(database_engine(settings)) as session:
        return reroute_overdue(
            session=session,
            now=now or utcnow(),
            accept_working_days=settings.handover_accept_working_days,
            contact_days=settings.handover_contact_working_days,
        )


def reroute_job(settings: Settings, wake: Callable[[], None]) -> None:
    """The scheduled check, in a periodic thread; a database outage is logged and the next
    check tries again. `wake` (thread-safe) has the outbox send what was re-routed."""
    try:
        moved = reroute_now(settings)
    except SQLAlchemyError:
        logger.error("Re-routing handovers failed: the database is unavailable")
        return
    if moved:
        logger.info("Re-routed %d handover(s) to another recruiter", moved)
        wake()


def schedule_rerouting(scheduler: Scheduler, settings: Settings, wake: Callable[[], None]) -> None:
    """Check every HANDOVER_REROUTE_CHECK_MINUTES; replicas may all run it (rows are locked).
    `wake` is called from the job's thread."""
    minutes = settings.handover_reroute_check_minutes
    scheduler.add_periodic(
        reroute_job,
        IntervalTrigger(minutes=minutes),
        job_id=JOB_ID,
        args=[settings, wake],
        coalesce=True,
        misfire_grace_time=minutes * 60,
        max_instances=1,
        next_run_time=utcnow() + timedelta(seconds=30),
    )
