"""Handovers: asking for a recruiter, routing, recruiter actions, rerouting and their messages.

Runs on SQLite and PostgreSQL. Tests on the shared session database use places and Telegram
ids of their own; tests that need to know every recruiter and every waiting handover (nobody
available, rerouting) get a database of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import session_scope
from core.texts import phrase
from core.time import add_working_days, as_utc
from store.deletion import delete_job_seeker
from store.handovers import (
    HandoverError,
    apply_action,
    buttons,
    first_name,
    latest_handover,
    mark_delivered,
    open_handover,
    profile_ready,
    request_handover,
    reroute_overdue,
    status_text,
    summary_for,
)
from store.migrate import upgrade
from store.models import (
    ChannelIdentity,
    Handover,
    JobSeeker,
    NudgeSettings,
    OutboxMessage,
    Recruiter,
)
from store.profiles import get_or_create_job_seeker, record_consent, save_profile
from store.recruiters import add_recruiter
from tests.support.stack import own_database

UTC = timezone.utc
WEDNESDAY = datetime(2025, 6, 4, 10, 0, tzinfo=UTC)
FRIDAY = datetime(2025, 6, 6, 10, 0, tzinfo=UTC)
MONDAY = datetime(2025, 6, 9, 10, 0, tzinfo=UTC)
TUESDAY = datetime(2025, 6, 10, 10, 0, tzinfo=UTC)
NOW = WEDNESDAY
CONTACT_DAYS = 3
ACCEPT_DAYS = 2
ACTIONS = ("accept", "contacted", "placed", "decline")


@pytest.fixture(params=["sqlite", "postgresql"])
def own(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database of this test's own."""
    with own_database(request.param, tmp_path) as engine:
        upgrade(engine)
        yield engine


# --- building people and recruiters ---------------------------------------------------------


def tag() -> str:
    """A short string no other test uses."""
    return uuid.uuid4().hex[:10]


def chat_id() -> str:
    """A Telegram id (digits) no other test uses."""
    return str(uuid.uuid4().int)[:12]


def new_place() -> str:
    """A place only this test's recruiters cover."""
    return f"Plaats-{tag()}"


def make_person(
    session: Session,
    place: str,
    *,
    name: str = "Noor",
    language: str = "nl",
    sectors: Sequence[str] = ("zorg",),
    support_needs: Sequence[str] = (),
    share_support_needs: bool | None = None,
) -> JobSeeker:
    """A person on Telegram and the webchat with a finished intake who agreed to sharing."""
    seeker = save_profile(
        session=session,
        channel="telegram",
        channel_user_id=chat_id(),
        language=language,
        values={
            "name": name,
            "talent": ["plannen", "goed met mensen"],
            "role": ["verzorgende"],
            "sector": list(sectors),
            "place": place,
            "hours_min": 20,
            "hours_max": 24,
            "support_need": list(support_needs),
        },
    )
    seeker.identities.append(ChannelIdentity(channel="web", channel_user_id=f"web-{tag()}"))
    profile = seeker.profile
    assert profile is not None
    profile.completed_at = NOW - timedelta(days=1)
    record_consent(session=session, job_seeker=seeker, purpose="share_with_recruiter", given=True)
    if share_support_needs is not None:
        record_consent(
            session=session, job_seeker=seeker, purpose="support_needs", given=share_support_needs
        )
    session.flush()
    return seeker


def make_recruiter(
    session: Session,
    place: str,
    *,
    name: str = "Sanne de Vries",
    sectors: Sequence[str] = ("zorg",),
    languages: Sequence[str] = ("nl",),
    telegram: bool = True,
    email: bool = True,
    capacity: int = 5,
) -> Recruiter:
    """A recruiter for `place` with an organisation, chat and address of their own."""
    mark = tag()
    return add_recruiter(
        session=session,
        name=name,
        organisation=f"Werkbrug {mark}",
        regions=[place],
        sectors=sectors,
        languages=languages,
        telegram_chat_id=chat_id() if telegram else None,
        email=f"{mark}@werkbrug.nl" if email else None,
        capacity_per_week=capacity,
    )


def request(session: Session, seeker: JobSeeker, now: datetime = NOW) -> Handover:
    """Ask for a recruiter for `seeker`; the handover."""
    return request_handover(
        session=session, seeker=seeker, share_support_needs=True, now=now
    ).handover


