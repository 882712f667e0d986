"""The nudge jobs the database wants, against those APScheduler's job store holds, and the
figures of `werkmaatje nudges status`.

The gateway's sync (bot/delivery/nudges.py) adds a job for each person who should have one and
removes the others; the comparison runs in the database, so its cost does not grow in Python
with the number of people.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import String, and_, cast, except_, func, inspect, intersect, literal, select, true
from sqlalchemy.orm import Session

from core.time import AMSTERDAM
from store.channels import NUDGE_CHANNELS
from store.jobs import JOB_PREFIX, JOBS, JOBS_TABLE
from store.models import ChannelIdentity, Consent, NudgeLog, NudgeSettings
from store.nudge_dispatch import DEFAULT_RULES, Rules, id_after, plan_next


def _wanting_nudges() -> Any:
    """The job ids (`nudge:<id>`) of the people whose latest nudge decision is a yes, who did
    not turn nudges off, and who can be reached on Telegram, as a query.

    Set operations of one-table queries, which the database hashes or sorts whatever its
    statistics say (a join planned on missing statistics can compare every person with every
    other).
    """
    ranked = (
        select(
            Consent.job_seeker_id.label("person"),
            Consent.given.label("given"),
            func.row_number()
            .over(
                partition_by=Consent.job_seeker_id,
                order_by=(Consent.at.desc(), Consent.id.desc()),
            )
            .label("rank"),
        )
        .where(Consent.purpose == "nudges")
        .subquery()
    )
    said_yes = select(ranked.c.person).where(ranked.c.rank == 1, ranked.c.given == true())
    reachable_unasked = select(ChannelIdentity.job_seeker_id).where(
        ChannelIdentity.channel.in_(NUDGE_CHANNELS), ChannelIdentity.blocked_at.is_(None)
    )
    turned_off = select(NudgeSettings.job_seeker_id).where(NudgeSettings.frequency == "off")
    reachable = intersect(said_yes, reachable_unasked).subquery()
    people = except_(select(reachable.c[0]), turned_off).subquery()
    return select((literal(JOB_PREFIX) + cast(people.c[0], String)).label("id"))


def wanted_jobs(
    now: datetime, rules: Rules = DEFAULT_RULES, *, session: Session
) -> tuple[dict[int, datetime], list[int]]:
    """People who should have a nudge job and have none (with its due moment), and people
    who have one and should not.

    The database compares the people with the jobs and returns the differences alone: the
    gateway's own work (and its hold on Python's interpreter lock, which its sends share) does
    not grow with the number of people.
    """
    wanted = _wanting_nudges()
    if inspect(session.connection()).has_table(JOBS_TABLE):
        existing = select(JOBS.c.id).where(JOBS.c.id.like(f"{JOB_PREFIX}%"))
        missing = session.scalars(wanted.except_(existing)).all()
        unwanted = session.scalars(existing.except_(wanted)).all()
    else:
        missing, unwanted = session.scalars(wanted).all(), []

    def people(job_ids: Sequence[str]) -> list[int]:
        found = (id_after(job_id, JOB_PREFIX) for job_id in job_ids)
        return sorted(person for person in found if person is not None)

    to_add: dict[int, datetime] = {}
    for seeker_id in people(missing):
        due = plan_next(seeker_id, now, rules, session=session)
        if due is not None:
            to_add[seeker_id] = due
    return to_add, people(unwanted)


def queued_count(*, session: Session) -> int:
    """Nudges queued for the outbox and not yet sent."""
    return session.scalar(select(func.count()).where(NudgeLog.status == "queued")) or 0


def status_counts(now: datetime, *, session: Session) -> dict[str, Any]:
    """Figures for `werkmaatje nudges status`."""
    start_of_day = datetime.combine(now.astimezone(AMSTERDAM).date(), datetime.min.time())
    today = start_of_day.replace(tzinfo=AMSTERDAM).astimezone(timezone.utc)
    scheduled = due = 0
    if inspect(session.connection()).has_table(JOBS_TABLE):
        run_at = JOBS.c.next_run_time
        nudge_jobs = JOBS.c.id.like(f"{JOB_PREFIX}%")
        scheduled = session.scalar(select(func.count()).where(nudge_jobs)) or 0
        due = (
            session.scalar(select(func.count()).where(and_(nudge_jobs, run_at <= now.timestamp())))
            or 0
        )
    by_status: dict[str, int] = {
        status: count
        for status, count in session.execute(
            select(NudgeLog.status, func.count())
            .where(NudgeLog.at >= today)
            .group_by(NudgeLog.status)
        )
    }
    waiting = session.scalar(
        select(func.count()).where(NudgeLog.status.in_(("queued", "claimed")))
    )
    return {
        "scheduled": scheduled,
        "due": due,
        "queued": waiting or 0,
        "sent_today": by_status.get("sent", 0),
        "failed_today": by_status.get("failed", 0),
        "blocked_today": by_status.get("blocked", 0),
        "missed_today": by_status.get("missed", 0),
        "cancelled_today": by_status.get("cancelled", 0),
    }
