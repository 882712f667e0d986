"""The daily retention run: in the gateway's scheduler and as `werkmaatje retention run`."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import SQLAlchemyError

from bot.delivery.scheduler import Scheduler
from core.db import database_engine, session_scope
from core.settings import Settings
from core.time import AMSTERDAM
from store.retention import RetentionPolicy, RetentionResult, run_retention

logger = logging.getLogger(__name__)

JOB_ID = "retention"


def retention_policy(settings: Settings) -> RetentionPolicy:
    """The retention periods from the settings."""
    return RetentionPolicy(
        inactive_days=settings.retention_inactive_days,
        after_handover_days=settings.retention_after_handover_days,
        no_consent_hours=settings.retention_no_consent_hours,
    )


def run_retention_now(
    settings: Settings, *, now: datetime | None = None, dry_run: bool = False
) -> RetentionResult:
    """One retention run on the configured database; rolled back when `dry_run`."""
    engine = database_engine(settings)
    moment = now or datetime.now(timezone.utc)
    with session_scope(engine) as session:
        result = run_retention(moment, retention_policy(settings), session=session)
        if dry_run:
            session.rollback()
    return result


def retention_job(settings: Settings) -> None:
    """The scheduled run, in a periodic thread; a failure is logged and the next day's run
    tries again."""
    try:
        result = run_retention_now(settings)
    except SQLAlchemyError:
        logger.error("The retention run failed: the database is unavailable")
        return
    logger.info(
        "Retention: deleted %d profile(s) and %d conversation(s) without consent",
        result.job_seekers,
        result.conversations,
    )


def schedule_retention(scheduler: Scheduler, settings: Settings) -> None:
    """Run retention daily at RETENTION_RUN_AT (Europe/Amsterdam).

    Several gateway replicas may each run it: deleting what is expired is idempotent. A run
    missed while the gateway was down is simply the next day's: the periods are in days.
    """
    hour, minute = (int(part) for part in settings.retention_run_at.split(":"))
    scheduler.add_periodic(
        retention_job,
        CronTrigger(hour=hour, minute=minute, timezone=AMSTERDAM),
        job_id=JOB_ID,
        args=[settings],
        coalesce=True,
        misfire_grace_time=24 * 60 * 60,
        max_instances=1,
    )
