"""Handovers: asking for a recruiter, routing, the messages they cause, and their status.

Everything a handover sends goes into the outbox in the same transaction as the change that
causes it: the summary to the recruiter (Telegram and/or e-mail), and each status change to
the person. The gateway's outbox worker (bot/delivery/outbox.py) delivers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.languages import reader_language
from core.texts import phrase
from core.time import add_working_days, as_utc
from store.channels import EMAIL, TELEGRAM
from store.export import profile_dict
from store.jobs import stop_nudges
from store.models import OPEN_HANDOVER_STATUSES, Handover, JobSeeker, OutboxMessage, Recruiter
from store.profiles import has_consent
from store.recruiters import candidates, recruiter_addresses
from store.routing import route
from store.summary import Summary, build_summary

# What a recruiter can do, the status each leads to, and the button for it.
RECRUITER_ACTIONS = ("accept", "contacted", "placed", "decline")
_ALLOWED = {
    "requested": ("accept", "contacted", "placed", "decline"),
    "delivered": ("accept", "contacted", "placed", "decline"),
    "accepted": ("contacted", "placed", "decline"),
    "contacted": ("placed", "decline"),
}


class HandoverError(Exception):
    """A recruiter action that cannot be done; the message says why, for the recruiter."""


def first_name(name: str) -> str:
    """The first word of a recruiter's name, as the person gets to hear it."""
    return name.split()[0] if name.strip() else name


def profile_ready(seeker: JobSeeker) -> bool:
    """Whether the intake was finished or the sketch confirmed: enough to ask for a recruiter."""
    profile = seeker.profile
    return profile is not None and (
        profile.completed_at is not None or profile.confirmed_at is not None
    )


def open_handover(seeker: JobSeeker, *, session: Session) -> Handover | None:
    """The person's open handover, if any (there is at most one)."""
    return session.scalars(
        select(Handover).where(
            Handover.job_seeker_id == seeker.id, Handover.status.in_(OPEN_HANDOVER_STATUSES)
        )
    ).one_or_none()


def latest_handover(seeker: JobSeeker, *, session: Session) -> Handover | None:
    """The person's newest handover, open or not."""
    return session.scalars(
        select(Handover)
        .where(Handover.job_seeker_id == seeker.id)
        .order_by(Handover.id.desc())
        .limit(1)
    ).one_or_none()


def has_support_needs(seeker: JobSeeker) -> bool:
    """Whether the profile lists support needs, so sharing them is a question to ask."""
    return any(item.kind == "support_need" for item in seeker.items)


def buttons(status: str, language: str, handover_id: int) -> list[tuple[str, str]]:
    """The recruiter's buttons for a handover in `status`: (title, callback data)."""
    return [
        (phrase(f"recruiter.button.{action}", language), f"ho:{action}:{handover_id}")
        for action in _ALLOWED.get(status, ())
    ]


def summary_for(handover: Handover, language: str, *, session: Session) -> Summary:
    """The summary of a handover as it stands, in `language`."""
    seeker = handover.job_seeker
    moments = [moment.text for moment in seeker.success_moments]
    talents = [item.value for item in seeker.items if item.kind == "talent"]
    return build_summary(
        handover_id=handover.id,
        language=language,
        profile=profile_dict(seeker),
        identities=[(i.channel, i.channel_user_id) for i in seeker.identities],
        share_support_needs=handover.share_support_needs
        and has_consent(session=session, job_seeker=seeker, purpose="support_needs"),
        own_words=moments[-1] if moments else (talents[0] if talents else None),
    )


def _queue(
    *,
    session: Session,
    key: str,
    channel: str,
    recipient: str,
    payload: dict[str, Any],
    handover: Handover | None,
    personal: bool,
) -> None:
    session.add(
        OutboxMessage(
            idempotency_key=key,
            job_seeker_id=handover.job_seeker_id if handover is not None and personal else None,
            handover_id=handover.id if handover is not None else None,
            channel=channel,
            recipient=recipient,
            payload=payload,
        )
    )


def notify_recruiter(
    recruiter: Recruiter,
    *,
    session: Session,
    key: str,
    payload: dict[str, Any],
    handover_id: int | None,
) -> None:
    """Queue a notice without personal details to each of a recruiter's channels."""
    for channel, recipient in recruiter_addresses(recruiter):
        if recipient:
            session.add(
                OutboxMessage(
                    idempotency_key=f"{key}:{channel}",
                    job_seeker_id=None,  # nothing personal: it may outlive the person
                    handover_id=handover_id,
                    channel=channel,
                    recipient=recipient,
                    payload=payload,
                )
            )


