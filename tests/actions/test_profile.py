"""The profile sketch, confirming it and correcting one field, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, select

from actions.intake import ActionSaveProfile
from actions.profile import (
    ActionConfirmProfile,
    ActionProfileSketch,
    ActionUpdateProfile,
    corrections,
)
from core.db import session_scope
from core.time import as_utc
from store.models import ChannelIdentity, Profile
from store.profiles import split_sender
from tests.support.actions import (
    FULL_PROFILE,
    domain,
    entity,
    exported_profile,
    load_tracker,
    new_sender,
    responses,
    row_counts,
    seed_profile,
    store_decisions,
)


def found(**entities: list[str]) -> dict[str, list[str]]:
    """Entity values as ActionUpdateProfile collects them."""
    return {
        name: entities.get(name, []) for name in ("hours", "place", "role", "sector", "pathway")
    }


async def saved_profile(sender_id: str) -> None:
    """The full intake of tests/trackers/save_profile.json, saved for `sender_id`."""
    tracker = load_tracker("save_profile", sender_id=sender_id)
    await ActionSaveProfile().run(CollectingDispatcher(), tracker, domain())


# --- corrections ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "entities", "changes"),
    [
        ("mijn uren kloppen niet, het is 24", found(), {"hours_min": 24, "hours_max": 24}),
        (
            "mijn uren kloppen niet, het is 24",
            found(hours=["24"]),
            {"hours_min": 24, "hours_max": 24},
        ),
        ("ik wil 20 tot 24 uur werken", found(), {"hours_min": 20, "hours_max": 24}),
        ("I live in Leiden now", found(place=["Leiden"]), {"place": "Leiden"}),
        ("ik woon nu in Leiden", found(), {"place": "Leiden"}),
        ("ik ben verhuisd naar Utrecht", found(), {"place": "Utrecht"}),
        ("ik wil max 45 minuten reizen", found(), {"max_travel_minutes": 45}),
        ("niet meer dan 15 km reizen", found(), {"max_travel_minutes": 30}),
        ("ik zoek werk in de zorg", found(sector=["zorg"]), {"sector": ["zorg"]}),
        ("liever als kok", found(role=["kok"]), {"role": ["kok"]}),
        ("toch liever een proefplaatsing", found(), {"pathway": ["trial_placement"]}),
        ("ik wil iets aanpassen", found(), {}),
        ("mijn uren kloppen niet", found(), {}),
        ("ik wil 200 uur werken", found(), {}),
    ],
)
def test_corrections_change_only_what_is_named(
    text: str, entities: dict[str, list[str]], changes: dict[str, Any]
) -> None:
    assert corrections(text, entities) == changes


def test_corrections_without_a_place_entity_keep_only_the_place() -> None:
    assert corrections("I live in Leiden now", found()) == {"place": "Leiden"}


# --- ActionUpdateProfile ----------------------------------------------------------------


async def test_update_profile_changes_only_the_hours(store_database: Engine) -> None:
    sender_id = new_sender()
    await saved_profile(sender_id)
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("update_profile", sender_id=sender_id)

    events = await ActionUpdateProfile().run(dispatcher, tracker, domain())

    assert events == [
        SlotSet("profile_updated", True),
        SlotSet("hours_min", 24),
        SlotSet("hours_max", 24),
    ]
    assert dispatcher.messages == []
    assert exported_profile(store_database, sender_id) == {
        **FULL_PROFILE,
        "hours_min": 24,
        "hours_max": 24,
    }


async def test_update_profile_changes_only_the_place(store_database: Engine) -> None:
    sender_id = new_sender()
    await saved_profile(sender_id)
    text = "I live in Leiden now"
    tracker = load_tracker(
        "update_profile",
        sender_id=sender_id,
        slots={"language": "en"},
        text=text,
        entities=[entity("place", "Leiden", text)],
    )

    events = await ActionUpdateProfile().run(CollectingDispatcher(), tracker, domain())

    assert events == [SlotSet("profile_updated", True), SlotSet("place", "Leiden")]
    assert exported_profile(store_database, sender_id) == {**FULL_PROFILE, "place": "Leiden"}


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("ik wil iets aanpassen", {}),
        ("/update_profile", {}),
        ("mijn uren kloppen niet, het is 24", {"consent_profile": False}),
    ],
    ids=["nothing-named", "button", "no-consent"],
)
async def test_update_profile_without_a_change_says_so(
    store_database: Engine, text: str, slots: dict[str, Any]
) -> None:
    sender_id = new_sender()
    await saved_profile(sender_id)
    dispatcher = CollectingDispatcher()
    tracker = load_tracker(
        "update_profile", sender_id=sender_id, slots=slots, text=text, entities=[]
    )

    events = await ActionUpdateProfile().run(dispatcher, tracker, domain())

    assert events == [SlotSet("profile_updated", False)]
    assert dispatcher.messages == []
    assert exported_profile(store_database, sender_id) == FULL_PROFILE


async def test_update_profile_never_stores_a_diagnosis(store_database: Engine) -> None:
    sender_id = new_sender()
    await saved_profile(sender_id)
    dispatcher = CollectingDispatcher()
    text = "door mijn burn-out kan ik maar 20 uur werken in Leiden"
    tracker = load_tracker(
        "update_profile",
        sender_id=sender_id,
        text=text,
        entities=[entity("hours", "20", text), entity("place", "Leiden", text)],
    )

    events = await ActionUpdateProfile().run(dispatcher, tracker, domain())

    assert events == [SlotSet("profile_updated", False)]
    assert responses(dispatcher) == ["utter_health_not_stored"]
    assert exported_profile(store_database, sender_id) == FULL_PROFILE


async def test_update_profile_without_a_database(no_database: None) -> None:
    dispatcher = CollectingDispatcher()

    events = await ActionUpdateProfile().run(dispatcher, load_tracker("update_profile"), domain())

    assert events == [SlotSet("profile_updated", False)]
    assert responses(dispatcher) == ["utter_profile_not_saved"]


# --- ActionProfileSketch ----------------------------------------------------------------

SKETCHES = {
    "nl": {
        "first_name": "Anna",
        "strengths": "goed met mensen, plannen",
        "development": "Excel",
        "wishes": "kok, horeca, 20-24 uur per week, in Utrecht (max 30 min reizen), "
        "gewone baan, proefplaatsing, beginnen: per direct",
    },
    "en": {
        "first_name": "Anna",
        "strengths": "goed met mensen, plannen",
        "development": "Excel",
        "wishes": "kok, horeca, 20-24 hours a week, in Utrecht (max 30 min travel), "
        "regular job, trial placement, start: per direct",
    },
}


@pytest.mark.parametrize("language", ["nl", "en"])
async def test_profile_sketch_reads_the_stored_profile_back(
    store_database: Engine, language: str
) -> None:
    sender_id = new_sender()
    await saved_profile(sender_id)
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("show_profile", sender_id=sender_id, slots={"language": language})

    events = await ActionProfileSketch().run(dispatcher, tracker, domain())

    assert events == []
    assert responses(dispatcher) == ["utter_profile_sketch"]
    message = dispatcher.messages[0]
    assert {key: message[key] for key in SKETCHES[language]} == SKETCHES[language]


@pytest.mark.parametrize(("language", "none"), [("nl", "nog niets"), ("en", "nothing yet")])
async def test_profile_sketch_of_a_mostly_skipped_intake(
    store_database: Engine, language: str, none: str
) -> None:
    sender_id = new_sender()
    seed_profile(store_database, sender_id, {"name": "Kees", "hours_min": 32, "hours_max": 32})
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("show_profile", sender_id=sender_id, slots={"language": language})

    await ActionProfileSketch().run(dispatcher, tracker, domain())

    hours = "32 uur per week" if language == "nl" else "32 hours a week"
    message = dispatcher.messages[0]
    assert message["response"] == "utter_profile_sketch"
    assert (message["strengths"], message["development"], message["wishes"]) == (
        none,
        none,
        hours,
    )


@pytest.mark.parametrize(
    "decisions", [None, [True], [True, False]], ids=["unknown", "no-answers", "withdrawn"]
)
async def test_profile_sketch_without_a_profile(
    store_database: Engine, decisions: list[bool] | None
) -> None:
    sender_id = new_sender()
    if decisions is not None:
        store_decisions(store_database, sender_id, decisions)
    if decisions == [True, False]:
        seed_profile(store_database, sender_id, {"name": "Anna", "talent": ["plannen"]})
        store_decisions(store_database, sender_id, [False])
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("show_profile", sender_id=sender_id)

    events = await ActionProfileSketch().run(dispatcher, tracker, domain())

    assert events == []
    assert responses(dispatcher) == ["utter_no_profile"]


# --- ActionConfirmProfile ---------------------------------------------------------------


def confirmed_at(engine: Engine, sender_id: str) -> datetime | None:
    """When the sender confirmed the profile, in UTC."""
    channel, user_id = split_sender(sender_id)
    with session_scope(engine) as session:
        moment = session.scalars(
            select(Profile.confirmed_at)
            .join(ChannelIdentity, ChannelIdentity.job_seeker_id == Profile.job_seeker_id)
            .where(ChannelIdentity.channel == channel, ChannelIdentity.channel_user_id == user_id)
        ).one()
    return None if moment is None else as_utc(moment)


async def test_confirm_profile_sets_confirmed_at(store_database: Engine) -> None:
    sender_id = new_sender()
    await saved_profile(sender_id)
    assert confirmed_at(store_database, sender_id) is None
    dispatcher = CollectingDispatcher()
    started = datetime.now(timezone.utc)

    events = await ActionConfirmProfile().run(
        dispatcher, load_tracker("show_profile", sender_id=sender_id), domain()
    )

    assert events == []
    assert responses(dispatcher) == ["utter_profile_confirmed"]
    moment = confirmed_at(store_database, sender_id)
    assert moment is not None
    assert started - timedelta(seconds=5) <= moment <= datetime.now(timezone.utc)
    assert exported_profile(store_database, sender_id) == FULL_PROFILE


async def test_confirm_profile_of_someone_unknown(store_database: Engine) -> None:
    dispatcher = CollectingDispatcher()
    before = row_counts(store_database)

    await ActionConfirmProfile().run(dispatcher, load_tracker("show_profile"), domain())

    assert responses(dispatcher) == ["utter_no_profile"]
    assert row_counts(store_database) == before
