"""Retention: exactly what has expired at a given moment is deleted, on SQLite and PostgreSQL.

The clock is the `now` passed to `run_retention`; every stored moment (created_at, updated_at,
the profile's updated_at, handover times, Rasa's event timestamps) is set relative to it.
Each test has a database of its own, so a run sees exactly the people the test made.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from core.db import session_scope
from core.time import as_utc
from store.conversation import EVENTS
from store.migrate import upgrade
from store.models import (
    ChannelIdentity,
    Consent,
    DeletionRecord,
    Handover,
    JobSeeker,
    Profile,
    ProfileItem,
    Recruiter,
)
from store.profiles import find_job_seeker
from store.retention import (
    RetentionPolicy,
    RetentionResult,
    expired_bare_conversations,
    expired_job_seekers,
    run_retention,
)
from tests.store.test_data_rights import (
    bot_event,
    nudge_job_exists,
    schedule_nudge,
    stored_events,
    user_event,
)
from tests.store.test_data_rights import (
    store_events as store_rasa_events,
)
from tests.support.stack import own_database

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
POLICY = RetentionPolicy()


def days(n: float) -> datetime:
    """`n` days before NOW."""
    return NOW - timedelta(days=n)


def hours(n: float) -> datetime:
    """`n` hours before NOW."""
    return NOW - timedelta(hours=n)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database of this test's own, with Rasa's `events` table."""
    with own_database(request.param, tmp_path) as own:
        upgrade(own)
        EVENTS.create(own, checkfirst=True)
        yield own


def test_the_default_policy() -> None:
    assert POLICY == RetentionPolicy(
        inactive_days=365, after_handover_days=28, no_consent_hours=24
    )


# --- building people at chosen moments --------------------------------------------------


@dataclass(frozen=True)
class HandoverAt:
    """A handover: created at `created`, its status since `changed`."""

    status: str
    created: datetime
    changed: datetime


def add_person(
    engine: Engine,
    *,
    active: datetime,
    events: datetime | None = None,
    handovers: tuple[HandoverAt, ...] = (),
    consents: tuple[tuple[str, bool, datetime], ...] = (),
) -> str:
    """A person with profile consent whose own data last changed at `active`; their sender id.

    `events`: when their conversation last had an event (none when None). `consents` come
    after the profile consent.
    """
    user_id = uuid.uuid4().hex
    sender = f"telegram:{user_id}"
    with session_scope(engine) as session:
        recruiter = Recruiter(name="Ria", organisation="Werkbureau", telegram_chat_id="rc1")
        seeker = JobSeeker(language="nl", created_at=active, updated_at=active)
        seeker.identities = [
            ChannelIdentity(channel="telegram", channel_user_id=user_id, created_at=active)
        ]
        seeker.consents = [
            Consent(
                purpose="profile", given=True, text_version="v1", channel="telegram", at=active
            )
        ]
        seeker.consents += [
            Consent(purpose=purpose, given=given, text_version="v1", channel="telegram", at=when)
            for purpose, given, when in consents
        ]
        seeker.profile = Profile(name="Anna", place="Utrecht", updated_at=active)
        seeker.items = [ProfileItem(kind="talent", value="plannen", created_at=active)]
        seeker.handovers = [
            Handover(
                recruiter=recruiter,
                status=handover.status,
                summary="Anna, plannen",
                created_at=handover.created,
                updated_at=handover.changed,
                closed_at=handover.changed if handover.status in ("closed", "placed") else None,
            )
            for handover in handovers
        ]
        session.add(seeker)
    # The moments are the chosen ones, not the time of writing.
    with session_scope(engine) as session:
        stored = find_job_seeker(session=session, channel="telegram", channel_user_id=user_id)
        assert stored is not None and stored.profile is not None
        for moment in (stored.created_at, stored.updated_at, stored.profile.updated_at):
            assert as_utc(moment) == active
    if events is not None:
        add_conversation(engine, sender, events)
    return sender


def add_conversation(engine: Engine, sender: str, last: datetime) -> None:
    """A short conversation in Rasa's tracker store whose newest event is at `last`."""
    store_rasa_events(
        engine,
        sender,
        [
            user_event("hoi", (last - timedelta(minutes=2)).timestamp(), intent="greet"),
            bot_event("Hoi! Mag ik een profiel bijhouden?", last.timestamp()),
        ],
    )


def people(engine: Engine) -> set[str]:
    """The sender ids of every person in the database."""
    with session_scope(engine) as session:
        return {
            f"{channel}:{user_id}"
            for channel, user_id in session.execute(
                select(ChannelIdentity.channel, ChannelIdentity.channel_user_id)
            )
        }


