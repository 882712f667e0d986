"""The per-person jobs in APScheduler's job store (`apscheduler_jobs`, created by APScheduler).

Jobs are named after the person (`nudge:<job_seeker_id>`), so removing a person's jobs is a
delete by id, done in the same transaction as the rest of a deletion.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, MetaData, Table, Unicode, delete, inspect
from sqlalchemy.orm import Session

from store.models import NudgeSettings

JOBS_TABLE = "apscheduler_jobs"
# The columns read here; APScheduler owns the table (and its pickled job_state column).
JOBS = Table(
    JOBS_TABLE,
    MetaData(),
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
)


JOB_PREFIX = "nudge:"  # a person's nudge job is `nudge:<job_seeker_id>`


def nudge_job_id(job_seeker_id: int) -> str:
    """The stable id of a person's nudge job."""
    return f"{JOB_PREFIX}{job_seeker_id}"


def person_job_ids(job_seeker_id: int) -> list[str]:
    """Every job id that belongs to one person."""
    return [nudge_job_id(job_seeker_id)]


def remove_person_jobs(job_seeker_id: int, *, session: Session) -> int:
    """Remove a person's scheduled jobs; the number removed."""
    connection = session.connection()
    if not inspect(connection).has_table(JOBS_TABLE):
        return 0
    result = connection.execute(delete(JOBS).where(JOBS.c.id.in_(person_job_ids(job_seeker_id))))
    return int(result.rowcount or 0)


def stop_nudges(job_seeker_id: int, *, session: Session) -> None:
    """No more nudges for a person (consent withdrawn, or at work): frequency off, job gone."""
    settings = session.get(NudgeSettings, job_seeker_id)
    if settings is None:
        session.add(NudgeSettings(job_seeker_id=job_seeker_id, frequency="off"))
    else:
        settings.frequency = "off"
    remove_person_jobs(job_seeker_id, session=session)
