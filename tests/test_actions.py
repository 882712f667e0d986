"""Custom actions run against tracker fixtures, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, func, select

from actions.common import language_from_code
from actions.consent import ActionRecordConsent
from actions.intake import (
    ActionSaveProfile,
    ValidateIntakeForm,
    clean_first_name,
    clean_region,
    clean_talent,
)
from actions.session import ActionSessionStart
from store.db import session_scope
from store.models import Consent, JobSeeker, Profile, ProfileItem
from store.profiles import get_or_create_job_seeker, record_consent, split_sender

TRACKERS = Path(__file__).parent / "trackers"
DOMAIN_FILE = Path(__file__).parent.parent / "domain.yml"
# Nothing listens on port 1: connecting fails at once with "connection refused".
UNREACHABLE_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:1/none"
LONG_TEXT = " ".join(["woord"] * 300)


def load_tracker(
    name: str, *, sender_id: str | None = None, slots: dict[str, Any] | None = None
) -> Tracker:
    """The tracker in tests/trackers/NAME.json, under a channel user id no other test uses."""
    state = json.loads((TRACKERS / f"{name}.json").read_text(encoding="utf-8"))
    if sender_id is None:
        channel, sep, _ = state["sender_id"].partition(":")
        sender_id = f"{channel}:{uuid.uuid4().hex}" if sep else state["sender_id"]
    state["sender_id"] = sender_id
    state["slots"].update(slots or {})
    return Tracker.from_dict(state)


@cache
def domain() -> dict[str, Any]:
    """The assistant's domain, as the action server receives it."""
    loaded: dict[str, Any] = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
    return loaded


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    """The response names an action dispatched, each checked to exist in the domain."""
    names = [str(message["response"]) for message in dispatcher.messages]
    assert all(name in domain()["responses"] for name in names)
    return names


@dataclass(frozen=True)
class Stored:
    """What the database holds for one sender id."""

    seekers: int
    language: str | None
    consents: list[tuple[str, bool, str, str]]  # purpose, given, text_version, channel
    name: str | None
    place: str | None
    talents: list[str]