def conversations(engine: Engine) -> set[str]:
    """The sender ids with events in Rasa's tracker store."""
    with engine.connect() as connection:
        return set(connection.scalars(select(EVENTS.c.sender_id).distinct()))


def deletion_reasons(engine: Engine) -> list[str]:
    """The reasons in the deletion log, sorted."""
    with session_scope(engine) as session:
        return sorted(session.scalars(select(DeletionRecord.reason)))


def run(engine: Engine) -> RetentionResult:
    """One retention run at NOW with the default policy, in its own transaction."""
    with session_scope(engine) as session:
        return run_retention(NOW, POLICY, session=session)


# --- inactivity ---------------------------------------------------------------------------


def test_profiles_inactive_for_longer_than_a_year_are_deleted(engine: Engine) -> None:
    expired = add_person(engine, active=days(366))
    expired_with_job = add_person(engine, active=days(400), events=days(370))
    kept = add_person(engine, active=days(364))
    # Chatting counts as activity: a year-old profile with a recent conversation stays.
    chatting = add_person(engine, active=days(400), events=days(10))
    chatting_recently = add_person(engine, active=days(500), events=hours(1))
    with session_scope(engine) as session:
        seeker = find_job_seeker(
            session=session, channel="telegram", channel_user_id=expired_with_job[9:]
        )
        assert seeker is not None
        expired_id = seeker.id
    schedule_nudge(engine, expired_id)
    with session_scope(engine) as session:
        due = expired_job_seekers(NOW, POLICY, session=session)
        assert {sender for seeker in due for sender in seeker.sender_ids()} == {
            expired,
            expired_with_job,
        }

    result = run(engine)

    assert result == RetentionResult(job_seekers=2, conversations=0)
    assert people(engine) == {kept, chatting, chatting_recently}
    assert conversations(engine) == {chatting, chatting_recently}
    assert stored_events(engine, expired_with_job) == []
    assert not nudge_job_exists(engine, expired_id)
    assert deletion_reasons(engine) == ["retention", "retention"]

    assert run(engine) == RetentionResult(job_seekers=0, conversations=0)
    assert people(engine) == {kept, chatting, chatting_recently}
    assert deletion_reasons(engine) == ["retention", "retention"]


def test_the_year_counts_from_the_latest_activity(engine: Engine) -> None:
    # Created long ago, the profile changed 364 days ago: kept; the other way round too.
    kept = add_person(engine, active=days(364), events=days(600))
    gone = add_person(engine, active=days(600), events=days(366))

    assert run(engine) == RetentionResult(job_seekers=1, conversations=0)

    assert people(engine) == {kept}
    assert gone not in conversations(engine)
    assert conversations(engine) == {kept}


# --- after a handover ---------------------------------------------------------------------


def closed(days_ago: float) -> HandoverAt:
    """A handover that was closed without a placement `days_ago`."""
    return HandoverAt("closed", created=days(days_ago + 20), changed=days(days_ago))


def placed(days_ago: float) -> HandoverAt:
    """A handover that ended in a placement `days_ago`."""
    return HandoverAt("placed", created=days(days_ago + 20), changed=days(days_ago))


def test_after_a_handover_closed_without_placement_four_weeks_count(engine: Engine) -> None:
    extended = (("extended_retention", True, days(380)),)
    withdrawn = (("extended_retention", True, days(380)), ("extended_retention", False, days(250)))
    contacted = HandoverAt("contacted", created=days(100), changed=days(90))
    # label: (days since the person was last active, events, handovers, consents, deleted)
    cases: dict[str, tuple[float, datetime | None, tuple[HandoverAt, ...], tuple, bool]] = {
        "closed 29 days ago": (200, None, (closed(29),), (), True),
        "closed 27 days ago": (200, None, (closed(27),), (), False),
        # Chatting after the closing moves the four weeks along.
        "closed 29 days ago, chatted since": (200, days(5), (closed(29),), (), False),
        "closed 29 days ago, agreed to keep longer": (200, None, (closed(29),), extended, False),
        "closed 364 days ago, agreed to keep longer": (364, None, (closed(364),), extended, False),
        "closed 366 days ago, agreed to keep longer": (366, None, (closed(366),), extended, True),
        "closed 29 days ago, no longer agreed": (200, None, (closed(29),), withdrawn, True),
        "placed 29 days ago": (200, None, (placed(29),), (), False),
        "placed 364 days ago": (364, None, (placed(364),), (), False),
        "placed 366 days ago": (366, None, (placed(366),), (), True),
        # The year counts from the person's own activity, not the recruiter's updates.
        "placed 300 days ago, silent for 366": (366, None, (placed(300),), (), True),
        # Only the latest handover counts.
        "closed, then placed 29 days ago": (200, None, (closed(100), placed(29)), (), False),
        "placed, then closed 29 days ago": (200, None, (placed(100), closed(29)), (), True),
        "still open": (200, None, (contacted,), (), False),
    }  # fmt: skip
    senders = {
        label: add_person(
            engine, active=days(active), events=events, handovers=handovers, consents=consents
        )
        for label, (active, events, handovers, consents, _) in cases.items()
    }
    expected_gone = {label for label, case in cases.items() if case[-1]}

    result = run(engine)

    remaining = people(engine)
    assert {label for label, sender in senders.items() if sender not in remaining} == expected_gone
    assert result == RetentionResult(job_seekers=len(expected_gone), conversations=0)
    assert deletion_reasons(engine) == ["retention"] * len(expected_gone)
    with session_scope(engine) as session:
        handovers_left = len(session.scalars(select(Handover.id)).all())
    assert handovers_left == sum(
        len(case[2]) for label, case in cases.items() if label not in expected_gone
    )

    assert run(engine) == RetentionResult(job_seekers=0, conversations=0)
    assert people(engine) == remaining
    assert deletion_reasons(engine) == ["retention"] * len(expected_gone)