def queue_summary(handover: Handover, recruiter: Recruiter, *, session: Session) -> None:
    """Queue the summary to the recruiter's Telegram chat and/or e-mail address."""
    language = reader_language(recruiter.languages)
    summary = summary_for(handover, language, session=session)
    handover.summary = summary.plain_text()
    base = f"handover:{handover.id}:recruiter:{recruiter.id}"
    if recruiter.telegram_chat_id:
        _queue(
            session=session,
            key=f"{base}:{TELEGRAM}",
            channel=TELEGRAM,
            recipient=recruiter.telegram_chat_id,
            payload={
                "kind": "handover_summary",
                "text": summary.telegram_html(),
                "parse_mode": "HTML",
                "recruiter_id": recruiter.id,
                "buttons": buttons(handover.status, language, handover.id),
            },
            handover=handover,
            personal=True,
        )
    if recruiter.email:
        _queue(
            session=session,
            key=f"{base}:{EMAIL}",
            channel=EMAIL,
            recipient=recruiter.email,
            payload={
                "kind": "handover_summary",
                "recruiter_id": recruiter.id,
                "message_id": f"<handover-{handover.id}-{recruiter.id}@werkmaatje>",
                "subject": summary.subject,
                "text": summary.plain_text(by_email=True),
                "html": summary.email_html(),
            },
            handover=handover,
            personal=True,
        )


def tell_person(handover: Handover, what: str, *, session: Session, **values: Any) -> None:
    """Queue a message to the person on each of their channels."""
    seeker = handover.job_seeker
    recruiter = handover.recruiter
    if recruiter is not None:
        values.setdefault("recruiter", first_name(recruiter.name))
        values.setdefault("organisation", recruiter.organisation)
    message = phrase(f"person.handover.{what}", seeker.language, **values)
    for identity in seeker.identities:
        _queue(
            session=session,
            key=f"handover:{handover.id}:person:{what}:{identity.id}:{uuid4().hex}",
            channel=identity.channel,
            recipient=identity.channel_user_id,
            payload={"kind": "handover_status", "text": message},
            handover=handover,
            personal=True,
        )


def assign(handover: Handover, now: datetime, *, session: Session) -> Recruiter | None:
    """Route the handover to the next recruiter (never one who had it) and queue the summary."""
    seeker = handover.job_seeker
    profile = profile_dict(seeker)
    tried = set(handover.tried_recruiter_ids or [])
    pool = [c for c in candidates(now, session=session) if c.id not in tried]
    chosen = route(pool, place=profile["place"], sectors=profile["sectors"] + profile["roles"])
    if chosen is None:
        return None
    recruiter = session.get(Recruiter, chosen.id)
    assert recruiter is not None
    handover.recruiter = recruiter
    handover.recruiter_id = recruiter.id
    handover.status = "requested"
    handover.assigned_at = now
    handover.tried_recruiter_ids = sorted(tried | {recruiter.id})
    session.flush()
    queue_summary(handover, recruiter, session=session)
    session.flush()
    return recruiter


@dataclass(frozen=True)
class Requested:
    """The result of asking for a recruiter."""

    handover: Handover
    created: bool  # False: an open handover existed and nothing new was made
    recruiter: Recruiter | None


def request_handover(
    *, session: Session, seeker: JobSeeker, share_support_needs: bool, now: datetime
) -> Requested:
    """Create and route a handover, or return the open one; the caller checked the consents."""
    existing = open_handover(seeker, session=session)
    if existing is not None:
        return Requested(handover=existing, created=False, recruiter=existing.recruiter)
    handover = Handover(
        job_seeker_id=seeker.id,
        status="requested",
        summary="",
        share_support_needs=share_support_needs,
        tried_recruiter_ids=[],
        created_at=now,
    )
    session.add(handover)
    session.flush()
    session.refresh(handover)
    recruiter = assign(handover, now, session=session)
    return Requested(handover=handover, created=True, recruiter=recruiter)


