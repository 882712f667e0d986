"""A person's nudges in the database: what is due, queueing one for the outbox, and its end.

A due nudge is *queued* in one transaction: its NudgeLog row, unique on (person, due moment),
and the outbox row that carries the message. Of several gateways running the same due nudge
only one insert succeeds, and the outbox delivers what was queued exactly once, across a
crash too (bot/channels/telegram/sender.py). Every nudge carries buttons that name its log
row, which is what lets the outbox recognise a send cut off by a crash.

Which nudge (the alternation rule): a person who told the bot development points, roles or
sectors gets a module after every encouragement, as long as a module they were never sent is
left; everyone else, and every other nudge, is an encouragement. The first nudge is an
encouragement: a warm start before a suggestion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, TypeAlias

from sqlalchemy import (
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.texts import phrase
from core.time import (
    DEFAULT_QUIET,
    QuietHours,
    as_utc,
    in_quiet_hours,
    shift_out_of_quiet_hours,
)
from store.channels import NUDGE_CHANNELS, can_address
from store.jobs import stop_nudges
from store.models import (
    ChannelIdentity,
    Handover,
    JobSeeker,
    NudgeLog,
    NudgeSettings,
    OutboxMessage,
    Profile,
    ProfileItem,
    SuccessMoment,
)
from store.nudge_catalogue import Catalogue
from store.nudge_choice import choose_encouragement, choose_module
from store.nudge_schedule import next_due
from store.profiles import latest_decision

ENCOURAGEMENT = "encouragement"
MODULE = "elearning"
NUDGE_KIND = "nudge"  # the outbox payload's kind
DONE_PREFIX = "nudge:done:"
STOP_PREFIX = "nudge:stop:"
DEFAULT_FREQUENCY = "weekly"  # NudgeSettings' own default, for someone without a row yet
# Rows that say a nudge went out (or is on its way): they count for rotation and "never repeat".
DELIVERED = ("queued", "claimed", "sent")


@dataclass(frozen=True)
class Rules:
    """When nudges may go out: the quiet hours and how soon the first one comes."""

    quiet: QuietHours | None = DEFAULT_QUIET
    first_after: timedelta | None = None


DEFAULT_RULES = Rules()


def utc(moment: datetime) -> datetime:
    """An instant as UTC (SQLite keeps wall time without the zone: the claim key must match)."""
    return moment.astimezone(timezone.utc)


# Whether a queued message may go out now: "send", "cancel", or the moment to wait for.
Verdict: TypeAlias = Literal["send", "cancel"] | datetime


@dataclass(frozen=True)
class Person:
    """What decides whether, where and how a person's nudge goes, read in one query."""

    id: int
    language: str
    name: str | None
    frequency: str
    paused_until: datetime | None
    said_yes: bool  # the latest nudge decision is a yes
    placed: bool  # at work through a handover
    reachable: str | None  # `channel:user id` of the first identity a nudge can go to

    @property
    def address(self) -> tuple[str, str] | None:
        """(channel, recipient) a nudge can be sent to, if any."""
        if self.reachable is None:
            return None
        channel, _, user = self.reachable.partition(":")
        return (channel, user) if can_address(channel, user) else None


def _person(job_seeker_id: Any, *, session: Session) -> Person | None:
    """The person `job_seeker_id` (a value, or a subquery giving one); None if gone."""
    reachable = (
        select(ChannelIdentity.channel + literal(":") + ChannelIdentity.channel_user_id)
        .where(
            ChannelIdentity.job_seeker_id == JobSeeker.id,
            ChannelIdentity.channel.in_(NUDGE_CHANNELS),
            ChannelIdentity.blocked_at.is_(None),
        )
        .order_by(ChannelIdentity.id)
        .limit(1)
        .scalar_subquery()
    )
    placed = exists().where(Handover.job_seeker_id == JobSeeker.id, Handover.status == "placed")
    row = session.execute(
        select(
            JobSeeker.id,
            JobSeeker.language,
            Profile.name,
            NudgeSettings.frequency,
            NudgeSettings.paused_until,
            latest_decision("nudges", JobSeeker.id).label("said_yes"),
            placed.label("placed"),
            reachable.label("reachable"),
        )
        .outerjoin(Profile, Profile.job_seeker_id == JobSeeker.id)
        .outerjoin(NudgeSettings, NudgeSettings.job_seeker_id == JobSeeker.id)
        .where(JobSeeker.id == job_seeker_id)
    ).one_or_none()
    if row is None:
        return None
    return Person(
        id=row.id,
        language=row.language,
        name=row.name,
        frequency=row.frequency or DEFAULT_FREQUENCY,
        paused_until=as_utc(row.paused_until) if row.paused_until else None,
        said_yes=bool(row.said_yes),
        placed=bool(row.placed),
        reachable=row.reachable,
    )


