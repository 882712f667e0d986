"""Reading and writing job seekers, consents and profile answers; callers pass the session."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ScalarSelect, delete, select
from sqlalchemy.orm import Session

from core.time import utcnow
from store.models import ChannelIdentity, Consent, JobSeeker, Profile, ProfileItem, SuccessMoment

PROFILE_LIST_KINDS = (
    "talent",
    "development_point",
    "role",
    "sector",
    "pathway",
    "support_need",
)
# `extended_retention`: the person agreed to keep their profile longer than the 4 weeks after
# a handover closed without a placement (see store/retention.py).
CONSENT_PURPOSES = (
    "profile",
    "share_with_recruiter",
    "support_needs",
    "nudges",
    "extended_retention",
)
CONSENT_TEXT_VERSION = "v1"
EDITABLE_PROFILE_FIELDS = frozenset(
    column.key
    for column in Profile.__table__.columns
    if column.key not in ("job_seeker_id", "updated_at", "confirmed_at")
)


def split_sender(sender_id: str) -> tuple[str, str]:
    """Split a Rasa sender id such as `telegram:123` into channel and channel user id."""
    channel, sep, user_id = sender_id.partition(":")
    if not sep or not channel or not user_id:
        raise ValueError("sender id must look like CHANNEL:ID")
    return channel, user_id


def find_job_seeker(*, session: Session, channel: str, channel_user_id: str) -> JobSeeker | None:
    """The job seeker for a channel identity, if any."""
    return session.scalars(
        select(JobSeeker)
        .join(ChannelIdentity)
        .where(
            ChannelIdentity.channel == channel, ChannelIdentity.channel_user_id == channel_user_id
        )
    ).one_or_none()


def consented_job_seeker(
    *, session: Session, channel: str, channel_user_id: str, purpose: str = "profile"
) -> JobSeeker | None:
    """The job seeker for a channel identity, only when their latest `purpose` decision is yes."""
    seeker = find_job_seeker(session=session, channel=channel, channel_user_id=channel_user_id)
    if seeker is None or not has_consent(session=session, job_seeker=seeker, purpose=purpose):
        return None
    return seeker


def get_or_create_job_seeker(
    *, session: Session, channel: str, channel_user_id: str, language: str
) -> JobSeeker:
    """The job seeker for a channel identity, created on first contact."""
    seeker = find_job_seeker(session=session, channel=channel, channel_user_id=channel_user_id)
    if seeker is None:
        seeker = JobSeeker(language=language)
        seeker.identities.append(ChannelIdentity(channel=channel, channel_user_id=channel_user_id))
        session.add(seeker)
        session.flush()
    elif seeker.language != language:
        seeker.language = language
    return seeker


def record_consent(
    *,
    session: Session,
    job_seeker: JobSeeker,
    purpose: str,
    given: bool,
    channel: str | None = None,
    text_version: str = CONSENT_TEXT_VERSION,
) -> Consent:
    """Append a consent decision made on `channel`; earlier decisions stay as history."""
    if purpose not in CONSENT_PURPOSES:
        raise ValueError(f"unknown consent purpose {purpose!r}")
    consent = Consent(
        job_seeker_id=job_seeker.id,
        purpose=purpose,
        given=given,
        text_version=text_version,
        channel=channel or job_seeker.identities[0].channel,
    )
    session.add(consent)
    session.flush()
    session.expire(job_seeker, ["consents"])
    return consent


def latest_decision(purpose: str, job_seeker_id: Any) -> ScalarSelect[bool]:
    """The person's latest decision for `purpose` as part of a query: true, false, or null
    when never asked. `job_seeker_id` is a value, or a column of the query it goes into."""
    return (
        select(Consent.given)
        .where(Consent.job_seeker_id == job_seeker_id, Consent.purpose == purpose)
        .order_by(Consent.at.desc(), Consent.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def has_consent(*, session: Session, job_seeker: JobSeeker, purpose: str) -> bool:
    """Whether the latest decision for `purpose` is a yes."""
    return bool(session.scalar(select(latest_decision(purpose, job_seeker.id))))


def save_profile_fields(
    *, session: Session, job_seeker: JobSeeker, fields: dict[str, str | int | None]
) -> Profile:
    """Set single-valued profile fields; keys are Profile column names, None clears a field."""
    unknown = set(fields) - EDITABLE_PROFILE_FIELDS
    if unknown:
        raise ValueError(f"unknown profile field(s) {sorted(unknown)!r}")
    profile = session.get(Profile, job_seeker.id)
    if profile is None:
        profile = Profile(job_seeker_id=job_seeker.id)
        session.add(profile)
    for key, value in fields.items():
        setattr(profile, key, value)
    session.flush()
    session.expire(job_seeker, ["profile"])
    return profile


def replace_profile_items(
    *, session: Session, job_seeker: JobSeeker, kind: str, values: Sequence[str]
) -> None:
    """Replace every entry of one list field with `values`, in order, skipping blanks."""
    if kind not in PROFILE_LIST_KINDS:
        raise ValueError(f"unknown profile list {kind!r}")
    session.execute(
        delete(ProfileItem).where(
            ProfileItem.job_seeker_id == job_seeker.id, ProfileItem.kind == kind
        )
    )
    cleaned = [value.strip() for value in values if value and value.strip()]
    for position, value in enumerate(cleaned):
        session.add(
            ProfileItem(job_seeker_id=job_seeker.id, kind=kind, value=value, position=position)
        )
    session.flush()
    session.expire(job_seeker, ["items"])


def add_profile_item(*, session: Session, job_seeker: JobSeeker, kind: str, value: str) -> bool:
    """Append one entry to a list field unless it is already there; True when added."""
    if kind not in PROFILE_LIST_KINDS:
        raise ValueError(f"unknown profile list {kind!r}")
    value = value.strip()
    existing = session.scalars(
        select(ProfileItem).where(
            ProfileItem.job_seeker_id == job_seeker.id, ProfileItem.kind == kind
        )
    ).all()
    if not value or any(item.value.lower() == value.lower() for item in existing):
        return False
    position = max((item.position for item in existing), default=-1) + 1
    session.add(
        ProfileItem(job_seeker_id=job_seeker.id, kind=kind, value=value, position=position)
    )
    session.flush()
    session.expire(job_seeker, ["items"])
    return True


def save_profile(
    *,
    session: Session,
    channel: str,
    channel_user_id: str,
    language: str,
    values: dict[str, object],
) -> JobSeeker:
    """Write intake answers: profile columns by name, list fields by item kind.

    Keys not given are left alone. The profile consent is recorded if it is missing, because
    the answers are only ever collected after it was given in the conversation.
    """
    unknown = set(values) - EDITABLE_PROFILE_FIELDS - set(PROFILE_LIST_KINDS)
    if unknown:
        raise ValueError(f"unknown profile field(s) {sorted(unknown)!r}")
    seeker = get_or_create_job_seeker(
        session=session, channel=channel, channel_user_id=channel_user_id, language=language
    )
    if not has_consent(session=session, job_seeker=seeker, purpose="profile"):
        record_consent(
            session=session, job_seeker=seeker, purpose="profile", given=True, channel=channel
        )
    fields = {key: value for key, value in values.items() if key in EDITABLE_PROFILE_FIELDS}
    save_profile_fields(session=session, job_seeker=seeker, fields=fields)  # type: ignore[arg-type]
    for kind in PROFILE_LIST_KINDS:
        items = values.get(kind)
        if isinstance(items, list):
            replace_profile_items(
                session=session, job_seeker=seeker, kind=kind, values=[str(v) for v in items]
            )
    return seeker


def confirm_profile(*, session: Session, job_seeker: JobSeeker) -> None:
    """Mark the profile as confirmed by the person now."""
    profile = session.get(Profile, job_seeker.id)
    if profile is None:
        profile = Profile(job_seeker_id=job_seeker.id)
        session.add(profile)
    profile.confirmed_at = utcnow()
    session.flush()


def complete_profile(*, session: Session, job_seeker: JobSeeker) -> None:
    """Mark the intake as run to its end now: the profile is enough to ask for a recruiter."""
    profile = session.get(Profile, job_seeker.id)
    if profile is None:
        profile = Profile(job_seeker_id=job_seeker.id)
        session.add(profile)
    profile.completed_at = utcnow()
    session.flush()
    session.expire(job_seeker, ["profile"])


def add_success_moment(*, session: Session, job_seeker: JobSeeker, text: str) -> SuccessMoment:
    """Keep one success moment."""
    moment = SuccessMoment(job_seeker_id=job_seeker.id, text=text.strip())
    session.add(moment)
    session.flush()
    session.expire(job_seeker, ["success_moments"])
    return moment