def act(
    session: Session, handover: Handover, recruiter: Recruiter, action: str, now: datetime = NOW
) -> Handover:
    """`recruiter` presses the button for `action`."""
    return apply_action(
        session=session,
        handover_id=handover.id,
        recruiter_id=recruiter.id,
        action=action,
        now=now,
        contact_days=CONTACT_DAYS,
    )


def reroute(session: Session, now: datetime) -> int:
    """Run the rerouting job at `now`."""
    return reroute_overdue(
        session=session, now=now, accept_working_days=ACCEPT_DAYS, contact_days=CONTACT_DAYS
    )


# --- reading the outbox -----------------------------------------------------------------------


def rows_of(session: Session, handover_id: int) -> list[OutboxMessage]:
    """Every outbox row of a handover, oldest first."""
    session.flush()
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.handover_id == handover_id)
            .order_by(OutboxMessage.id)
        ).all()
    )


def rows_to(session: Session, recipients: Sequence[str | None]) -> list[OutboxMessage]:
    """Every outbox row to these recipients, oldest first."""
    session.flush()
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient.in_([r for r in recipients if r]))
            .order_by(OutboxMessage.id)
        ).all()
    )


def of_kind(rows: list[OutboxMessage], kind: str) -> list[OutboxMessage]:
    """The rows whose payload is of `kind`."""
    return [row for row in rows if row.payload["kind"] == kind]


def told(session: Session, handover_id: int) -> list[tuple[str, str, str]]:
    """(channel, recipient, text) of every status message to the person, oldest first."""
    return [
        (row.channel, row.recipient, row.payload["text"])
        for row in of_kind(rows_of(session, handover_id), "handover_status")
    ]


def to_each(seeker: JobSeeker, *texts: str) -> list[tuple[str, str, str]]:
    """Each text to each of the person's identities, in the order they are queued."""
    return [
        (identity.channel, identity.channel_user_id, text)
        for text in texts
        for identity in seeker.identities
    ]


def person_text(what: str, recruiter: Recruiter | None = None, **values: Any) -> str:
    """A Dutch status message as the person reads it."""
    if recruiter is not None:
        values.setdefault("recruiter", first_name(recruiter.name))
        values.setdefault("organisation", recruiter.organisation)
    return phrase(f"person.handover.{what}", "nl", **values)


def summary_rows(session: Session, handover_id: int, recruiter: Recruiter) -> list[OutboxMessage]:
    """The summary rows of a handover to one recruiter."""
    return [
        row
        for row in of_kind(rows_of(session, handover_id), "handover_summary")
        if row.payload["recruiter_id"] == recruiter.id
    ]


# --- asking for a recruiter -------------------------------------------------------------------


def test_profile_ready_needs_a_finished_or_confirmed_intake(engine: Engine) -> None:
    """No profile or an unfinished one is not ready; completed or confirmed is."""
    with session_scope(engine) as session:
        bare = get_or_create_job_seeker(
            session=session, channel="telegram", channel_user_id=chat_id(), language="nl"
        )
        assert not profile_ready(bare)
        unfinished = save_profile(
            session=session,
            channel="telegram",
            channel_user_id=chat_id(),
            language="nl",
            values={"name": "Noor", "place": "Zwolle"},
        )
        assert not profile_ready(unfinished)
        profile = unfinished.profile
        assert profile is not None
        profile.confirmed_at = NOW
        assert profile_ready(unfinished)
        profile.confirmed_at = None
        profile.completed_at = NOW
        assert profile_ready(unfinished)


