"""Recruiters: registering, listing, disabling, and their current load for routing."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core.languages import LANGUAGES
from store.channels import EMAIL, TELEGRAM
from store.models import OPEN_HANDOVER_STATUSES, Handover, Recruiter
from store.routing import Candidate

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CHAT_ID = re.compile(r"^-?\d{1,20}$")


def _items(values: Sequence[str]) -> list[str]:
    return [value.strip() for value in values if value and value.strip()]


def add_recruiter(
    *,
    session: Session,
    name: str,
    organisation: str,
    regions: Sequence[str] = (),
    sectors: Sequence[str] = (),
    languages: Sequence[str] = ("nl",),
    telegram_chat_id: str | None = None,
    email: str | None = None,
    capacity_per_week: int = 5,
) -> Recruiter:
    """Register a recruiter; ValueError with a clear message for anything that cannot work."""
    if not name.strip() or not organisation.strip():
        raise ValueError("a recruiter needs a name and an organisation")
    if not telegram_chat_id and not email:
        raise ValueError("a recruiter needs a Telegram chat id or an e-mail address (or both)")
    if telegram_chat_id and not _CHAT_ID.match(telegram_chat_id):
        raise ValueError("a Telegram chat id is a number, such as 123456789")
    if email and not _EMAIL.match(email):
        raise ValueError(f"not an e-mail address: {email}")
    unknown = set(_items(languages)) - set(LANGUAGES)
    if unknown or not _items(languages):
        raise ValueError(f"languages are {' and '.join(LANGUAGES)}")
    if capacity_per_week < 1:
        raise ValueError("the capacity is at least 1 handover a week")
    recruiter = Recruiter(
        name=name.strip(),
        organisation=organisation.strip(),
        regions=_items(regions),
        sectors=[sector.lower() for sector in _items(sectors)],
        languages=_items(languages),
        telegram_chat_id=telegram_chat_id or None,
        email=email or None,
        capacity_per_week=capacity_per_week,
        active=True,
    )
    session.add(recruiter)
    session.flush()
    return recruiter


def disable_recruiter(recruiter_id: int, *, session: Session) -> Recruiter:
    """Stop routing to a recruiter; their handovers stay. LookupError when there is none."""
    recruiter = session.get(Recruiter, recruiter_id)
    if recruiter is None:
        raise LookupError(f"there is no recruiter {recruiter_id}")
    recruiter.active = False
    session.flush()
    return recruiter


def _per_recruiter(condition: ColumnElement[bool], *, session: Session) -> dict[int, int]:
    """How many handovers meeting `condition` each recruiter has."""
    rows = session.execute(
        select(Handover.recruiter_id, func.count())
        .where(condition)
        .group_by(Handover.recruiter_id)
    ).all()
    return {int(recruiter_id): int(count) for recruiter_id, count in rows if recruiter_id}


def list_recruiters(*, session: Session) -> list[tuple[Recruiter, int]]:
    """Every recruiter with their number of open handovers, oldest first."""
    open_counts = _per_recruiter(Handover.status.in_(OPEN_HANDOVER_STATUSES), session=session)
    recruiters = session.scalars(select(Recruiter).order_by(Recruiter.id)).all()
    return [(recruiter, open_counts.get(recruiter.id, 0)) for recruiter in recruiters]


def candidates(now: datetime, *, session: Session) -> list[Candidate]:
    """The active recruiters with their load, as routing needs them."""
    week_ago = now - timedelta(days=7)
    # Counted by when a handover reached the recruiter: one that waited long still counts.
    this_week = _per_recruiter(
        func.coalesce(Handover.assigned_at, Handover.created_at) >= week_ago, session=session
    )
    return [
        Candidate(
            id=recruiter.id,
            regions=tuple(recruiter.regions),
            sectors=tuple(recruiter.sectors),
            capacity_per_week=recruiter.capacity_per_week,
            active=recruiter.active,
            open_handovers=open_count,
            handovers_this_week=int(this_week.get(recruiter.id, 0)),
        )
        for recruiter, open_count in list_recruiters(session=session)
        if recruiter.active
    ]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_login_token(recruiter_id: int, *, session: Session) -> str:
    """A new secret for the recruiter's login link; the previous link stops working."""
    recruiter = session.get(Recruiter, recruiter_id)
    if recruiter is None:
        raise LookupError(f"there is no recruiter {recruiter_id}")
    token = secrets.token_urlsafe(32)
    recruiter.login_token_hash = _token_hash(token)
    session.flush()
    return token


def recruiter_by_token(token: str, *, session: Session) -> Recruiter | None:
    """The active recruiter whose login link holds `token`."""
    if not token or len(token) > 128:
        return None
    recruiter = session.scalars(
        select(Recruiter).where(Recruiter.login_token_hash == _token_hash(token))
    ).one_or_none()
    return recruiter if recruiter is not None and recruiter.active else None


def recruiter_addresses(recruiter: Recruiter) -> list[tuple[str, str | None]]:
    """(channel, address) for each channel a recruiter can receive notices on; None when the
    recruiter has no address there."""
    return [(TELEGRAM, recruiter.telegram_chat_id), (EMAIL, recruiter.email)]
