"""Success moments, talents told along the way and switching language."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine

from actions.keep_going import ActionChangeLanguage, ActionStoreSuccess, ActionStoreVolunteered
from tests.support.actions import (
    EMPTY_PROFILE,
    domain,
    entity,
    export,
    load_tracker,
    new_sender,
    responses,
    row_counts,
    seed_profile,
    store_decisions,
)


def successes(engine: Engine, sender_id: str) -> list[str]:
    """The texts of the sender's success moments, oldest first."""
    return [moment["text"] for moment in export(engine, sender_id)["success_moments"]]


# --- ActionStoreSuccess -----------------------------------------------------------------


async def test_a_success_is_kept_with_consent(store_database: Engine) -> None:
    sender_id = new_sender()
    store_decisions(store_database, sender_id, [True])
    dispatcher = CollectingDispatcher()

    events = await ActionStoreSuccess().run(
        dispatcher, load_tracker("share_success", sender_id=sender_id), domain()
    )

    assert events == []
    assert responses(dispatcher) == ["utter_celebrate"]
    assert successes(store_database, sender_id) == ["ik had vandaag een sollicitatiegesprek!"]


@pytest.mark.parametrize("decisions", [[False], [True, False]], ids=["declined", "withdrawn"])
async def test_a_success_is_not_kept_without_consent(
    store_database: Engine, decisions: list[bool]
) -> None:
    sender_id = new_sender()
    store_decisions(store_database, sender_id, decisions)
    dispatcher = CollectingDispatcher()

    await ActionStoreSuccess().run(
        dispatcher, load_tracker("share_success", sender_id=sender_id), domain()
    )

    assert responses(dispatcher) == ["utter_celebrate_not_stored"]
    assert successes(store_database, sender_id) == []


async def test_a_success_of_someone_unknown_stores_nothing(store_database: Engine) -> None:
    dispatcher = CollectingDispatcher()
    before = row_counts(store_database)

    await ActionStoreSuccess().run(dispatcher, load_tracker("share_success"), domain())

    assert responses(dispatcher) == ["utter_celebrate_not_stored"]
    assert row_counts(store_database) == before


@pytest.mark.parametrize(
    "text",
    [
        "na mijn chemo heb ik weer gewerkt",
        "ondanks mijn burn-out heb ik een gesprek gehad",
        "I got a job after my cancer treatment",
        "/share_success",
    ],
)
async def test_a_success_mentioning_a_diagnosis_is_never_kept(
    store_database: Engine, text: str
) -> None:
    sender_id = new_sender()
    store_decisions(store_database, sender_id, [True])
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("share_success", sender_id=sender_id, text=text)

    await ActionStoreSuccess().run(dispatcher, tracker, domain())

    assert responses(dispatcher) == ["utter_celebrate_not_stored"]
    assert successes(store_database, sender_id) == []


async def test_a_success_without_a_database_is_still_celebrated(no_database: None) -> None:
    dispatcher = CollectingDispatcher()

    await ActionStoreSuccess().run(dispatcher, load_tracker("share_success"), domain())

    assert responses(dispatcher) == ["utter_celebrate_not_stored"]


# --- ActionStoreVolunteered -------------------------------------------------------------


@pytest.mark.parametrize(
    ("intent", "text", "skills", "key", "values", "response"),
    [
        (
            "share_talent",
            "ik ben goed in plannen",
            ["plannen"],
            "talents",
            ["plannen"],
            "utter_talent_noted",
        ),
        (
            "share_talent",
            "ik kan goed met mensen omgaan",
            [],
            "talents",
            ["ik kan goed met mensen omgaan"],
            "utter_talent_noted",
        ),
        (
            "share_development_point",
            "ik wil beter worden in excel",
            ["excel"],
            "development_points",
            ["excel"],
            "utter_development_noted",
        ),
        (
            "share_development_point",
            "I want to learn to drive a forklift",
            [],
            "development_points",
            ["I want to learn to drive a forklift"],
            "utter_development_noted",
        ),
    ],
)
async def test_a_volunteered_talent_or_wish_goes_into_the_profile(
    store_database: Engine,
    intent: str,
    text: str,
    skills: list[str],
    key: str,
    values: list[str],
    response: str,
) -> None:
    sender_id = new_sender()
    store_decisions(store_database, sender_id, [True])
    tracker = load_tracker(
        "share_talent",
        sender_id=sender_id,
        intent=intent,
        text=text,
        entities=[entity("skill", skill, text) for skill in skills],
    )

    for _ in range(2):
        dispatcher = CollectingDispatcher()
        events = await ActionStoreVolunteered().run(dispatcher, tracker, domain())
        assert events == []
        assert responses(dispatcher) == [response]

    # Told twice, kept once; nothing else in the profile changes.
    assert export(store_database, sender_id)["profile"] == {**EMPTY_PROFILE, key: values}