def status_text(handover: Handover | None, language: str, contact_days: int) -> str | None:
    """What to tell the person about their handover; None when none is open."""
    if handover is None or handover.status not in OPEN_HANDOVER_STATUSES:
        return None
    recruiter = handover.recruiter
    if recruiter is None:
        return phrase("person.handover.status_searching", language)
    values = {"recruiter": first_name(recruiter.name), "organisation": recruiter.organisation}
    if handover.status in ("requested", "delivered"):
        since = as_utc(handover.assigned_at or handover.created_at)
        return phrase(
            "person.handover.status_waiting",
            language,
            date=since.strftime("%d-%m-%Y"),
            days=contact_days,
            **values,
        )
    return phrase(f"person.handover.status_{handover.status}", language, **values)


def mark_delivered(handover_id: int, now: datetime, *, session: Session) -> None:
    """A summary reached the recruiter: `requested` becomes `delivered`."""
    handover = session.get(Handover, handover_id)
    if handover is not None and handover.status == "requested":
        handover.status = "delivered"
        handover.delivered_at = now
        session.flush()


def apply_action(
    *,
    session: Session,
    handover_id: int,
    recruiter_id: int,
    action: str,
    now: datetime,
    contact_days: int,
) -> Handover:
    """A recruiter pressed a button: change the status and tell the person.

    HandoverError when the handover is not theirs or the action does not fit its status.
    """
    if action not in RECRUITER_ACTIONS:
        raise HandoverError(f"unknown action {action!r}")
    handover = session.get(Handover, handover_id, with_for_update=True)
    if handover is None or handover.recruiter_id != recruiter_id:
        raise HandoverError("not_yours")
    if action not in _ALLOWED.get(handover.status, ()):
        raise HandoverError("closed" if handover.status in ("placed", "closed") else "not_now")
    recruiter = handover.recruiter
    assert recruiter is not None
    if action == "accept":
        handover.status = "accepted"
        handover.accepted_at = now
        tell_person(handover, "accept", session=session)
    elif action == "contacted":
        handover.accepted_at = handover.accepted_at or now
        handover.status = "contacted"
        tell_person(handover, "contacted", session=session)
    elif action == "placed":
        handover.status = "placed"
        handover.closed_at = now
        stop_nudges(handover.job_seeker_id, session=session)  # at work: no more nudges
        tell_person(handover, "placed", session=session)
    elif handover.status in ("requested", "delivered"):
        # Not a fit before taking it on: the next recruiter gets a chance.
        name = first_name(recruiter.name)
        tell_person(handover, "declined", session=session, recruiter=name)
        if assign(handover, now, session=session) is not None:
            tell_person(handover, "reassigned", session=session, days=contact_days)
        else:
            handover.recruiter = None
            handover.recruiter_id = None
            handover.status = "requested"
            tell_person(handover, "searching", session=session)
    else:
        handover.status = "closed"
        handover.closed_at = now
        tell_person(handover, "closed", session=session)
    session.flush()
    return handover


def reroute_overdue(
    *, session: Session, now: datetime, accept_working_days: int, contact_days: int
) -> int:
    """Pass on handovers nobody took on in time, and route those still without a recruiter.

    Safe to run in several gateways at once: each handover is locked while it is moved.
    """
    moved = 0
    waiting = session.scalars(
        select(Handover.id).where(Handover.status.in_(("requested", "delivered")))
    ).all()
    for handover_id in waiting:
        handover = session.get(Handover, handover_id, with_for_update=True, populate_existing=True)
        if handover is None or handover.status not in ("requested", "delivered"):
            continue
        if not has_consent(
            session=session, job_seeker=handover.job_seeker, purpose="share_with_recruiter"
        ):
            continue
        previous = handover.recruiter
        if previous is not None:
            since = as_utc(handover.assigned_at or handover.created_at)
            if add_working_days(since, accept_working_days) > now:
                continue
        if assign(handover, now, session=session) is None:
            continue
        if previous is not None:
            language = reader_language(previous.languages)
            text = phrase("recruiter.notice.rerouted", language, id=handover.id)
            notify_recruiter(
                previous,
                session=session,
                key=f"handover:{handover.id}:rerouted:{previous.id}",
                payload={"kind": "handover_rerouted", "text": text},
                handover_id=handover.id,
            )
        tell_person(handover, "reassigned", session=session, days=contact_days)
        moved += 1
    session.flush()
    return moved


def recruiter_handovers(recruiter_id: int, *, session: Session) -> list[Handover]:
    """A recruiter's handovers, newest first."""
    return list(
        session.scalars(
            select(Handover)
            .where(Handover.recruiter_id == recruiter_id)
            .order_by(Handover.id.desc())
        ).all()
    )