def stored(engine: Engine, sender_id: str) -> Stored:
    """Read back every row written for `sender_id`."""
    channel, user_id = split_sender(sender_id)
    with session_scope(engine) as session:
        seekers = session.scalars(
            select(JobSeeker).where(
                JobSeeker.channel == channel, JobSeeker.channel_user_id == user_id
            )
        ).all()
        if not seekers:
            return Stored(0, None, [], None, None, [])
        seeker = seekers[0]
        consents = session.scalars(
            select(Consent).where(Consent.job_seeker_id == seeker.id).order_by(Consent.id)
        ).all()
        profile = session.get(Profile, seeker.id)
        talents = session.scalars(
            select(ProfileItem.value)
            .where(ProfileItem.job_seeker_id == seeker.id, ProfileItem.kind == "talent")
            .order_by(ProfileItem.position)
        ).all()
        return Stored(
            seekers=len(seekers),
            language=seeker.language,
            consents=[(c.purpose, c.given, c.text_version, c.channel) for c in consents],
            name=profile.name if profile else None,
            place=profile.place if profile else None,
            talents=list(talents),
        )


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per project table, to show that an action wrote nothing at all."""
    with session_scope(engine) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (JobSeeker, Consent, Profile, ProfileItem)
        }


def store_decisions(engine: Engine, sender_id: str, decisions: list[bool]) -> None:
    """A job seeker with these profile consent decisions, oldest first."""
    channel, user_id = split_sender(sender_id)
    with session_scope(engine) as session:
        seeker = get_or_create_job_seeker(
            session=session, channel=channel, channel_user_id=user_id, language="nl"
        )
        for given in decisions:
            record_consent(session=session, job_seeker=seeker, purpose="profile", given=given)


# --- pure functions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en-GB", "en"),
        ("en_US", "en"),
        ("EN", "en"),
        (" nl ", "nl"),
        ("nl-BE", "nl"),
        ("de", None),
        ("english", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_language_from_code(code: object, expected: str | None) -> None:
    assert language_from_code(code) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ik heet anna", "Anna"),
        ("my name is Jan-Willem", "Jan-Willem"),
        ("Mijn voornaam is fatma.", "Fatma"),
        ("I'm Zoë", "Zoë"),
        ("zeg maar O'Brien", "O'Brien"),
        ("  Sanne  ", "Sanne"),
        ("anna maria", "Anna Maria"),
        ("", None),
        ("   ", None),
        ("12345", None),
        ("Anna123", None),
        ("!!!", None),
        ("a b c d", None),
        ("Anna_Marie", None),
        (LONG_TEXT, None),
        ("x" * 41, None),
        pytest.param(
            "ik heet",
            None,
        ),
        pytest.param(
            "my name is",
            None,
        ),
    ],
)
def test_clean_first_name(text: str, expected: str | None) -> None:
    assert clean_first_name(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ik kan goed luisteren", "ik kan goed luisteren"),
        ("  goed   met\nmensen ", "goed met mensen"),
        ("I can fix bikes!", "I can fix bikes!"),
        ("EHBO", "EHBO"),
        ("x" * 300, "x" * 300),
        ("", None),
        ("a", None),
        ("12345", None),
        ("!!!", None),
        ("x" * 301, None),
        (LONG_TEXT, None),
    ],
)
def test_clean_talent(text: str, expected: str | None) -> None:
    assert clean_talent(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234ab", "1234 AB"),
        ("1234 AB", "1234 AB"),
        ("ik woon in utrecht", "Utrecht"),
        ("Den Haag", "Den Haag"),
        ("in amsterdam.", "Amsterdam"),
        ("I live near leiden", "Leiden"),
        ("Alphen a/d Rijn", "Alphen a/d Rijn"),
        ("", None),
        ("!!!", None),
        ("12345", None),
        ("1234 ABC", None),
        ("x", None),
        ("x" * 61, None),
        (LONG_TEXT, None),
        pytest.param(
            "'s-Hertogenbosch",
            "'s-Hertogenbosch",
        ),
        pytest.param(
            "ik woon in de buurt van Utrecht",
            "Utrecht",
        ),
        pytest.param(
            "0123 ab",
            None,
        ),
    ],
)
def test_clean_region(text: str, expected: str | None) -> None:
    assert clean_region(text) == expected


# --- ActionSessionStart -----------------------------------------------------------------


async def test_session_start_takes_the_language_from_the_channel(
    store_database: Engine,
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("session_start_en")

    events = await ActionSessionStart().run(dispatcher, tracker, domain())

    assert events == [SessionStarted(), SlotSet("language", "en"), ActionExecuted("action_listen")]
    assert dispatcher.messages == []


async def test_session_start_carries_over_slots(store_database: Engine) -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("session_start_carry_over")

    events = await ActionSessionStart().run(dispatcher, tracker, domain())

    # The carried language wins over the channel's en-GB; empty slots, the form's
    # requested_slot and the session metadata are not carried.
    assert events == [
        SessionStarted(),
        SlotSet("language", "nl"),
        SlotSet("consent_profile", True),
        SlotSet("first_name", "Anna"),
        SlotSet("talent", "goed met mensen"),
        ActionExecuted("action_listen"),
    ]
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("decisions", "consent"),
    [
        ([True], True),
        ([False], False),
        ([True, False], False),
        ([False, True], True),
    ],
    ids=["given", "declined", "withdrawn", "given-again"],
)
async def test_session_start_looks_up_a_stored_consent(
    store_database: Engine, decisions: list[bool], consent: bool
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("session_start_returning")
    store_decisions(store_database, tracker.sender_id, decisions)

    events = await ActionSessionStart().run(dispatcher, tracker, domain())

    expected: list[EventType] = [SessionStarted(), SlotSet("language", "nl")]
    if consent:
        expected.append(SlotSet("consent_profile", True))
    assert events == [*expected, ActionExecuted("action_listen")]
    assert dispatcher.messages == []


async def test_session_start_for_someone_never_seen(store_database: Engine) -> None:
    tracker = load_tracker("session_start_returning")
    before = row_counts(store_database)

    events = await ActionSessionStart().run(CollectingDispatcher(), tracker, domain())

    assert events == [SessionStarted(), SlotSet("language", "nl"), ActionExecuted("action_listen")]
    assert row_counts(store_database) == before


async def test_session_start_with_an_unknown_sender_format(store_database: Engine) -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("session_start_unknown_sender")
    assert tracker.sender_id == "default"

    events = await ActionSessionStart().run(dispatcher, tracker, domain())

    assert events == [SessionStarted(), SlotSet("language", "en"), ActionExecuted("action_listen")]
    assert dispatcher.messages == []


async def test_session_start_without_a_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE_DATABASE_URL)
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("session_start_returning")

    events = await ActionSessionStart().run(dispatcher, tracker, domain())

    assert events == [SessionStarted(), SlotSet("language", "nl"), ActionExecuted("action_listen")]
    assert dispatcher.messages == []


# --- ActionRecordConsent ----------------------------------------------------------------


async def test_consent_yes_creates_the_job_seeker_and_a_consent(store_database: Engine) -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("consent_affirm")

    events = await ActionRecordConsent().run(dispatcher, tracker, domain())

    assert events == [SlotSet("language", "en"), SlotSet("consent_profile", True)]
    assert dispatcher.messages == []
    rows = stored(store_database, tracker.sender_id)
    assert rows.seekers == 1
    assert rows.language == "en"
    assert rows.consents == [("profile", True, "v1", "web")]
    assert (rows.name, rows.place, rows.talents) == (None, None, [])


async def test_consent_no_stores_nothing(store_database: Engine) -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("consent_deny")
    before = row_counts(store_database)

    events = await ActionRecordConsent().run(dispatcher, tracker, domain())

    assert events == [SlotSet("language", "nl"), SlotSet("consent_profile", False)]
    assert dispatcher.messages == []
    assert row_counts(store_database) == before
    assert stored(store_database, tracker.sender_id).seekers == 0


async def test_consent_yes_without_a_database_still_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE_DATABASE_URL)
    dispatcher = CollectingDispatcher()

    events = await ActionRecordConsent().run(dispatcher, load_tracker("consent_affirm"), domain())

    assert events == [SlotSet("language", "en"), SlotSet("consent_profile", True)]
    assert dispatcher.messages == []


async def test_consent_yes_from_an_unknown_sender_format(store_database: Engine) -> None:
    tracker = load_tracker("consent_affirm", sender_id="default")

    events = await ActionRecordConsent().run(CollectingDispatcher(), tracker, domain())

    assert [event["name"] for event in events if event["event"] == "slot"] == [
        "language",
        "consent_profile",
    ]


# --- ValidateIntakeForm -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("slot", "value", "expected"),
    [
        ("first_name", "ik heet anna", "Anna"),
        ("first_name", "my name is Jan-Willem", "Jan-Willem"),
        ("first_name", "Fatma", "Fatma"),
        ("talent", "  ik ben goed   met mensen ", "ik ben goed met mensen"),
        ("talent", "I can fix bikes", "I can fix bikes"),
        ("region", "1234ab", "1234 AB"),
        ("region", "ik woon in utrecht", "Utrecht"),
        ("region", "Den Haag", "Den Haag"),
    ],
)
def test_intake_accepts_and_cleans(slot: str, value: str, expected: str) -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("intake_first_name")
    validate = getattr(ValidateIntakeForm(), f"validate_{slot}")

    assert validate(value, dispatcher, tracker, domain()) == {slot: expected}
    assert dispatcher.messages == []


@pytest.mark.parametrize("slot", ["first_name", "talent", "region"])
@pytest.mark.parametrize(
    "value",
    ["", "12345", LONG_TEXT, "!!!", None],
    ids=["empty", "digits", "long", "bangs", "none"],
)
def test_intake_rejects_and_asks_again(slot: str, value: str | None) -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("intake_first_name")
    validate = getattr(ValidateIntakeForm(), f"validate_{slot}")

    assert validate(value, dispatcher, tracker, domain()) == {slot: None}
    assert responses(dispatcher) == [f"utter_invalid_{slot}"]


async def test_intake_form_validation_action() -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("intake_first_name")

    events = await ValidateIntakeForm().run(dispatcher, tracker, domain())

    assert events == [SlotSet("first_name", "Anna")]
    assert dispatcher.messages == []


# --- ActionSaveProfile ------------------------------------------------------------------


async def test_save_profile_writes_name_place_and_talent(store_database: Engine) -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("save_profile")

    events = await ActionSaveProfile().run(dispatcher, tracker, domain())

    assert events == [SlotSet("language", "nl")]
    assert responses(dispatcher) == ["utter_profile_saved"]
    rows = stored(store_database, tracker.sender_id)
    assert rows == Stored(
        seekers=1,
        language="nl",
        # The consent could not be written when it was given, so saving records it.
        consents=[("profile", True, "v1", "telegram")],
        name="Anna",
        place="Utrecht",
        talents=["goed met mensen"],
    )


async def test_save_profile_twice_does_not_duplicate(store_database: Engine) -> None:
    tracker = load_tracker("save_profile")

    for _ in range(2):
        dispatcher = CollectingDispatcher()
        await ActionSaveProfile().run(dispatcher, tracker, domain())
        assert responses(dispatcher) == ["utter_profile_saved"]

    rows = stored(store_database, tracker.sender_id)
    assert rows.seekers == 1
    assert rows.talents == ["goed met mensen"]
    assert rows.consents == [("profile", True, "v1", "telegram")]


async def test_save_profile_after_the_consent_was_recorded(store_database: Engine) -> None:
    sender_id = f"telegram:{uuid.uuid4().hex}"
    affirm = load_tracker("consent_affirm", sender_id=sender_id)
    await ActionRecordConsent().run(CollectingDispatcher(), affirm, domain())

    save = load_tracker("save_profile", sender_id=sender_id)
    await ActionSaveProfile().run(CollectingDispatcher(), save, domain())

    rows = stored(store_database, sender_id)
    assert rows.consents == [("profile", True, "v1", "telegram")]
    assert rows.language == "nl"
    assert (rows.name, rows.place, rows.talents) == ("Anna", "Utrecht", ["goed met mensen"])


async def test_save_profile_replaces_a_corrected_answer(store_database: Engine) -> None:
    sender_id = f"telegram:{uuid.uuid4().hex}"
    await ActionSaveProfile().run(
        CollectingDispatcher(), load_tracker("save_profile", sender_id=sender_id), domain()
    )
    corrected = load_tracker(
        "save_profile",
        sender_id=sender_id,
        slots={"talent": "ik kan goed koken", "region": "3511 AB"},
    )

    await ActionSaveProfile().run(CollectingDispatcher(), corrected, domain())

    rows = stored(store_database, sender_id)
    assert (rows.name, rows.place, rows.talents) == ("Anna", "3511 AB", ["ik kan goed koken"])


@pytest.mark.parametrize("consent", [False, None])
async def test_save_profile_without_consent_writes_nothing(
    store_database: Engine, consent: bool | None
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("save_profile_no_consent", slots={"consent_profile": consent})
    before = row_counts(store_database)

    events = await ActionSaveProfile().run(dispatcher, tracker, domain())

    assert events == []
    assert dispatcher.messages == []
    assert row_counts(store_database) == before


async def test_save_profile_without_a_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE_DATABASE_URL)
    dispatcher = CollectingDispatcher()

    events = await ActionSaveProfile().run(dispatcher, load_tracker("save_profile"), domain())

    assert events == [SlotSet("language", "nl")]
    assert responses(dispatcher) == ["utter_profile_not_saved"]