def test_a_request_goes_to_the_recruiter_for_the_region_and_the_sector(engine: Engine) -> None:
    """Routed by region and sector; the summary is stored and queued on both channels."""
    place = new_place()
    with session_scope(engine) as session:
        make_recruiter(session, place, name="Ali Bakker", sectors=["horeca"])
        chosen = make_recruiter(session, place, sectors=["zorg", "welzijn"])
        make_recruiter(session, new_place(), name="Ria Smit", sectors=["zorg"])
        seeker = make_person(session, place.lower())
        result = request_handover(
            session=session, seeker=seeker, share_support_needs=False, now=NOW
        )
        assert result.created
        assert result.recruiter is chosen
        handover = result.handover
        handover_id, seeker_id = handover.id, seeker.id
        assert handover.recruiter_id == chosen.id
        assert handover.status == "requested"
        assert as_utc(handover.created_at) == NOW
        assert handover.assigned_at is not None and as_utc(handover.assigned_at) == NOW
        assert handover.tried_recruiter_ids == [chosen.id]
        expected = summary_for(handover, "nl", session=session)
        chat, address = chosen.telegram_chat_id, chosen.email
        recruiter_id = chosen.id
    assert expected.plain_text().startswith(f"Overdracht #{handover_id}: Noor\n")
    with session_scope(engine) as session:
        stored = session.get(Handover, handover_id)
        assert stored is not None
        assert stored.summary == expected.plain_text()
        rows = rows_of(session, handover_id)
        assert [(row.channel, row.recipient, row.job_seeker_id) for row in rows] == [
            ("telegram", chat, seeker_id),
            ("email", address, seeker_id),
        ]
        telegram, email = rows
        key = f"handover:{handover_id}:recruiter:{recruiter_id}"
        assert telegram.idempotency_key == f"{key}:telegram"
        assert telegram.payload == {
            "kind": "handover_summary",
            "text": expected.telegram_html(),
            "parse_mode": "HTML",
            "recruiter_id": recruiter_id,
            "buttons": [
                ["Ik pak dit op", f"ho:accept:{handover_id}"],
                ["Contact gehad", f"ho:contacted:{handover_id}"],
                ["Geplaatst", f"ho:placed:{handover_id}"],
                ["Past niet", f"ho:decline:{handover_id}"],
            ],
        }
        assert email.idempotency_key == f"{key}:email"
        assert email.payload == {
            "kind": "handover_summary",
            "recruiter_id": recruiter_id,
            "message_id": f"<handover-{handover_id}-{recruiter_id}@werkmaatje>",
            "subject": f"Werkmaatje: overdracht #{handover_id} (Noor)",
            "text": expected.plain_text(by_email=True),
            "html": expected.email_html(),
        }
        assert all(row.status == "pending" for row in rows)


def test_an_english_recruiter_gets_the_summary_and_buttons_in_english(engine: Engine) -> None:
    """The recruiter's language decides the summary; Telegram only means one row."""
    place = new_place()
    with session_scope(engine) as session:
        recruiter = make_recruiter(session, place, languages=["en"], email=False)
        seeker = make_person(session, place)
        handover = request(session, seeker)
        handover_id = handover.id
        assert handover.summary.startswith(f"Handover #{handover_id}: Noor\n")
        rows = rows_of(session, handover_id)
        assert [(row.channel, row.recipient) for row in rows] == [
            ("telegram", recruiter.telegram_chat_id)
        ]
        assert rows[0].payload["buttons"] == [
            [phrase(f"recruiter.button.{action}", "en"), f"ho:{action}:{handover_id}"]
            for action in ACTIONS
        ]
        assert (
            rows[0].payload["text"] == summary_for(handover, "en", session=session).telegram_html()
        )


def test_support_needs_reach_the_recruiter_only_with_both_yeses(engine: Engine) -> None:
    """Support needs are in the summary only with the consent and sharing for this handover."""
    line = "Wat helpt (gedeeld met toestemming): vaste werkplek"
    cases = [(True, True, True), (True, False, False), (False, True, False), (True, None, False)]
    for share, consent, shown in cases:
        place = new_place()
        with session_scope(engine) as session:
            make_recruiter(session, place)
            seeker = make_person(
                session, place, support_needs=["vaste werkplek"], share_support_needs=consent
            )
            result = request_handover(
                session=session, seeker=seeker, share_support_needs=share, now=NOW
            )
            summary = result.handover.summary
            assert (line in summary) is shown, (share, consent)
            assert ("vaste werkplek" in summary) is shown, (share, consent)
            telegram = of_kind(rows_of(session, result.handover.id), "handover_summary")[0]
            assert ("vaste werkplek" in telegram.payload["text"]) is shown, (share, consent)


