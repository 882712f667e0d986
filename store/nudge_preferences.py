"""A person's own nudge choices, made in the chat: yes or no, how often, a pause, again.

Every change removes the person's scheduled job (`store.jobs.remove_person_jobs`): the
gateway's sync adds it again, planned from the new settings, or leaves it out when the person
wants none. A no (and a stop) is `store.deletion.withdraw_consent(..., "nudges", ...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core.time import as_utc
from store.channels import unblocks_on_message
from store.jobs import remove_person_jobs
from store.models import Consent, JobSeeker, NudgeLog, NudgeSettings
from store.profiles import has_consent, record_consent

DEFAULT_FREQUENCY = "weekly"  # NudgeSettings' own default
CHOSEN_FREQUENCIES = ("daily", "weekly", "biweekly")


@dataclass(frozen=True)
class NudgeChoice:
    """What is set after a change, and whether the yes to nudges was given just now."""

    frequency: str
    paused_until: datetime | None
    newly_given: bool  # the first yes ever, or a yes after a no
    ever_sent: bool  # a nudge was ever planned for this person


def _settings(job_seeker: JobSeeker, *, session: Session) -> NudgeSettings:
    settings = session.get(NudgeSettings, job_seeker.id)
    if settings is None:
        settings = NudgeSettings(job_seeker_id=job_seeker.id, frequency=DEFAULT_FREQUENCY)
        session.add(settings)
    return settings


def has_nudge_answer(job_seeker: JobSeeker, *, session: Session) -> bool:
    """Whether the person ever said yes or no to nudges."""
    return bool(
        session.scalar(
            select(
                exists().where(Consent.job_seeker_id == job_seeker.id, Consent.purpose == "nudges")
            )
        )
    )


def current_frequency(job_seeker: JobSeeker, *, session: Session) -> str:
    """The person's frequency: `off` unless they said yes to nudges."""
    if not has_consent(session=session, job_seeker=job_seeker, purpose="nudges"):
        return "off"
    settings = session.get(NudgeSettings, job_seeker.id)
    return DEFAULT_FREQUENCY if settings is None else settings.frequency


def want_nudges(
    job_seeker: JobSeeker,
    *,
    session: Session,
    frequency: str | None,
    channel: str,
    end_pause: bool,
) -> NudgeChoice:
    """Nudges on: a yes recorded unless it stands, the frequency (None keeps the one the person
    had, or weekly when it was off), the pause ended when asked; the job is planned anew."""
    if frequency is not None and frequency not in CHOSEN_FREQUENCIES:
        raise ValueError(f"unknown nudge frequency {frequency!r}")
    newly_given = not has_consent(session=session, job_seeker=job_seeker, purpose="nudges")
    if newly_given:
        record_consent(
            session=session, job_seeker=job_seeker, purpose="nudges", given=True, channel=channel
        )
    settings = _settings(job_seeker, session=session)
    if frequency is not None:
        settings.frequency = frequency
    elif settings.frequency not in CHOSEN_FREQUENCIES:
        settings.frequency = DEFAULT_FREQUENCY
    if end_pause:
        settings.paused_until = None
    if unblocks_on_message(channel):
        # Writing on a channel that nudges go to (Telegram): whoever blocked the bot there (a
        # 403 stopped their nudges) has unblocked it, so nudges can reach them again.
        for identity in job_seeker.identities:
            if identity.channel == channel:
                identity.blocked_at = None
    remove_person_jobs(job_seeker.id, session=session)
    session.flush()
    ever_sent = session.scalar(select(exists().where(NudgeLog.job_seeker_id == job_seeker.id)))
    return NudgeChoice(
        frequency=settings.frequency,
        paused_until=as_utc(settings.paused_until) if settings.paused_until else None,
        newly_given=newly_given,
        ever_sent=bool(ever_sent),
    )


def pause_nudges(job_seeker: JobSeeker, until: datetime, *, session: Session) -> None:
    """No nudges before `until`; the job is planned anew from then."""
    if until.tzinfo is None:
        raise ValueError("until must be timezone-aware")
    # As UTC: SQLite keeps the wall time without its zone (see store.models.as_utc).
    _settings(job_seeker, session=session).paused_until = until.astimezone(timezone.utc)
    remove_person_jobs(job_seeker.id, session=session)
    session.flush()