def _frequency(job_seeker_id: int, *, session: Session) -> tuple[str, datetime | None]:
    """A person's frequency and pause end."""
    settings = session.get(NudgeSettings, job_seeker_id)
    if settings is None:
        return DEFAULT_FREQUENCY, None
    paused = as_utc(settings.paused_until) if settings.paused_until else None
    return settings.frequency, paused


def last_due(job_seeker_id: int, *, session: Session) -> datetime | None:
    """The latest due moment in a person's nudge log (sent, failed or missed alike)."""
    latest = session.scalar(
        select(func.max(NudgeLog.due_at)).where(NudgeLog.job_seeker_id == job_seeker_id)
    )
    if latest is None:
        latest = session.scalar(
            select(func.max(NudgeLog.at)).where(NudgeLog.job_seeker_id == job_seeker_id)
        )
    return as_utc(latest) if latest is not None else None


def plan_next(
    job_seeker_id: int, now: datetime, rules: Rules = DEFAULT_RULES, *, session: Session
) -> datetime | None:
    """When the person's next nudge is due, from their settings and log."""
    frequency, paused_until = _frequency(job_seeker_id, session=session)
    return next_due(
        now=now,
        frequency=frequency,
        paused_until=paused_until,
        last_sent_at=last_due(job_seeker_id, session=session),
        quiet=rules.quiet,
        first_after=rules.first_after,
    )


def _content(
    seeker: Person, catalogue: Catalogue, *, session: Session
) -> tuple[str, str | None, str | None, str]:
    """(kind, module id, encouragement id, text) of the person's next nudge."""
    history = session.execute(
        select(NudgeLog.kind, NudgeLog.module_id, NudgeLog.encouragement_id)
        .where(NudgeLog.job_seeker_id == seeker.id, NudgeLog.status.in_(DELIVERED))
        .order_by(NudgeLog.id)
    ).all()
    items: dict[str, list[str]] = {}
    for kind, value in session.execute(
        select(ProfileItem.kind, ProfileItem.value)
        .where(ProfileItem.job_seeker_id == seeker.id)
        .order_by(ProfileItem.kind, ProfileItem.position)
    ):
        items.setdefault(kind, []).append(value)
    wishes = {
        "development_points": items.get("development_point", []),
        "roles": items.get("role", []),
        "sectors": items.get("sector", []),
    }
    language = seeker.language
    if any(wishes.values()) and history and history[-1].kind == ENCOURAGEMENT:
        done = {row.module_id for row in history if row.module_id}
        module = choose_module(catalogue, done_module_ids=done, **wishes)
        if module is not None:
            text = (
                f"{phrase('person.nudge.module_intro', language)}: "
                f"{module.title.get(language)} ({module.duration_minutes} min)\n"
                f"{module.description.get(language)}\n{module.url}"
            )
            return MODULE, module.id, None, text
    successes = session.scalars(
        select(SuccessMoment.text)
        .where(SuccessMoment.job_seeker_id == seeker.id)
        .order_by(SuccessMoment.id)
    ).all()
    message_id, text = choose_encouragement(
        catalogue,
        language=language,
        sent_ids=[row.encouragement_id for row in history if row.encouragement_id],
        name=seeker.name,
        talents=items.get("talent", []),
        successes=list(successes),
        seed=seeker.id,
    )
    return ENCOURAGEMENT, None, message_id, text


def buttons(kind: str, language: str, log_id: int) -> list[list[str]]:
    """A nudge's buttons as (title, callback data): they name its log row, so no two nudges
    carry the same ones."""
    rows = [[phrase("person.nudge.stop_button", language), f"{STOP_PREFIX}{log_id}"]]
    if kind == MODULE:
        rows.insert(0, [phrase("person.nudge.done_button", language), f"{DONE_PREFIX}{log_id}"])
    return rows


def _wanted(
    seeker: Person, now: datetime, *, session: Session
) -> Literal["stopped", "paused"] | tuple[str, str]:
    """Where the person's nudge goes (channel, recipient), or why they get no nudge now
    (stopped | paused)."""
    if seeker.frequency == "off" or not seeker.said_yes:
        return "stopped"
    if seeker.placed:
        stop_nudges(seeker.id, session=session)
        return "stopped"
    if seeker.address is None:
        return "stopped"  # not on a channel that can reach them unasked
    if seeker.paused_until is not None and seeker.paused_until > now:
        return "paused"
    return seeker.address


