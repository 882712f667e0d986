"""The daily retention run: its schedule, its settings and the CLI command."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine

from bot.cli.launcher import settings_env
from bot.delivery.retention import JOB_ID, run_retention_now, schedule_retention
from bot.delivery.scheduler import PERIODIC, Scheduler
from core.db import database_engine, session_scope
from core.paths import PROJECT_PYTHON, ROOT
from core.time import AMSTERDAM
from store.models import JobSeeker
from store.profiles import find_job_seeker, get_or_create_job_seeker, record_consent
from tests.support.stack import make_settings


def test_retention_is_scheduled_daily_at_the_configured_time_in_amsterdam() -> None:
    scheduler = Scheduler()
    schedule_retention(scheduler, make_settings(retention_run_at="04:15"))
    job = scheduler.get_job(JOB_ID, jobstore=PERIODIC)
    assert job is not None
    assert job.executor == PERIODIC  # in memory, in the periodic threads: never a nudge
    # Not started: the next run follows from the trigger alone.
    winter = datetime(2026, 12, 1, 12, 0, tzinfo=AMSTERDAM)
    first = job.trigger.get_next_fire_time(None, winter)
    assert (first.hour, first.minute, first.date()) == (4, 15, winter.date() + timedelta(days=1))
    assert first.utcoffset() == timedelta(hours=1)
    summer = job.trigger.get_next_fire_time(None, datetime(2027, 7, 1, 1, 0, tzinfo=AMSTERDAM))
    assert (summer.hour, summer.utcoffset()) == (4, timedelta(hours=2))
    assert job.coalesce is True
    assert job.misfire_grace_time == 24 * 60 * 60
    assert job.args[0].retention_run_at == "04:15"


@pytest.mark.parametrize("value", ["25:00", "3:30", "03:60", "noon"])
def test_a_wrong_run_time_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        make_settings(retention_run_at=value)


def _old_person(engine: Engine, user_id: str, age: timedelta) -> None:
    with session_scope(engine) as session:
        seeker = get_or_create_job_seeker(
            session=session, channel="retention-job", channel_user_id=user_id, language="nl"
        )
        record_consent(session=session, job_seeker=seeker, purpose="profile", given=True)
        session.flush()
        then = datetime.now(timezone.utc) - age
        session.get(JobSeeker, seeker.id).created_at = then  # type: ignore[union-attr]
        session.get(JobSeeker, seeker.id).updated_at = then  # type: ignore[union-attr]


def _exists(engine: Engine, user_id: str) -> bool:
    with session_scope(engine) as session:
        found = find_job_seeker(session=session, channel="retention-job", channel_user_id=user_id)
        return found is not None


def test_a_dry_run_deletes_nothing_and_a_real_run_deletes_the_expired(
    database_url: str, engine: Engine
) -> None:
    _old_person(engine, "expired", timedelta(days=400))
    _old_person(engine, "recent", timedelta(days=10))
    settings = make_settings(database_url=database_url)
    try:
        dry = run_retention_now(settings, dry_run=True)
        assert dry.job_seekers >= 1
        assert _exists(engine, "expired")
        run_retention_now(settings)
        assert not _exists(engine, "expired")
        assert _exists(engine, "recent")
    finally:
        # The run used the process's engine for the URL (core.db.engine_for keeps a few):
        # its pooled connection is closed now, not left open for when the engine is let go.
        database_engine(settings).dispose()


@pytest.mark.e2e
def test_the_retention_command(database_url: str, engine: Engine) -> None:
    _old_person(engine, "cli-expired", timedelta(days=400))
    env = {**settings_env(make_settings(database_url=database_url)), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [str(PROJECT_PYTHON), "-m", "bot.cli", "retention", "run", "--dry-run"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Would delete ")
    assert "365 days inactive" in result.stdout
    assert _exists(engine, "cli-expired")
    result = subprocess.run(
        [str(PROJECT_PYTHON), "-m", "bot.cli", "retention", "run"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Deleted ")
    assert not _exists(engine, "cli-expired")