def test_a_second_request_returns_the_open_handover(engine: Engine) -> None:
    """Asking again while one is open makes nothing new, in the same session or a later one."""
    place = new_place()
    with session_scope(engine) as session:
        recruiter = make_recruiter(session, place)
        seeker = make_person(session, place)
        first = request_handover(
            session=session, seeker=seeker, share_support_needs=False, now=NOW
        )
        again = request_handover(
            session=session, seeker=seeker, share_support_needs=True, now=NOW + timedelta(hours=1)
        )
        assert again.created is False
        assert again.handover is first.handover
        assert again.recruiter is recruiter
        seeker_id, handover_id = seeker.id, first.handover.id
    with session_scope(engine) as session:
        stored = session.get(JobSeeker, seeker_id)
        assert stored is not None
        later = request_handover(
            session=session, seeker=stored, share_support_needs=False, now=NOW
        )
        assert later.created is False
        assert later.handover.id == handover_id
        assert later.recruiter is not None and later.recruiter.id == recruiter.id
        assert later.handover.share_support_needs is False
        count = session.scalar(
            select(func.count()).select_from(Handover).where(Handover.job_seeker_id == seeker_id)
        )
        assert count == 1
        assert len(rows_of(session, handover_id)) == 2


def test_the_database_refuses_a_second_open_handover(engine: Engine) -> None:
    """The partial unique index holds even for a direct insert; closed ones do not count."""
    place = new_place()
    with session_scope(engine) as session:
        make_recruiter(session, place)
        seeker = make_person(session, place)
        first_id = request(session, seeker).id
        seeker_id = seeker.id
    for status in ("requested", "delivered", "accepted", "contacted"):
        with pytest.raises(IntegrityError), session_scope(engine) as session:
            session.add(Handover(job_seeker_id=seeker_id, status=status))
            session.flush()
    with session_scope(engine) as session:
        session.add(Handover(job_seeker_id=seeker_id, status="closed"))
        session.add(Handover(job_seeker_id=seeker_id, status="placed"))
    with session_scope(engine) as session:
        stored = session.get(JobSeeker, seeker_id)
        assert stored is not None
        found = open_handover(stored, session=session)
        assert found is not None and found.id == first_id


def test_after_the_handover_closed_a_new_request_makes_a_new_one(engine: Engine) -> None:
    """Declining after taking it on closes the handover; asking again starts a new one."""
    place = new_place()
    with session_scope(engine) as session:
        recruiter = make_recruiter(session, place)
        seeker = make_person(session, place)
        first = request(session, seeker)
        act(session, first, recruiter, "accept")
        closed = act(session, first, recruiter, "decline", NOW + timedelta(days=1))
        assert closed.status == "closed"
        assert closed.closed_at is not None
        assert as_utc(closed.closed_at) == NOW + timedelta(days=1)
        assert closed.recruiter_id == recruiter.id
        assert told(session, first.id) == to_each(
            seeker, person_text("accept", recruiter), person_text("closed", recruiter)
        )
        assert open_handover(seeker, session=session) is None
        again = request_handover(
            session=session, seeker=seeker, share_support_needs=False, now=NOW + timedelta(days=2)
        )
        assert again.created is True
        assert again.handover.id != first.id
        assert again.recruiter is recruiter
        assert latest_handover(seeker, session=session) is again.handover
        assert len(summary_rows(session, again.handover.id, recruiter)) == 2


# --- recruiter actions ------------------------------------------------------------------------


def test_accept_contacted_placed_tell_the_person_and_stop_the_nudges(engine: Engine) -> None:
    """Each step changes the status and queues a message to every channel of the person."""
    place = new_place()
    with session_scope(engine) as session:
        recruiter = make_recruiter(session, place)
        seeker = make_person(session, place)
        session.add(NudgeSettings(job_seeker_id=seeker.id, frequency="weekly"))
        handover = request(session, seeker)

        accepted = act(session, handover, recruiter, "accept", NOW + timedelta(hours=2))
        assert accepted is handover
        assert handover.status == "accepted"
        assert handover.accepted_at is not None
        assert as_utc(handover.accepted_at) == NOW + timedelta(hours=2)
        accept_text = person_text("accept", recruiter)
        assert accept_text == (
            f"Sanne van {recruiter.organisation} heeft je profiel gelezen en neemt contact met "
            "je op."
        )
        assert told(session, handover.id) == to_each(seeker, accept_text)
        statuses = of_kind(rows_of(session, handover.id), "handover_status")
        assert {row.job_seeker_id for row in statuses} == {seeker.id}

        act(session, handover, recruiter, "contacted", NOW + timedelta(days=1))
        assert handover.status == "contacted"
        assert as_utc(handover.accepted_at) == NOW + timedelta(hours=2)

        act(session, handover, recruiter, "placed", NOW + timedelta(days=5))
        assert handover.status == "placed"
        assert handover.closed_at is not None
        assert as_utc(handover.closed_at) == NOW + timedelta(days=5)
        settings = session.get(NudgeSettings, seeker.id)
        assert settings is not None and settings.frequency == "off"
        assert told(session, handover.id) == to_each(
            seeker,
            accept_text,
            person_text("contacted", recruiter),
            person_text("placed", recruiter),
        )
        assert open_handover(seeker, session=session) is None
        for action in ACTIONS:
            with pytest.raises(HandoverError, match=r"^closed$"):
                act(session, handover, recruiter, action)


