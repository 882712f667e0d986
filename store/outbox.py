"""The outbox table's queries: claiming due rows under a lease, the last check before a send,
recording the outcome, and the web chat's inbox.

How the worker uses them, and how a send cut off by a restart is recovered, is in
bot/delivery/outbox.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Integer, and_, cast, func, or_, select, update
from sqlalchemy.orm import Session

from store.channels import NUMBERED_MESSAGES
from store.handovers import mark_delivered
from store.models import OPEN_HANDOVER_STATUSES, Handover, OutboxMessage
from store.nudge_dispatch import (
    DEFAULT_RULES,
    NUDGE_KIND,
    Rules,
    Verdict,
    finish_nudge,
    send_check,
)
from store.profiles import has_consent

BATCH = 50
CLAIM_TRIES = 3
# Rows looked at beyond those wanted, by default: for chats busy elsewhere and rows that other
# claimers are taking meanwhile. The outbox worker passes its own, from its number of lanes.
SPARE = 10

# (recipient, newest id recorded) -> where a cut-off send can start.
Floor = Callable[[str, int | None], int | None]


@dataclass(frozen=True)
class Claimed:
    """A row claimed for sending, as plain values (used outside the session)."""

    id: int
    channel: str
    recipient: str
    payload: dict[str, Any]
    attempts: int
    handover_id: int | None
    recovered: bool  # found in `sending` past its lease: the last attempt was cut off
    previous_message_id: int | None


def _due(now: datetime) -> Any:
    return or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
    )


def last_numbered_id(channel: str, recipient: str, *, session: Session) -> int | None:
    """The newest message id recorded for a chat on a channel that numbers its messages."""
    # On such a channel (store.channels.NUMBERED_MESSAGES) the provider id is a number.
    newest = session.scalar(
        select(func.max(cast(OutboxMessage.provider_message_id, Integer))).where(
            OutboxMessage.channel == channel,
            OutboxMessage.recipient == recipient,
            OutboxMessage.provider_message_id.is_not(None),
        )
    )
    return int(newest) if newest is not None else None


def claim(
    *,
    session: Session,
    now: datetime,
    lease: timedelta,
    channels: tuple[str, ...],
    floors: Mapping[str, Floor] | None = None,
    most: int = BATCH,
    spare: int = SPARE,
) -> tuple[list[Claimed], bool]:
    """Claim up to `most` due rows for this process (a row another process holds is left
    alone); and whether more rows were due than it claimed, worth another look.

    `floors` gives, per numbered channel, a better start for the search for a cut-off send
    than the newest id recorded (the gateway's own newest message id, see MessageIds)."""
    for _ in range(CLAIM_TRIES):
        claimed, lost, more = _claim_once(
            session=session,
            now=now,
            lease=lease,
            channels=channels,
            floors=floors or {},
            most=most,
            spare=spare,
        )
        if claimed or not lost:
            return claimed, more
    return [], False  # other workers were faster every time: they send


def _claim_once(
    *,
    session: Session,
    now: datetime,
    lease: timedelta,
    channels: tuple[str, ...],
    floors: Mapping[str, Floor],
    most: int,
    spare: int,
) -> tuple[list[Claimed], bool, bool]:
    """One try of claim; also whether a row was taken by another worker meanwhile, and
    whether due rows were left (a chat busy, more than `most`)."""
    look_at = min(BATCH, most + spare)
    # Two queries rather than one with OR: each walks the due index in order, so the cost
    # does not grow with the rows already sent. Rows another worker is claiming right now
    # are skipped rather than waited for (PostgreSQL; SQLite has one writer at a time anyway).
    cut_off = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.status == "sending",
            OutboxMessage.claimed_until < now,
            OutboxMessage.channel.in_(channels),
        )
        .order_by(OutboxMessage.id)
        .limit(look_at)
        .with_for_update(skip_locked=True)
    ).all()
    pending = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.channel.in_(channels),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(look_at)
        .with_for_update(skip_locked=True)
    ).all()
    rows = [*cut_off, *pending]
    claimed: list[Claimed] = []
    lost = False
    busy: set[tuple[str, str]] = set()
    for row in rows:
        if len(claimed) >= most:
            break
        target = (row.channel, row.recipient)
        # One send at a time per chat: the search for a cut-off send relies on it.
        in_flight = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.channel == row.channel,
                OutboxMessage.recipient == row.recipient,
                OutboxMessage.status == "sending",
                OutboxMessage.claimed_until >= now,
                OutboxMessage.id != row.id,
            )
        )
        if target in busy or in_flight:
            continue
        recovered = row.status == "sending"
        previous = row.previous_message_id
        if not recovered and row.channel in NUMBERED_MESSAGES:
            previous = last_numbered_id(row.channel, row.recipient, session=session)
            if row.channel in floors:
                previous = floors[row.channel](row.recipient, previous)
        result = session.connection().execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, _due(now))
            .values(
                status="sending",
                claimed_until=now + lease,
                attempts=OutboxMessage.attempts + 1,
                previous_message_id=previous,
            )
        )
        if result.rowcount != 1:
            lost = True  # another worker was faster
            continue
        busy.add(target)
        claimed.append(
            Claimed(
                id=row.id,
                channel=row.channel,
                recipient=row.recipient,
                payload=dict(row.payload),
                attempts=row.attempts + 1,
                handover_id=row.handover_id,
                recovered=recovered,
                previous_message_id=previous,
            )
        )
    return claimed, lost, len(rows) > len(claimed)