async def test_a_volunteered_talent_is_added_after_the_intake_answers(
    store_database: Engine,
) -> None:
    sender_id = new_sender()
    seed_profile(store_database, sender_id, {"talent": ["geduldig"]})

    await ActionStoreVolunteered().run(
        CollectingDispatcher(), load_tracker("share_talent", sender_id=sender_id), domain()
    )

    assert export(store_database, sender_id)["profile"]["talents"] == ["geduldig", "plannen"]


@pytest.mark.parametrize(
    ("intent", "text", "skill"),
    [
        (
            "share_talent",
            "ik ben goed in plannen, dat leerde ik tijdens de borstkanker",
            "plannen",
        ),
        ("share_development_point", "na mijn burn-out wil ik leren timemanagen", "timemanagen"),
    ],
)
async def test_a_volunteered_text_mentioning_health_is_not_kept(
    store_database: Engine, intent: str, text: str, skill: str
) -> None:
    sender_id = new_sender()
    store_decisions(store_database, sender_id, [True])
    dispatcher = CollectingDispatcher()
    tracker = load_tracker(
        "share_talent",
        sender_id=sender_id,
        intent=intent,
        text=text,
        entities=[entity("skill", skill, text)],
    )

    await ActionStoreVolunteered().run(dispatcher, tracker, domain())

    assert responses(dispatcher) == ["utter_health_not_stored"]
    assert export(store_database, sender_id)["profile"] == EMPTY_PROFILE


@pytest.mark.parametrize("decisions", [None, [False]], ids=["unknown", "declined"])
async def test_a_volunteered_talent_without_consent_is_not_kept(
    store_database: Engine, decisions: list[bool] | None
) -> None:
    sender_id = new_sender()
    if decisions is not None:
        store_decisions(store_database, sender_id, decisions)
    before = row_counts(store_database)
    dispatcher = CollectingDispatcher()

    await ActionStoreVolunteered().run(
        dispatcher, load_tracker("share_talent", sender_id=sender_id), domain()
    )

    assert responses(dispatcher) == ["utter_noted_not_stored"]
    assert row_counts(store_database) == before


# --- ActionChangeLanguage ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("entities", "slots", "language"),
    [
        ([entity("language", "en")], {"language": "nl"}, "en"),
        ([entity("language", "en")], {"language": "en"}, "en"),
        ([entity("language", "nl")], {"language": "en"}, "nl"),
        ([], {"language": "nl"}, "en"),
        ([], {"language": "en"}, "nl"),
        ([entity("language", "de")], {"language": "nl"}, "en"),
    ],
    ids=["to-en", "stay-en", "to-nl", "toggle-to-en", "toggle-to-nl", "unknown-toggles"],
)
async def test_change_language(
    entities: list[dict[str, Any]], slots: dict[str, Any], language: str
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("change_language", slots=slots, entities=entities)

    events = await ActionChangeLanguage().run(dispatcher, tracker, domain())

    assert events == [SlotSet("language", language)]
    assert dispatcher.messages == []


async def test_change_language_fixture_names_english() -> None:
    tracker = load_tracker("change_language")
    assert tracker.latest_message["entities"][0]["value"] == "en"

    events = await ActionChangeLanguage().run(CollectingDispatcher(), tracker, domain())

    assert events == [SlotSet("language", "en")]