def test_contacted_without_accepting_and_placed_without_nudge_settings(engine: Engine) -> None:
    """Contact without accepting first counts as accepted; placing adds nudges off."""
    place = new_place()
    with session_scope(engine) as session:
        recruiter = make_recruiter(session, place)
        seeker = make_person(session, place)
        handover = request(session, seeker)
        mark_delivered(handover.id, NOW + timedelta(minutes=1), session=session)
        assert handover.status == "delivered"
        act(session, handover, recruiter, "contacted", NOW + timedelta(hours=3))
        assert handover.status == "contacted"
        assert handover.accepted_at is not None
        assert as_utc(handover.accepted_at) == NOW + timedelta(hours=3)
        assert session.get(NudgeSettings, seeker.id) is None
        act(session, handover, recruiter, "placed")
        settings = session.get(NudgeSettings, seeker.id)
        assert settings is not None and settings.frequency == "off"


def test_declining_before_accepting_passes_the_handover_on(engine: Engine) -> None:
    """The next recruiter gets it and the summary; the person hears both steps."""
    place = new_place()
    with session_scope(engine) as session:
        first = make_recruiter(session, place, name="Sanne de Vries")
        second = make_recruiter(session, place, name="Bram Jansen")
        seeker = make_person(session, place)
        handover = request(session, seeker)
        assert handover.recruiter is first
        later = NOW + timedelta(hours=4)
        act(session, handover, first, "decline", later)
        assert handover.recruiter is second
        assert handover.recruiter_id == second.id
        assert handover.status == "requested"
        assert handover.assigned_at is not None and as_utc(handover.assigned_at) == later
        assert handover.tried_recruiter_ids == sorted([first.id, second.id])
        assert told(session, handover.id) == to_each(
            seeker,
            person_text("declined", first),
            person_text("reassigned", second, days=CONTACT_DAYS),
        )
        assert "Bram" in person_text("reassigned", second, days=CONTACT_DAYS)
        assert len(summary_rows(session, handover.id, first)) == 2
        assert len(summary_rows(session, handover.id, second)) == 2
        with pytest.raises(HandoverError, match=r"^not_yours$"):
            act(session, handover, first, "accept")
        act(session, handover, second, "accept")
        assert handover.status == "accepted"


def test_declining_with_nobody_left_keeps_looking(own: Engine) -> None:
    """Without another recruiter the handover waits without one; later one is found."""
    place = new_place()
    with session_scope(own) as session:
        only = make_recruiter(session, place)
        seeker = make_person(session, place)
        handover = request(session, seeker)
        act(session, handover, only, "decline")
        assert handover.recruiter is None
        assert handover.recruiter_id is None
        assert handover.status == "requested"
        assert handover.tried_recruiter_ids == [only.id]
        assert told(session, handover.id) == to_each(
            seeker, person_text("declined", only), person_text("searching")
        )
        assert status_text(handover, "nl", CONTACT_DAYS) == phrase(
            "person.handover.status_searching", "nl"
        )
        with pytest.raises(HandoverError, match=r"^not_yours$"):
            act(session, handover, only, "accept")
        # The recruiter who declined is never asked again.
        assert reroute(session, NOW + timedelta(days=10)) == 0
        assert handover.recruiter_id is None
        newcomer = make_recruiter(session, place, name="Bram Jansen")
        assert reroute(session, NOW + timedelta(days=11)) == 1
        assert handover.recruiter_id == newcomer.id
        assert handover.tried_recruiter_ids == sorted([only.id, newcomer.id])
        assert of_kind(rows_of(session, handover.id), "handover_rerouted") == []
        assert told(session, handover.id)[-2:] == to_each(
            seeker, person_text("reassigned", newcomer, days=CONTACT_DAYS)
        )