# --- conversations without consent ------------------------------------------------------


def test_a_conversation_without_consent_is_deleted_a_day_after_it_went_silent(
    engine: Engine,
) -> None:
    silent_25h = f"web:{uuid.uuid4().hex}"
    silent_23h = f"web:{uuid.uuid4().hex}"
    add_conversation(engine, silent_25h, hours(25))
    add_conversation(engine, silent_23h, hours(23))
    # Said no to a profile: a job seeker row holding that "no", and a conversation.
    declined = f"telegram:{uuid.uuid4().hex}"
    with session_scope(engine) as session:
        seeker = JobSeeker(language="nl", created_at=hours(26), updated_at=hours(26))
        seeker.identities = [ChannelIdentity(channel="telegram", channel_user_id=declined[9:])]
        seeker.consents = [
            Consent(purpose="profile", given=False, text_version="v1", channel="telegram",
                    at=hours(26))
        ]  # fmt: skip
        session.add(seeker)
    add_conversation(engine, declined, hours(25))
    # People with a profile consent: their conversation is never purged by this rule.
    consented_25h = add_person(engine, active=days(3), events=hours(25))
    consented_300d = add_person(engine, active=days(300), events=days(300))
    with session_scope(engine) as session:
        assert sorted(expired_bare_conversations(NOW, POLICY, session=session)) == sorted(
            [silent_25h, declined]
        )

    result = run(engine)

    assert result == RetentionResult(job_seekers=0, conversations=2)
    assert conversations(engine) == {silent_23h, consented_25h, consented_300d}
    assert stored_events(engine, silent_25h) == []
    assert stored_events(engine, declined) == []
    assert len(stored_events(engine, consented_300d)) == 2
    assert {consented_25h, consented_300d} <= people(engine)
    assert deletion_reasons(engine) == ["no_consent", "no_consent"]

    assert run(engine) == RetentionResult(job_seekers=0, conversations=0)
    assert deletion_reasons(engine) == ["no_consent", "no_consent"]
    # A day later the other one has gone silent for long enough too.
    with session_scope(engine) as session:
        later = run_retention(NOW + timedelta(hours=2), POLICY, session=session)
    assert later == RetentionResult(job_seekers=0, conversations=1)
    assert conversations(engine) == {consented_25h, consented_300d}


def test_one_run_applies_every_rule_once(engine: Engine) -> None:
    inactive = add_person(engine, active=days(366), events=days(366))
    after_handover = add_person(engine, active=days(100), handovers=(closed(29),))
    kept = add_person(engine, active=days(364), handovers=(placed(300),))
    bare = f"web:{uuid.uuid4().hex}"
    add_conversation(engine, bare, hours(25))
    fresh = f"web:{uuid.uuid4().hex}"
    add_conversation(engine, fresh, hours(1))

    assert run(engine) == RetentionResult(job_seekers=2, conversations=1)

    assert people(engine) == {kept}
    assert conversations(engine) == {fresh}
    assert inactive not in people(engine) and after_handover not in people(engine)
    assert deletion_reasons(engine) == ["no_consent", "retention", "retention"]
    assert run(engine) == RetentionResult(job_seekers=0, conversations=0)
    assert deletion_reasons(engine) == ["no_consent", "retention", "retention"]