def queue_nudge(
    *,
    session: Session,
    catalogue: Catalogue,
    job_seeker_id: int,
    due_at: datetime,
    now: datetime,
    rules: Rules = DEFAULT_RULES,
) -> tuple[str, int | None]:
    """Queue the person's nudge due at `due_at` for the outbox, once; (status, log id).

    status: queued | duplicate (another run queued it) | stopped | paused | deferred (quiet
    hours) | gone (the person was deleted).
    """
    seeker = _person(job_seeker_id, session=session)
    if seeker is None:
        return "gone", None
    address = _wanted(seeker, now, session=session)
    if isinstance(address, str):
        return address, None
    channel, recipient = address
    if in_quiet_hours(now, rules.quiet):
        return "deferred", None
    kind, module_id, encouragement_id, text = _content(seeker, catalogue, session=session)
    row = NudgeLog(
        job_seeker_id=job_seeker_id,
        kind=kind,
        module_id=module_id,
        encouragement_id=encouragement_id,
        due_at=utc(due_at),
        status="queued",
        at=now,
    )
    try:
        # One savepoint for both rows: on SQLite releasing the outermost savepoint commits, so
        # the log row and its message must be written inside it together.
        with session.begin_nested():
            session.add(row)
            session.flush()
            session.add(
                OutboxMessage(
                    idempotency_key=f"nudge:{row.id}",
                    job_seeker_id=job_seeker_id,
                    channel=channel,
                    recipient=recipient,
                    payload={
                        "kind": NUDGE_KIND,
                        "nudge_log_id": row.id,
                        "text": text,
                        "buttons": buttons(kind, seeker.language, row.id),
                    },
                    next_attempt_at=now,
                )
            )
    except IntegrityError:
        # Another gateway queued this due nudge first: it is on its way already.
        return "duplicate", None
    return "queued", row.id


def send_check(
    *, session: Session, nudge_log_id: int, now: datetime, rules: Rules = DEFAULT_RULES
) -> Verdict:
    """Just before the outbox sends a nudge: "send", "cancel" (the person said stop, paused
    or is gone since it was queued), or the moment to wait for (quiet hours)."""
    seeker = _person(
        select(NudgeLog.job_seeker_id).where(NudgeLog.id == nudge_log_id).scalar_subquery(),
        session=session,
    )
    if seeker is None:  # the person (and so the log row) was deleted
        return "cancel"
    if isinstance(_wanted(seeker, now, session=session), str):
        return "cancel"
    if in_quiet_hours(now, rules.quiet):
        return shift_out_of_quiet_hours(now, rules.quiet)
    return "send"


def finish_nudge(
    *, session: Session, nudge_log_id: int, status: str, detail: str | None, now: datetime
) -> None:
    """Record how a queued nudge ended: sent | failed | cancelled | blocked. A blocked bot
    marks the person's Telegram identity unreachable and stops their nudges."""
    values: dict[str, Any] = {"status": status, "detail": detail}
    if status == "sent":
        values["at"] = now
    # One statement, not a load and a flush: this runs for every nudge sent.
    job_seeker_id = session.scalar(
        update(NudgeLog)
        .where(NudgeLog.id == nudge_log_id)
        .values(**values)
        .returning(NudgeLog.job_seeker_id)
    )
    if job_seeker_id is None:  # the person was deleted while it was being sent
        return
    if status == "blocked":
        for identity in session.scalars(
            select(ChannelIdentity).where(
                ChannelIdentity.job_seeker_id == job_seeker_id,
                ChannelIdentity.channel.in_(NUDGE_CHANNELS),
            )
        ):
            identity.blocked_at = now
        stop_nudges(job_seeker_id, session=session)


def record_missed(
    *, session: Session, job_seeker_id: int, due_at: datetime, now: datetime
) -> bool:
    """Log a nudge the gateway was down for beyond the grace window; False if already logged."""
    if session.get(JobSeeker, job_seeker_id) is None:
        return False
    # "none": nothing was chosen, so it does not count for rotation.
    row = NudgeLog(
        job_seeker_id=job_seeker_id, kind="none", due_at=utc(due_at), status="missed", at=now
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def record_completion(
    *, session: Session, nudge_log_id: int, channel: str, channel_user_id: str, now: datetime
) -> bool:
    """The person pressed "Ik heb hem gedaan" on a module nudge; False if it is not theirs."""
    row = session.get(NudgeLog, nudge_log_id)
    if (
        row is None
        or row.kind != MODULE
        or row.job_seeker_id != owner(channel, channel_user_id, session=session)
    ):
        return False
    if row.completed_at is None:
        row.completed_at = now
    return True


def owner(channel: str, channel_user_id: str, *, session: Session) -> int | None:
    """The job seeker behind a channel identity."""
    return session.scalar(
        select(ChannelIdentity.job_seeker_id).where(
            ChannelIdentity.channel == channel, ChannelIdentity.channel_user_id == channel_user_id
        )
    )


def id_after(data: str, prefix: str) -> int | None:
    """The id in `<prefix><id>`: a button's callback data, a nudge job's id."""
    rest = data.removeprefix(prefix)
    return int(rest) if rest != data and rest.isdigit() else None