def test_actions_that_do_not_fit_are_refused(engine: Engine) -> None:
    """Someone else's handover, an unknown action or one the status does not allow."""
    place = new_place()
    with session_scope(engine) as session:
        mine = make_recruiter(session, place)
        other = make_recruiter(session, place, name="Bram Jansen")
        seeker = make_person(session, place)
        handover = request(session, seeker)
        assert handover.recruiter is mine
        with pytest.raises(HandoverError, match=r"^not_yours$"):
            act(session, handover, other, "accept")
        with pytest.raises(HandoverError, match=r"^not_yours$"):
            apply_action(
                session=session,
                handover_id=handover.id + 1_000_000,
                recruiter_id=mine.id,
                action="accept",
                now=NOW,
                contact_days=CONTACT_DAYS,
            )
        with pytest.raises(HandoverError, match=r"^unknown action 'hire'$"):
            act(session, handover, mine, "hire")
        act(session, handover, mine, "accept")
        with pytest.raises(HandoverError, match=r"^not_now$"):
            act(session, handover, mine, "accept")
        act(session, handover, mine, "contacted")
        with pytest.raises(HandoverError, match=r"^not_now$"):
            act(session, handover, mine, "contacted")
        assert handover.status == "contacted"
        assert len(told(session, handover.id)) == 4


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("requested", ACTIONS),
        ("delivered", ACTIONS),
        ("accepted", ("contacted", "placed", "decline")),
        ("contacted", ("placed", "decline")),
        ("placed", ()),
        ("closed", ()),
    ],
)
def test_the_buttons_follow_the_status(status: str, expected: tuple[str, ...]) -> None:
    """Only the actions the status allows get a button, with `ho:<action>:<id>` data."""
    assert buttons(status, "nl", 42) == [
        (phrase(f"recruiter.button.{action}", "nl"), f"ho:{action}:42") for action in expected
    ]


# --- rerouting --------------------------------------------------------------------------------


def test_nobody_available_then_a_recruiter_is_added(own: Engine) -> None:
    """A request without a recruiter waits; the job routes it once someone is there."""
    place = new_place()
    with session_scope(own) as session:
        seeker = make_person(session, place)
        result = request_handover(
            session=session, seeker=seeker, share_support_needs=False, now=NOW
        )
        handover = result.handover
        assert result.created is True
        assert result.recruiter is None
        assert handover.recruiter_id is None
        assert handover.status == "requested"
        assert handover.assigned_at is None
        assert handover.tried_recruiter_ids == []
        assert handover.summary == ""
        assert rows_of(session, handover.id) == []
        assert reroute(session, NOW + timedelta(hours=1)) == 0
        recruiter = make_recruiter(session, place)
        later = NOW + timedelta(hours=2)
        assert reroute(session, later) == 1
        assert handover.recruiter_id == recruiter.id
        assert handover.assigned_at is not None and as_utc(handover.assigned_at) == later
        assert handover.tried_recruiter_ids == [recruiter.id]
        assert handover.summary.startswith(f"Overdracht #{handover.id}: Noor\n")
        assert len(summary_rows(session, handover.id, recruiter)) == 2
        assert told(session, handover.id) == to_each(
            seeker, person_text("reassigned", recruiter, days=CONTACT_DAYS)
        )
        assert of_kind(rows_of(session, handover.id), "handover_rerouted") == []
        # Assigned just now: nothing moves.
        assert reroute(session, later) == 0


