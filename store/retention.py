"""Retention: deleting what has not been used for longer than the configured periods.

- A person with a profile is deleted after `inactive_days` without activity (default 365).
- After a handover closed without a placement, after `after_handover_days` (default 28) from
  the later of the closing and the last activity, unless they agreed to keep it longer
  (consent `extended_retention`); then the general period applies.
- A conversation of someone who never consented to a profile is deleted after
  `no_consent_hours` without activity (default 24): "when the user leaves".

Activity is the newest event of any of the person's conversations in the tracker store, or
the last change to their profile data when that is later. `now` is passed in, so the rules
are tested with any clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.time import as_utc
from store.conversation import delete_conversations, last_activity
from store.deletion import delete_job_seeker
from store.models import DeletionRecord, Handover, JobSeeker
from store.profiles import find_job_seeker, has_consent


@dataclass(frozen=True)
class RetentionPolicy:
    """The periods, from the settings."""

    inactive_days: int = 365
    after_handover_days: int = 28
    no_consent_hours: int = 24


@dataclass(frozen=True)
class RetentionResult:
    """How many people and bare conversations one run deleted."""

    job_seekers: int
    conversations: int


def _latest(*moments: datetime | None) -> datetime:
    return max(as_utc(moment) for moment in moments if moment is not None)


def expires_at(
    seeker: JobSeeker, activity: dict[str, float], policy: RetentionPolicy, *, session: Session
) -> datetime:
    """When this person's data is due for deletion, given the conversations' activity."""
    seen = [activity[sender] for sender in seeker.sender_ids() if sender in activity]
    last_seen = datetime.fromtimestamp(max(seen), timezone.utc) if seen else None
    profile = seeker.profile
    last_active = _latest(
        seeker.created_at, seeker.updated_at, profile.updated_at if profile else None, last_seen
    )
    expiry = last_active + timedelta(days=policy.inactive_days)
    latest_handover = session.scalars(
        select(Handover)
        .where(Handover.job_seeker_id == seeker.id)
        .order_by(Handover.created_at.desc(), Handover.id.desc())
        .limit(1)
    ).one_or_none()
    if (
        latest_handover is not None
        and latest_handover.status == "closed"
        and not has_consent(session=session, job_seeker=seeker, purpose="extended_retention")
    ):
        closed = _latest(latest_handover.closed_at, latest_handover.updated_at, last_active)
        expiry = min(expiry, closed + timedelta(days=policy.after_handover_days))
    return expiry


def expired_job_seekers(
    now: datetime, policy: RetentionPolicy, *, session: Session
) -> list[JobSeeker]:
    """The people whose data is due for deletion at `now`."""
    activity = last_activity(session=session)
    seekers = session.scalars(
        select(JobSeeker).options(
            selectinload(JobSeeker.identities), selectinload(JobSeeker.profile)
        )
    ).all()
    return [
        seeker
        for seeker in seekers
        if expires_at(seeker, activity, policy, session=session) <= now
    ]


def expired_bare_conversations(
    now: datetime, policy: RetentionPolicy, *, session: Session
) -> list[str]:
    """Conversations of people without a profile consent, silent for longer than allowed."""
    cutoff = (now - timedelta(hours=policy.no_consent_hours)).timestamp()
    expired = []
    for sender, latest in last_activity(session=session).items():
        if latest > cutoff:
            continue
        channel, _, user_id = sender.partition(":")
        seeker = find_job_seeker(session=session, channel=channel, channel_user_id=user_id)
        consented = seeker is not None and has_consent(
            session=session, job_seeker=seeker, purpose="profile"
        )
        if not consented:
            expired.append(sender)
    return expired


def run_retention(now: datetime, policy: RetentionPolicy, *, session: Session) -> RetentionResult:
    """Delete everything expired at `now`, in the caller's transaction."""
    seekers = expired_job_seekers(now, policy, session=session)
    for seeker in seekers:
        delete_job_seeker(seeker, "retention", session=session)
    bare = expired_bare_conversations(now, policy, session=session)
    for sender in bare:
        delete_conversations([sender], session=session)
        session.add(DeletionRecord(reason="no_consent"))
    session.flush()
    return RetentionResult(job_seekers=len(seekers), conversations=len(bare))
