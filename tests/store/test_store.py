"""The store's data functions and the export format, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.db import session_scope
from store.export import SCHEMA, export_job_seeker
from store.models import ChannelIdentity, Consent, JobSeeker, ProfileItem
from store.profiles import (
    find_job_seeker,
    get_or_create_job_seeker,
    has_consent,
    record_consent,
    replace_profile_items,
    save_profile_fields,
    split_sender,
)

# The keys of the `werkmaatje.export/1` format in SPEC.md.
EXPORT_KEYS = {
    "schema",
    "job_seeker",
    "consents",
    "profile",
    "handovers",
    "nudges",
    "success_moments",
    "conversation",
}
JOB_SEEKER_KEYS = {"channel", "channel_user_id", "language", "created_at"}
# Added to the SPEC keys (allowed: "more keys may be added"): every channel of the person.
JOB_SEEKER_ADDED_KEYS = {"identities"}
CONSENT_KEYS = {"purpose", "given", "text_version", "at"}
PROFILE_KEYS = {
    "name",
    "talents",
    "development_points",
    "roles",
    "sectors",
    "place",
    "max_travel_minutes",
    "hours_min",
    "hours_max",
    "pathways",
    "start",
    "support_needs",
    "contact_preference",
}
NUDGES_KEYS = {"frequency", "paused_until", "sent"}


def new_user_id() -> str:
    """A channel user id no other test uses; the database is shared within the session."""
    return uuid.uuid4().hex


def new_seeker(engine: Engine, *, channel: str = "telegram", language: str = "nl") -> str:
    """Create a job seeker and return its channel user id."""
    user_id = new_user_id()
    with session_scope(engine) as session:
        get_or_create_job_seeker(
            session=session, channel=channel, channel_user_id=user_id, language=language
        )
    return user_id


def seeker_for(session: Session, channel: str, user_id: str) -> JobSeeker:
    """The job seeker row, which must exist."""
    seeker = find_job_seeker(session=session, channel=channel, channel_user_id=user_id)
    assert seeker is not None
    return seeker


def parse_utc(value: object) -> datetime:
    """Parse an export timestamp, which must be ISO-8601 with a UTC offset."""
    assert isinstance(value, str)
    moment = datetime.fromisoformat(value)
    assert moment.utcoffset() == timedelta(0)
    return moment


# --- split_sender -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender_id", "expected"),
    [
        ("telegram:123", ("telegram", "123")),
        ("web:3f2a9c", ("web", "3f2a9c")),
        ("whatsapp:31612345678", ("whatsapp", "31612345678")),
        ("web:a:b", ("web", "a:b")),
    ],
)
def test_split_sender(sender_id: str, expected: tuple[str, str]) -> None:
    assert split_sender(sender_id) == expected


@pytest.mark.parametrize("sender_id", ["bogus", ":1", "web:", ":", ""])
def test_split_sender_rejects(sender_id: str) -> None:
    with pytest.raises(ValueError, match="CHANNEL:ID"):
        split_sender(sender_id)


# --- job seekers and consents -----------------------------------------------------------


def test_get_or_create_job_seeker_is_idempotent(engine: Engine) -> None:
    user_id = new_user_id()
    with session_scope(engine) as session:
        first = get_or_create_job_seeker(
            session=session, channel="telegram", channel_user_id=user_id, language="nl"
        )
        first_id = first.id
        again = get_or_create_job_seeker(
            session=session, channel="telegram", channel_user_id=user_id, language="nl"
        )
        assert again is first
    with session_scope(engine) as session:
        later = get_or_create_job_seeker(
            session=session, channel="telegram", channel_user_id=user_id, language="en"
        )
        assert later.id == first_id
        # The same id on another channel is another person.
        other = get_or_create_job_seeker(
            session=session, channel="web", channel_user_id=user_id, language="nl"
        )
        assert other.id != first_id
        other_id = other.id

    with session_scope(engine) as session:
        rows = session.execute(
            select(ChannelIdentity.channel, JobSeeker.language)
            .join(ChannelIdentity.job_seeker)
            .where(ChannelIdentity.channel_user_id == user_id)
        ).all()
        assert sorted(tuple(row) for row in rows) == [
            ("telegram", "en"),
            ("web", "nl"),
        ]
        # Each of them has exactly that one identity.
        identities = session.execute(
            select(JobSeeker.id, func.count(ChannelIdentity.id))
            .join(ChannelIdentity.job_seeker)
            .where(JobSeeker.id.in_([first_id, other_id]))
            .group_by(JobSeeker.id)
        ).all()
        assert sorted(tuple(row) for row in identities) == sorted([(first_id, 1), (other_id, 1)])


def test_record_consent_rejects_an_unknown_purpose(engine: Engine) -> None:
    user_id = new_seeker(engine)
    with session_scope(engine) as session:
        seeker = seeker_for(session, "telegram", user_id)
        with pytest.raises(ValueError, match="unknown consent purpose"):
            record_consent(session=session, job_seeker=seeker, purpose="marketing", given=True)
        count = session.scalar(
            select(func.count()).select_from(Consent).where(Consent.job_seeker_id == seeker.id)
        )
        assert count == 0


def test_record_consent_stores_the_decision(engine: Engine) -> None:
    user_id = new_seeker(engine, channel="whatsapp")
    with session_scope(engine) as session:
        seeker = seeker_for(session, "whatsapp", user_id)
        record_consent(session=session, job_seeker=seeker, purpose="nudges", given=True)
    with session_scope(engine) as session:
        seeker = seeker_for(session, "whatsapp", user_id)
        rows = session.scalars(select(Consent).where(Consent.job_seeker_id == seeker.id)).all()
        assert [(c.purpose, c.given, c.text_version, c.channel) for c in rows] == [
            ("nudges", True, "v1", "whatsapp")
        ]


@pytest.mark.parametrize(
    ("decisions", "expected"),
    [
        ([], False),
        ([True], True),
        ([False], False),
        ([True, False], False),
        ([True, False, True], True),
        ([False, False, True, False], False),
    ],
)
def test_has_consent_follows_the_latest_decision(
    engine: Engine, decisions: list[bool], expected: bool
) -> None:
    user_id = new_seeker(engine)
    with session_scope(engine) as session:
        seeker = seeker_for(session, "telegram", user_id)
        for given in decisions:
            record_consent(session=session, job_seeker=seeker, purpose="profile", given=given)
        # A decision for another purpose never counts for this one.
        record_consent(
            session=session, job_seeker=seeker, purpose="share_with_recruiter", given=not expected
        )
    with session_scope(engine) as session:
        seeker = seeker_for(session, "telegram", user_id)
        assert has_consent(session=session, job_seeker=seeker, purpose="profile") is expected
        assert (
            has_consent(session=session, job_seeker=seeker, purpose="share_with_recruiter")
            is not expected
        )
        assert has_consent(session=session, job_seeker=seeker, purpose="nudges") is False


# --- profile ----------------------------------------------------------------------------


def items(engine: Engine, user_id: str, kind: str) -> list[tuple[int, str]]:
    """(position, value) of one list field, by position."""
    with session_scope(engine) as session:
        seeker = seeker_for(session, "telegram", user_id)
        rows = session.scalars(
            select(ProfileItem)
            .where(ProfileItem.job_seeker_id == seeker.id, ProfileItem.kind == kind)
            .order_by(ProfileItem.position)
        ).all()
        return [(row.position, row.value) for row in rows]


def test_replace_profile_items_replaces_in_order_and_skips_blanks(engine: Engine) -> None:
    user_id = new_seeker(engine)
    with session_scope(engine) as session:
        seeker = seeker_for(session, "telegram", user_id)
        replace_profile_items(
            session=session, job_seeker=seeker, kind="talent", values=["zorgzaam", "geduldig"]
        )
        replace_profile_items(session=session, job_seeker=seeker, kind="role", values=["kok"])
    assert items(engine, user_id, "talent") == [(0, "zorgzaam"), (1, "geduldig")]

    with session_scope(engine) as session:
        seeker = seeker_for(session, "telegram", user_id)
        replace_profile_items(
            session=session,
            job_seeker=seeker,
            kind="talent",
            values=["  luisteren ", "", "   ", "Analyseren", "bakken"],
        )
    assert items(engine, user_id, "talent") == [(0, "luisteren"), (1, "Analyseren"), (2, "bakken")]
    # Other list fields are left alone.
    assert items(engine, user_id, "role") == [(0, "kok")]

    with session_scope(engine) as session:
        seeker = seeker_for(session, "telegram", user_id)
        replace_profile_items(session=session, job_seeker=seeker, kind="talent", values=[])
    assert items(engine, user_id, "talent") == []


def test_replace_profile_items_rejects_an_unknown_kind(engine: Engine) -> None:
    user_id = new_seeker(engine)
    with session_scope(engine) as session:
        seeker = seeker_for(session, "telegram", user_id)
        with pytest.raises(ValueError, match="unknown profile list"):
            replace_profile_items(
                session=session, job_seeker=seeker, kind="diagnosis", values=["x"]
            )


def test_save_profile_fields_sets_and_clears(engine: Engine) -> None:
    user_id = new_seeker(engine)
    with session_scope(engine) as session:
        seeker = seeker_for(session, "telegram", user_id)
        save_profile_fields(
            session=session,
            job_seeker=seeker,
            fields={"name": "Anna", "place": "Utrecht", "hours_min": 16, "hours_max": 24},
        )
    with session_scope(engine) as session:
        seeker = seeker_for(session, "telegram", user_id)
        profile = save_profile_fields(
            session=session, job_seeker=seeker, fields={"place": None, "hours_max": 32}
        )
        assert (profile.name, profile.place, profile.hours_min, profile.hours_max) == (
            "Anna",
            None,
            16,
            32,
        )


@pytest.mark.parametrize(
    "field",
    [
        "diagnosis",
        "job_seeker_id",
        "updated_at",
        pytest.param(
            "metadata",
        ),
        pytest.param(
            "job_seeker",
        ),
    ],
)
def test_save_profile_fields_rejects_unknown_fields(engine: Engine, field: str) -> None:
    user_id = new_seeker(engine)
    with session_scope(engine) as session:
        seeker = seeker_for(session, "telegram", user_id)
        with pytest.raises(ValueError, match="unknown profile field"):
            save_profile_fields(session=session, job_seeker=seeker, fields={field: None})


# --- export -----------------------------------------------------------------------------


def test_export_has_exactly_the_spec_keys_and_the_data(engine: Engine) -> None:
    user_id = new_user_id()
    started = datetime.now(timezone.utc)
    with session_scope(engine) as session:
        seeker = get_or_create_job_seeker(
            session=session, channel="telegram", channel_user_id=user_id, language="en"
        )
        record_consent(session=session, job_seeker=seeker, purpose="profile", given=True)
        record_consent(session=session, job_seeker=seeker, purpose="nudges", given=True)
        record_consent(session=session, job_seeker=seeker, purpose="nudges", given=False)
        save_profile_fields(
            session=session,
            job_seeker=seeker,
            fields={"name": "Anna", "place": "3511 AB", "hours_min": 16, "hours_max": 24},
        )
        lists = {
            "talent": ["zorgzaam", "Analyseren", "bakken"],
            "development_point": ["Excel", "autorijden"],
            "role": ["kok"],
            "sector": ["zorg", "horeca"],
            "pathway": ["work_experience_place", "regular_job"],
            "support_need": ["job coach"],
        }
        for kind, values in lists.items():
            replace_profile_items(session=session, job_seeker=seeker, kind=kind, values=values)

    with session_scope(engine) as session:
        exported = export_job_seeker(session=session, channel="telegram", channel_user_id=user_id)

    assert set(exported) == EXPORT_KEYS
    assert set(exported["job_seeker"]) == JOB_SEEKER_KEYS | JOB_SEEKER_ADDED_KEYS
    assert set(exported["profile"]) == PROFILE_KEYS
    assert set(exported["nudges"]) == NUDGES_KEYS
    assert [set(consent) for consent in exported["consents"]] == [CONSENT_KEYS] * 3

    assert exported["schema"] == SCHEMA == "werkmaatje.export/1"
    assert {k: v for k, v in exported["job_seeker"].items() if k != "created_at"} == {
        "channel": "telegram",
        "channel_user_id": user_id,
        "language": "en",
        "identities": [{"channel": "telegram", "channel_user_id": user_id}],
    }
    assert [(c["purpose"], c["given"], c["text_version"]) for c in exported["consents"]] == [
        ("profile", True, "v1"),
        ("nudges", True, "v1"),
        ("nudges", False, "v1"),
    ]
    assert exported["profile"] == {
        "name": "Anna",
        "talents": ["zorgzaam", "Analyseren", "bakken"],
        "development_points": ["Excel", "autorijden"],
        "roles": ["kok"],
        "sectors": ["zorg", "horeca"],
        "place": "3511 AB",
        "max_travel_minutes": None,
        "hours_min": 16,
        "hours_max": 24,
        "pathways": ["work_experience_place", "regular_job"],
        "start": None,
        "support_needs": ["job coach"],
        "contact_preference": None,
    }
    assert exported["nudges"] == {"frequency": None, "paused_until": None, "sent": []}
    assert exported["handovers"] == []
    assert exported["success_moments"] == []
    assert exported["conversation"] == []

    # Timestamps are UTC instants of this test (SQLite's naive values are read as UTC),
    # and the consents come in the order they were given.
    finished = datetime.now(timezone.utc)
    slack = timedelta(seconds=5)
    created = parse_utc(exported["job_seeker"]["created_at"])
    assert started - slack <= created <= finished + slack
    moments = [parse_utc(consent["at"]) for consent in exported["consents"]]
    assert all(started - slack <= moment <= finished + slack for moment in moments)
    assert moments == sorted(moments)
    assert json.loads(json.dumps(exported)) == exported


def test_export_of_someone_without_a_profile(engine: Engine) -> None:
    user_id = new_seeker(engine, channel="web")
    with session_scope(engine) as session:
        exported = export_job_seeker(session=session, channel="web", channel_user_id=user_id)

    assert set(exported) == EXPORT_KEYS
    assert exported["consents"] == []
    assert set(exported["profile"]) == PROFILE_KEYS
    assert all(value in (None, []) for value in exported["profile"].values())
    parse_utc(exported["job_seeker"]["created_at"])


def test_export_of_an_unknown_person_raises_lookup_error(engine: Engine) -> None:
    user_id = new_seeker(engine)
    with session_scope(engine) as session, pytest.raises(LookupError, match="no data stored"):
        export_job_seeker(session=session, channel="web", channel_user_id=user_id)


def test_export_in_the_same_session_sees_earlier_writes(engine: Engine) -> None:
    user_id = new_seeker(engine)
    with session_scope(engine) as session:
        seeker = seeker_for(session, "telegram", user_id)
        export_job_seeker(session=session, channel="telegram", channel_user_id=user_id)
        record_consent(session=session, job_seeker=seeker, purpose="profile", given=True)
        save_profile_fields(session=session, job_seeker=seeker, fields={"name": "Anna"})

        exported = export_job_seeker(session=session, channel="telegram", channel_user_id=user_id)

    assert [consent["purpose"] for consent in exported["consents"]] == ["profile"]
    assert exported["profile"]["name"] == "Anna"