def test_an_overdue_handover_moves_after_the_working_days(own: Engine) -> None:
    """Assigned on a Friday, two working days end on Tuesday: moved then, not before."""
    place = new_place()
    with session_scope(own) as session:
        first = make_recruiter(session, place, name="Sanne de Vries", languages=["en"])
        second = make_recruiter(session, place, name="Bram Jansen")
        seeker = make_person(session, place)
        handover = request(session, seeker, FRIDAY)
        assert handover.recruiter is first
        mark_delivered(handover.id, FRIDAY + timedelta(minutes=5), session=session)
        assert handover.status == "delivered"
        deadline = add_working_days(FRIDAY, ACCEPT_DAYS)
        assert deadline == TUESDAY
        for moment in (FRIDAY + timedelta(days=2), MONDAY, TUESDAY - timedelta(seconds=1)):
            assert reroute(session, moment) == 0, moment
            assert handover.recruiter_id == first.id
        assert rows_of(session, handover.id) == summary_rows(session, handover.id, first)

        assert reroute(session, TUESDAY) == 1
        assert handover.recruiter_id == second.id
        assert handover.status == "requested"
        assert handover.assigned_at is not None and as_utc(handover.assigned_at) == TUESDAY
        assert handover.tried_recruiter_ids == sorted([first.id, second.id])
        assert len(summary_rows(session, handover.id, second)) == 2

        first_to = [first.telegram_chat_id, first.email]
        notices = of_kind(rows_to(session, first_to), "handover_rerouted")
        notice = phrase("recruiter.notice.rerouted", "en", id=handover.id)
        assert notice == (
            f"Handover #{handover.id} was passed to a colleague because it was not taken on in "
            "time."
        )
        assert [
            (row.channel, row.recipient, row.job_seeker_id, row.handover_id, row.payload)
            for row in notices
        ] == [
            ("telegram", first.telegram_chat_id, None, handover.id,
             {"kind": "handover_rerouted", "text": notice}),
            ("email", first.email, None, handover.id,
             {"kind": "handover_rerouted", "text": notice}),
        ]  # fmt: skip
        assert told(session, handover.id) == to_each(
            seeker, person_text("reassigned", second, days=CONTACT_DAYS)
        )
        # Nobody left who has not had it: it stays with the second recruiter.
        assert reroute(session, TUESDAY + timedelta(days=7)) == 0
        assert handover.recruiter_id == second.id


def test_a_handover_without_sharing_consent_is_not_moved(own: Engine) -> None:
    """A person who withdrew sharing is not passed to anyone; saying yes again lets it move."""
    place = new_place()
    with session_scope(own) as session:
        first = make_recruiter(session, place)
        second = make_recruiter(session, place, name="Bram Jansen")
        seeker = make_person(session, place)
        handover = request(session, seeker, FRIDAY)
        record_consent(
            session=session, job_seeker=seeker, purpose="share_with_recruiter", given=False
        )
        assert reroute(session, TUESDAY + timedelta(days=1)) == 0
        assert handover.recruiter_id == first.id
        assert of_kind(rows_of(session, handover.id), "handover_rerouted") == []
        assert told(session, handover.id) == []
        record_consent(
            session=session, job_seeker=seeker, purpose="share_with_recruiter", given=True
        )
        assert reroute(session, TUESDAY + timedelta(days=1)) == 1
        assert handover.recruiter_id == second.id


def test_rerouting_respects_the_weekly_capacity(own: Engine) -> None:
    """A recruiter whose week is full gets nothing until the week has passed."""
    place = new_place()
    with session_scope(own) as session:
        first = make_recruiter(session, place)
        full = make_recruiter(session, place, name="Bram Jansen", capacity=1)
        other = make_person(session, place, name="Fleur")
        session.add(
            Handover(
                job_seeker_id=other.id,
                recruiter_id=full.id,
                status="accepted",
                created_at=WEDNESDAY - timedelta(hours=1),
                tried_recruiter_ids=[full.id],
            )
        )
        seeker = make_person(session, place)
        handover = request(session, seeker, FRIDAY)
        assert handover.recruiter is first
        # Tuesday: the other handover is from this week, so the second recruiter is full.
        assert reroute(session, TUESDAY) == 0
        assert handover.recruiter_id == first.id
        # A week after the other handover was made there is room again.
        assert reroute(session, WEDNESDAY + timedelta(days=7)) == 1
        assert handover.recruiter_id == full.id


def test_a_backlog_does_not_overfill_a_new_recruiter(own: Engine) -> None:
    """Handovers that waited long still count against the week they are assigned in."""
    place = new_place()
    with session_scope(own) as session:
        waiting = [
            request(session, make_person(session, place, name=n)) for n in ("Noor", "Fleur")
        ]
        assert [handover.recruiter_id for handover in waiting] == [None, None]
        newcomer = make_recruiter(session, place, capacity=1)
        assert reroute(session, WEDNESDAY + timedelta(days=8)) == 1
        assert sorted(str(handover.recruiter_id) for handover in waiting) == sorted(
            ["None", str(newcomer.id)]
        )


# --- what the person is told when they ask ------------------------------------------------------


def transient(status: str, recruiter: bool = True) -> Handover:
    """A handover assigned on Friday 6 June 2025, never stored."""
    return Handover(
        status=status,
        recruiter=Recruiter(name="Sanne de Vries", organisation="Werkbrug") if recruiter else None,
        created_at=FRIDAY - timedelta(days=1),
        assigned_at=FRIDAY,
    )


