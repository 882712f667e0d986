"""Deleting everything a person owns, and withdrawing a consent.

A deletion removes the person's rows from every project table (the database cascades from
`job_seekers`), their conversations from Rasa's tracker store and their scheduled jobs. What
stays is one anonymous `deletion_log` row: that a deletion happened, when and why. A recruiter
with an open handover gets a notice in the outbox that says only that the candidate withdrew.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.languages import reader_language
from core.texts import phrase
from core.time import utcnow
from store.conversation import delete_conversations
from store.handovers import notify_recruiter
from store.jobs import remove_person_jobs, stop_nudges
from store.models import OPEN_HANDOVER_STATUSES, DeletionRecord, Handover, JobSeeker
from store.profiles import find_job_seeker, record_consent

DELETION_REASONS = ("request", "retention", "no_consent")


@dataclass(frozen=True)
class Deleted:
    """What a deletion removed."""

    job_seekers: int
    events: int
    jobs: int
    recruiters_told: int


def withdraw_open_handovers(job_seeker: JobSeeker, *, session: Session) -> int:
    """Close every open handover and queue a notice without personal details to its recruiter."""
    told = 0
    handovers = session.scalars(
        select(Handover).where(
            Handover.job_seeker_id == job_seeker.id,
            Handover.status.in_(OPEN_HANDOVER_STATUSES),
        )
    ).all()
    for handover in handovers:
        handover.status = "closed"
        handover.closed_at = utcnow()
        recruiter = handover.recruiter
        if recruiter is None:
            continue
        text = phrase(
            "recruiter.notice.withdrawn", reader_language(recruiter.languages), id=handover.id
        )
        # No handover id: the handover goes with the person, the notice stays.
        notify_recruiter(
            recruiter,
            session=session,
            key=f"withdrawn:{handover.id}:{uuid4().hex}",
            payload={"kind": "handover_withdrawn", "text": text},
            handover_id=None,
        )
        told += 1
    session.flush()
    return told


def delete_job_seeker(job_seeker: JobSeeker, reason: str, *, session: Session) -> Deleted:
    """Delete one person everywhere, in the caller's transaction."""
    if reason not in DELETION_REASONS:
        raise ValueError(f"unknown deletion reason {reason!r}")
    told = withdraw_open_handovers(job_seeker, session=session)
    events = delete_conversations(job_seeker.sender_ids(), session=session)
    jobs = remove_person_jobs(job_seeker.id, session=session)
    session.delete(job_seeker)
    session.add(DeletionRecord(reason=reason))
    session.flush()
    return Deleted(job_seekers=1, events=events, jobs=jobs, recruiters_told=told)


def delete_sender(sender_id: str, reason: str = "request", *, session: Session) -> Deleted:
    """Delete the person behind a conversation id (`telegram:123`), or just the conversation.

    Someone who never gave consent has no profile, but their conversation is removed too.
    """
    channel, _, user_id = sender_id.partition(":")
    seeker = find_job_seeker(session=session, channel=channel, channel_user_id=user_id)
    if seeker is not None:
        return delete_job_seeker(seeker, reason, session=session)
    events = delete_conversations([sender_id], session=session)
    if events:
        session.add(DeletionRecord(reason=reason))
    return Deleted(job_seekers=0, events=events, jobs=0, recruiters_told=0)


def withdraw_consent(
    job_seeker: JobSeeker, purpose: str, channel: str, *, session: Session
) -> None:
    """Record a withdrawal and stop what the consent allowed.

    nudges: no more nudges (frequency off, the scheduled job removed); share_with_recruiter:
    open handovers are withdrawn; support_needs: recorded, so they are no longer shared. The
    profile consent is withdrawn by deleting the person (`delete_job_seeker`): without it
    nothing of theirs may be kept.
    """
    record_consent(
        session=session, job_seeker=job_seeker, purpose=purpose, given=False, channel=channel
    )
    if purpose == "nudges":
        stop_nudges(job_seeker.id, session=session)
    elif purpose == "share_with_recruiter":
        withdraw_open_handovers(job_seeker, session=session)
    session.flush()
