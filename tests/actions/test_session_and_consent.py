"""Session start, consent and saving the intake, against tracker fixtures on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine

from actions import server
from actions.common import database, in_session, use_database
from actions.consent import ActionRecordConsent
from actions.intake import ActionSaveProfile, profile_from_slots
from actions.session import ActionSessionStart
from core.db import make_engine
from core.settings import Settings
from tests.support.actions import (
    EMPTY_PROFILE,
    FULL_PROFILE,
    domain,
    export,
    exported_profile,
    load_tracker,
    new_sender,
    responses,
    row_counts,
    seeker_exists,
    store_decisions,
)

# --- ActionSessionStart -----------------------------------------------------------------


async def test_session_start_takes_the_language_from_the_channel(
    store_database: Engine,
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("session_start_en")

    events = await ActionSessionStart().run(dispatcher, tracker, domain())

    assert events == [SessionStarted(), SlotSet("language", "en"), ActionExecuted("action_listen")]
    assert dispatcher.messages == []


async def test_session_start_prefers_the_language_of_the_words(store_database: Engine) -> None:
    tracker = load_tracker("session_start_text_language")
    metadata = tracker.get_slot("session_started_metadata")
    assert (metadata["text_language"], metadata["language_code"]) == ("en", "nl")

    events = await ActionSessionStart().run(CollectingDispatcher(), tracker, domain())

    assert events == [SessionStarted(), SlotSet("language", "en"), ActionExecuted("action_listen")]


@pytest.mark.parametrize(
    ("metadata", "language"),
    [
        ({"text_language": "nl", "language_code": "en-GB"}, "nl"),
        ({"text_language": None, "language_code": "en-GB"}, "en"),
        ({"text_language": "fr", "language_code": "en-GB"}, "en"),
        ({"text_language": "en"}, "en"),
    ],
    ids=["words-win", "no-guess", "unknown-guess", "words-only"],
)
async def test_session_start_falls_back_to_the_app_language(
    store_database: Engine, metadata: dict[str, Any], language: str
) -> None:
    tracker = load_tracker("session_start_en", slots={"session_started_metadata": metadata})

    events = await ActionSessionStart().run(CollectingDispatcher(), tracker, domain())

    assert events == [
        SessionStarted(),
        SlotSet("language", language),
        ActionExecuted("action_listen"),
    ]


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
        SlotSet("talents", ["goed met mensen"]),
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


async def test_session_start_without_a_database(no_database: None) -> None:
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
    stored = export(store_database, tracker.sender_id)
    assert stored["job_seeker"]["language"] == "en"
    assert [(c["purpose"], c["given"], c["text_version"]) for c in stored["consents"]] == [
        ("profile", True, "v1")
    ]
    assert stored["profile"] == EMPTY_PROFILE


async def test_consent_no_stores_nothing(store_database: Engine) -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("consent_deny")
    before = row_counts(store_database)

    events = await ActionRecordConsent().run(dispatcher, tracker, domain())

    assert events == [SlotSet("language", "nl"), SlotSet("consent_profile", False)]
    assert dispatcher.messages == []
    assert row_counts(store_database) == before
    assert not seeker_exists(store_database, tracker.sender_id)


async def test_consent_yes_without_a_database_still_goes_on(no_database: None) -> None:
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


# --- ActionSaveProfile ------------------------------------------------------------------


def test_profile_from_slots_maps_every_slot_to_the_store() -> None:
    values = profile_from_slots(load_tracker("save_profile"))

    # Store names: the list fields by item kind, the numbers rounded to whole minutes/hours.
    assert values == {
        "name": "Anna",
        "place": "Utrecht",
        "max_travel_minutes": 30,
        "hours_min": 20,
        "hours_max": 24,
        "start": "per direct",
        "contact_preference": "via deze chat",
        "talent": ["goed met mensen", "plannen"],
        "development_point": ["Excel"],
        "role": ["kok"],
        "sector": ["horeca"],
        "pathway": ["regular_job", "trial_placement"],
        "support_need": ["een vaste werkplek"],
    }


async def test_save_profile_writes_every_field(store_database: Engine) -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("save_profile")
    started = datetime.now(timezone.utc)

    events = await ActionSaveProfile().run(dispatcher, tracker, domain())

    assert events == [SlotSet("language", "nl")]
    assert dispatcher.messages == []
    stored = export(store_database, tracker.sender_id)
    assert stored["profile"] == FULL_PROFILE
    assert all(value not in (None, []) for value in stored["profile"].values())
    assert stored["job_seeker"]["language"] == "nl"
    # The consent could not be written when it was given, so saving records it.
    assert [(c["purpose"], c["given"]) for c in stored["consents"]] == [("profile", True)]
    at = datetime.fromisoformat(stored["consents"][0]["at"])
    assert started - timedelta(seconds=5) <= at <= datetime.now(timezone.utc)


async def test_save_profile_twice_replaces_the_lists(store_database: Engine) -> None:
    sender_id = new_sender()
    for _ in range(2):
        dispatcher = CollectingDispatcher()
        tracker = load_tracker("save_profile", sender_id=sender_id)
        await ActionSaveProfile().run(dispatcher, tracker, domain())
        assert dispatcher.messages == []
    assert exported_profile(store_database, sender_id) == FULL_PROFILE

    corrected = load_tracker(
        "save_profile",
        sender_id=sender_id,
        slots={
            "talents": ["ik kan goed koken"],
            "pathways": ["volunteering"],
            "support_needs": [],
            "place": "3511 AB",
        },
    )
    await ActionSaveProfile().run(CollectingDispatcher(), corrected, domain())

    stored = export(store_database, sender_id)
    assert stored["profile"] == {
        **FULL_PROFILE,
        "talents": ["ik kan goed koken"],
        "pathways": ["volunteering"],
        "support_needs": [],
        "place": "3511 AB",
    }
    assert [c["purpose"] for c in stored["consents"]] == ["profile"]


async def test_save_profile_after_the_consent_was_recorded(store_database: Engine) -> None:
    sender_id = new_sender()
    affirm = load_tracker("consent_affirm", sender_id=sender_id)
    await ActionRecordConsent().run(CollectingDispatcher(), affirm, domain())

    save = load_tracker("save_profile", sender_id=sender_id)
    await ActionSaveProfile().run(CollectingDispatcher(), save, domain())

    stored = export(store_database, sender_id)
    assert [(c["purpose"], c["given"]) for c in stored["consents"]] == [("profile", True)]
    assert stored["job_seeker"]["language"] == "nl"
    assert stored["profile"] == FULL_PROFILE


async def test_save_profile_stores_skipped_answers_as_empty(store_database: Engine) -> None:
    skipped: dict[str, Any] = {
        "first_name": "Anna",
        "talents": [],
        "development_points": [],
        "work_wish": "",
        "roles": [],
        "sectors": [],
        "hours": "",
        "hours_min": None,
        "hours_max": None,
        "place": "",
        "max_travel": "",
        "max_travel_minutes": None,
        "pathways": [],
        "start": "",
        "support_needs": [],
        "contact_preference": "",
    }
    tracker = load_tracker("save_profile", slots=skipped)
    dispatcher = CollectingDispatcher()

    await ActionSaveProfile().run(dispatcher, tracker, domain())

    assert dispatcher.messages == []
    assert exported_profile(store_database, tracker.sender_id) == {**EMPTY_PROFILE, "name": "Anna"}


@pytest.mark.parametrize("consent", [False, None])
async def test_save_profile_without_consent_writes_nothing(
    store_database: Engine, consent: bool | None
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("save_profile_no_consent", slots={"consent_profile": consent})
    before = row_counts(store_database)

    events = await ActionSaveProfile().run(dispatcher, tracker, domain())

    assert events == [SlotSet("language", "nl")]
    assert dispatcher.messages == []
    assert row_counts(store_database) == before
    assert not seeker_exists(store_database, tracker.sender_id)


async def test_save_profile_without_a_database(no_database: None) -> None:
    dispatcher = CollectingDispatcher()

    events = await ActionSaveProfile().run(dispatcher, load_tracker("save_profile"), domain())

    assert events == [SlotSet("language", "nl")]
    assert responses(dispatcher) == ["utter_profile_not_saved"]


# --- the database the actions use -------------------------------------------------------


async def test_without_the_servers_engine_the_actions_say_so() -> None:
    with pytest.raises(RuntimeError, match="use_database"):
        await in_session(lambda session: None)


def test_the_server_gives_the_actions_the_engine_of_its_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'actions.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr(server, "configure_server_logging", lambda level: None)
    # Not the process's engine for the URL (core.db.engine_for keeps a few): one of its own.
    engine = make_engine(url)
    read: list[Settings] = []

    def engine_of(settings: Settings) -> Engine:
        read.append(settings)
        return engine

    monkeypatch.setattr(server, "database_engine", engine_of)
    served: list[Engine] = []
    app = SimpleNamespace(run=lambda *args, **kwargs: served.append(database()))
    monkeypatch.setattr(server, "build_app", lambda *args, **kwargs: app)
    try:
        server.main(["--port", "5055"])
    finally:
        use_database(None)

    assert [settings.database_url for settings in read] == [url]
    assert served == [engine]


def test_the_server_stops_on_a_wrong_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.org/telegram/webhook")
    monkeypatch.setattr(server, "build_app", lambda *args, **kwargs: pytest.fail("started"))

    with pytest.raises(SystemExit, match="Configuration error: TELEGRAM_WEBHOOK_URL needs"):
        server.main(["--port", "5055"])