@pytest.mark.parametrize(
    ("status", "language", "expected"),
    [
        ("requested", "nl", "Je profiel ligt sinds 06-06-2025 bij Sanne van Werkbrug. Sanne neemt "
         "binnen 3 werkdagen contact met je op."),
        ("delivered", "nl", "Je profiel ligt sinds 06-06-2025 bij Sanne van Werkbrug. Sanne neemt "
         "binnen 3 werkdagen contact met je op."),
        ("accepted", "nl", "Sanne van Werkbrug heeft je aanvraag opgepakt en neemt contact met je "
         "op."),
        ("contacted", "nl", "Sanne van Werkbrug heeft contact met je gehad. Heb je vragen? Je "
         "kunt Sanne altijd zelf ook bereiken."),
        ("delivered", "en", "Your profile has been with Sanne from Werkbrug since 06-06-2025. "
         "Sanne will contact you within 3 working days."),
        ("accepted", "en", "Sanne from Werkbrug has taken on your request and will contact you."),
    ],
)  # fmt: skip
def test_status_text_for_each_open_status(status: str, language: str, expected: str) -> None:
    """Waiting, taken on or in touch: named with the recruiter's first name."""
    assert status_text(transient(status), language, CONTACT_DAYS) == expected


def test_status_text_without_recruiter_or_assignment() -> None:
    """Searching without a recruiter; the creation date when it was never assigned."""
    assert status_text(transient("requested", recruiter=False), "nl", 3) == (
        "Ik zoek nog een recruiter voor je. Zodra er iemand is, hoor je het."
    )
    unassigned = transient("requested")
    unassigned.assigned_at = None
    assert status_text(unassigned, "nl", 3) == (
        "Je profiel ligt sinds 05-06-2025 bij Sanne van Werkbrug. Sanne neemt binnen 3 werkdagen "
        "contact met je op."
    )


def test_status_text_is_none_when_nothing_is_open() -> None:
    """Placed, closed or no handover at all: nothing to say."""
    assert status_text(transient("placed"), "nl", 3) is None
    assert status_text(transient("closed"), "nl", 3) is None
    assert status_text(None, "nl", 3) is None


# --- deleting the person ----------------------------------------------------------------------


def test_deleting_the_person_removes_the_summaries_and_keeps_the_notices(own: Engine) -> None:
    """Rows with personal data go with the person; notices without any stay."""
    place = new_place()
    with session_scope(own) as session:
        first = make_recruiter(session, place)
        second = make_recruiter(session, place, name="Bram Jansen")
        seeker = make_person(session, place)
        handover = request(session, seeker, FRIDAY)
        assert reroute(session, TUESDAY) == 1
        handover_id, seeker_id = handover.id, seeker.id
        identities = [identity.channel_user_id for identity in seeker.identities]
        first_to = [first.telegram_chat_id, first.email]
        second_to = [second.telegram_chat_id, second.email]
        assert len(of_kind(rows_to(session, first_to), "handover_summary")) == 2
        assert len(of_kind(rows_to(session, second_to), "handover_summary")) == 2
        assert len(rows_to(session, identities)) == 2
    with session_scope(own) as session:
        stored = session.get(JobSeeker, seeker_id)
        assert stored is not None
        deleted = delete_job_seeker(stored, "request", session=session)
        assert deleted.job_seekers == 1
        assert deleted.recruiters_told == 1
    with session_scope(own) as session:
        assert session.get(Handover, handover_id) is None
        assert rows_to(session, identities) == []
        left = session.scalars(
            select(OutboxMessage).where(OutboxMessage.job_seeker_id == seeker_id)
        ).all()
        assert left == []
        rerouted = phrase("recruiter.notice.rerouted", "nl", id=handover_id)
        assert [(row.channel, row.payload) for row in rows_to(session, first_to)] == [
            ("telegram", {"kind": "handover_rerouted", "text": rerouted}),
            ("email", {"kind": "handover_rerouted", "text": rerouted}),
        ]
        withdrawn = phrase("recruiter.notice.withdrawn", "nl", id=handover_id)
        assert [
            (row.channel, row.job_seeker_id, row.payload) for row in rows_to(session, second_to)
        ] == [
            ("telegram", None, {"kind": "handover_withdrawn", "text": withdrawn}),
            ("email", None, {"kind": "handover_withdrawn", "text": withdrawn}),
        ]