def renew_lease(*, session: Session, row: Claimed, until: datetime) -> bool:
    """Extend this worker's claim on a row; False when another worker claimed it since (each
    claim counts an attempt, so the attempt number tells whose claim it is)."""
    result = session.connection().execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == row.id,
            OutboxMessage.status == "sending",
            OutboxMessage.attempts == row.attempts,
        )
        .values(claimed_until=until)
    )
    return result.rowcount == 1


def still_allowed(
    row: Claimed, now: datetime, rules: Rules = DEFAULT_RULES, *, session: Session
) -> Verdict:
    """Whether the row may go out now ("send"), not any more ("cancel"), or the moment to wait
    for.

    A summary goes out only while the handover is open, with that recruiter, and shared; a
    nudge only while the person still wants nudges, and not in the quiet hours.
    """
    if row.payload.get("kind") == NUDGE_KIND:
        return send_check(
            session=session, nudge_log_id=int(row.payload["nudge_log_id"]), now=now, rules=rules
        )
    if row.payload.get("kind") != "handover_summary":
        return "send"
    handover = session.get(Handover, row.handover_id) if row.handover_id else None
    if handover is None or handover.status not in OPEN_HANDOVER_STATUSES:
        return "cancel"
    if handover.recruiter_id != row.payload.get("recruiter_id"):
        return "cancel"
    shared = has_consent(
        session=session, job_seeker=handover.job_seeker, purpose="share_with_recruiter"
    )
    return "send" if shared else "cancel"


def put_back(*, session: Session, row: Claimed, until: datetime) -> None:
    """Not now (a nudge in the quiet hours): back to pending until `until`, the attempt given
    back."""
    stored = session.get(OutboxMessage, row.id)
    if stored is not None:
        stored.status = "pending"
        stored.claimed_until = None
        stored.attempts = max(0, stored.attempts - 1)
        # UTC: SQLite keeps the wall time without its zone.
        stored.next_attempt_at = until.astimezone(timezone.utc)


def record_outcome(
    *,
    session: Session,
    row: Claimed,
    status: str,
    detail: str | None,
    now: datetime,
    blocked: bool = False,
) -> None:
    """A row `sent` (detail: the channel's message id), `cancelled` or `failed` (detail: why);
    a nudge's log and a summary's handover follow."""
    values: dict[str, Any] = {"status": status, "claimed_until": None}
    if status == "sent":
        values.update(sent_at=now, provider_message_id=detail, last_error=None)
    else:
        values.update(last_error=detail)
    # Statements rather than a load and a flush: this runs for every message sent.
    result = session.execute(
        update(OutboxMessage).where(OutboxMessage.id == row.id).values(**values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]  # the person was deleted
        return
    if row.payload.get("kind") == NUDGE_KIND:
        finish_nudge(
            session=session,
            nudge_log_id=int(row.payload["nudge_log_id"]),
            status="blocked" if blocked else status,
            detail=None if status == "sent" else detail,
            now=now,
        )
    if status == "sent" and row.payload.get("kind") == "handover_summary":
        if row.handover_id:
            mark_delivered(row.handover_id, now, session=session)


def retry_after(
    *, session: Session, row: Claimed, reason: str, at: datetime, keep_sending: bool
) -> None:
    """A failed attempt, to be tried again at `at`. `keep_sending`: the row stays `sending`
    until then, and is looked for at the channel before it is sent again."""
    stored = session.get(OutboxMessage, row.id)
    if stored is None:
        return
    stored.last_error = reason
    if keep_sending:
        stored.claimed_until = at
    else:
        stored.status = "pending"
        stored.claimed_until = None
        stored.next_attempt_at = at


def take_inbox(*, session: Session, channel: str, recipient: str, now: datetime) -> list[str]:
    """Messages waiting for a person on a channel that cannot be pushed to (the web chat):
    handed over with their next reply, oldest first."""
    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.recipient == recipient,
            OutboxMessage.status == "pending",
        )
        .order_by(OutboxMessage.id)
    ).all()
    for row in rows:
        row.status = "sent"
        row.sent_at = now
    return [str(row.payload.get("text") or "") for row in rows if row.payload.get("text")]
