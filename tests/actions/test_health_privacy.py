"""A volunteered diagnosis ends up nowhere in the database, whatever path it takes.

Rasa's tracker store (`events`) lives in the same database: each turn below is written there
the way Rasa writes it, and the gateway's after-turn step removes the health words, so the
scan over every table of the database covers the stored conversation too.
"""

from __future__ import annotations

import json
import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, MetaData, Table, inspect, or_, select
from sqlalchemy.sql.elements import ColumnElement

from actions.consent import ActionRecordConsent
from actions.intake import ActionSaveProfile, ValidateIntakeForm
from actions.keep_going import ActionStoreSuccess, ActionStoreVolunteered
from actions.profile import ActionUpdateProfile
from bot.data_rights import DataRights
from core.db import session_scope
from core.privacy import mentions_health
from store.conversation import EVENTS
from store.models import Base
from store.profiles import find_job_seeker, split_sender
from tests.support.actions import (
    domain,
    entity,
    export,
    form_step,
    load_tracker,
    new_sender,
    responses,
)
from tests.support.helpers import stored_text

DIAGNOSES = ("borstkanker", "burn-out", "chemo")
LIST_SLOTS = {"talents", "development_points", "pathways", "support_needs"}

# Per question: first an answer that is only about a diagnosis (nothing is kept), then one that
# also holds a practical answer (only that part is kept).
ANSWERS: list[tuple[str, str, str]] = [
    ("first_name", "ik heb borstkanker gehad", "Anna, ik had borstkanker"),
    ("talents", "dat leerde ik tijdens de chemo", "doorzetten, dat leerde ik tijdens de chemo"),
    ("development_points", "na mijn burn-out", "na mijn burn-out, wil ik leren plannen"),
    ("work_wish", "na de borstkanker", "iets met administratie, na de borstkanker"),
    ("hours", "door de chemokuur niet veel", "20 uur, door de chemokuur niet meer"),
    ("place", "bij het ziekenhuis van de chemo", "Leiden, bij het ziekenhuis van de chemo"),
    (
        "max_travel",
        "sinds de burn-out rijd ik niet",
        "een kwartier, sinds de burn-out rijd ik niet",
    ),
    ("pathways", "na mijn burn-out", "leren en werken, want na mijn burn-out"),
    ("start", "als de chemo klaar is", "over drie maanden, als de chemo klaar is"),
    ("support_needs", "vanwege mijn burn-out", "rustige plek, vanwege mijn burn-out"),
    (
        "contact_preference",
        "sinds de borstkanker lastig",
        "mail, bellen is lastig sinds de borstkanker",
    ),
]


def database_tables(engine: Engine) -> list[str]:
    """Every table in the database, ours and those of Rasa and APScheduler alike."""
    return sorted(inspect(engine).get_table_names())


def occurrences(engine: Engine, seeker_id: int, sender_id: str, word: str) -> dict[str, int]:
    """Per table.column of every table, how many of the person's rows contain `word` (any case).

    The person's rows: their `job_seekers` row, rows with their `job_seeker_id` (and rows that
    carry none, such as a notice to a recruiter), rows with their `sender_id`; a table with
    none of these columns is searched whole.
    """
    counts: dict[str, int] = {}
    with engine.connect() as connection:
        for name in database_tables(engine):
            table = Table(name, MetaData(), autoload_with=connection)
            condition: ColumnElement[bool] | None = None
            if name == "job_seekers":
                condition = table.c.id == seeker_id
            elif "job_seeker_id" in table.c:
                owner = table.c.job_seeker_id
                condition = or_(owner == seeker_id, owner.is_(None))
            elif "sender_id" in table.c:
                condition = table.c.sender_id == sender_id
            query = select(table) if condition is None else select(table).where(condition)
            rows = connection.execute(query).mappings().all()
            for column in table.c:
                counts[f"{name}.{column.name}"] = sum(
                    1
                    for row in rows
                    if row[column.name] is not None
                    and word in stored_text(row[column.name]).lower()
                )
    return counts


async def record_turn(
    database_url: str,
    tracker: Tracker,
    returned: list[dict[str, Any]],
    dispatcher: CollectingDispatcher,
) -> None:
    """Write the turn to Rasa's tracker store as Rasa does, then run the gateway's after-turn.

    The turn's events: the latest user message and what followed it in the tracker (a form's
    slot filling), the events the action returned, and the bot's replies.
    """
    started = time.time()
    events = list(tracker.events)
    last_user = max(i for i, event in enumerate(events) if event["event"] == "user")
    turn = [*events[last_user:], *returned]
    turn += [
        {"event": "bot", "text": message.get("response") or message.get("text"), "data": {}}
        for message in dispatcher.messages
    ]
    rows = []
    for event in turn:
        stored = {**event, "timestamp": time.time()}
        intent = (stored.get("parse_data") or {}).get("intent") or {}
        rows.append(
            {
                "sender_id": tracker.sender_id,
                "type_name": stored["event"],
                "timestamp": stored["timestamp"],
                "intent_name": intent.get("name") if stored["event"] == "user" else None,
                "action_name": stored.get("name"),  # Rasa stores any event's `name` here
                "data": json.dumps(stored),
            }
        )
    rights = DataRights(database_url)
    with session_scope(rights.engine) as session:
        session.connection().execute(EVENTS.insert(), rows)
    message = tracker.latest_message.get("text") or ""
    await rights.after_turn(tracker.sender_id, message, started, [])


async def run_intake(database_url: str, sender_id: str) -> dict[str, Any]:
    """Answer every question, first with only a diagnosis, then with a diagnosis and a
    practical answer; the slots at the end."""
    slots: dict[str, Any] = {"language": "nl", "consent_profile": True}
    for slot, only_diagnosis, with_answer in ANSWERS:
        for answer, kept in ((only_diagnosis, False), (with_answer, True)):
            value = [answer] if slot in LIST_SLOTS else answer
            dispatcher = CollectingDispatcher()
            tracker = form_step(slot, value, sender_id=sender_id, slots=slots)
            events = await ValidateIntakeForm().run(dispatcher, tracker, domain())
            await record_turn(database_url, tracker, events, dispatcher)
            set_slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
            if kept:
                assert set_slots[slot] not in (None, "", []), (slot, answer)
                assert not any(map(mentions_health, map(str, set_slots.values()))), set_slots
                assert responses(dispatcher) == ["utter_health_left_out"]
                slots.update(set_slots)
            else:
                assert events == [SlotSet(slot, None)], (slot, answer)
                assert responses(dispatcher) == ["utter_health_not_stored"]
    return slots


async def test_a_diagnosis_is_stored_nowhere(store_database: Engine, database_url: str) -> None:
    # Rasa creates its tracker-store table on start; here the test stands in for Rasa.
    EVENTS.create(store_database, checkfirst=True)
    sender_id = new_sender()
    consent = load_tracker("consent_affirm", sender_id=sender_id)
    dispatcher = CollectingDispatcher()
    returned = await ActionRecordConsent().run(dispatcher, consent, domain())
    await record_turn(database_url, consent, returned, dispatcher)

    slots = await run_intake(database_url, sender_id)
    save = load_tracker("save_profile", sender_id=sender_id, slots=slots)
    dispatcher = CollectingDispatcher()
    returned = await ActionSaveProfile().run(dispatcher, save, domain())
    await record_turn(database_url, save, returned, dispatcher)

    actions: dict[str, Action] = {
        "share_success": ActionStoreSuccess(),
        "share_talent": ActionStoreVolunteered(),
        "share_development_point": ActionStoreVolunteered(),
        "update_profile": ActionUpdateProfile(),
    }
    # intent, text, entities, the response the action gives
    after_intake: list[tuple[str, str, list[dict[str, Any]], str]] = [
        ("share_success", "na mijn chemo heb ik weer gewerkt", [], "utter_celebrate_not_stored"),
        ("share_success", "ik heb een sollicitatiegesprek gehad", [], "utter_celebrate"),
        (
            "share_talent",
            "ik ben goed in plannen, dat leerde ik tijdens de borstkanker",
            [entity("skill", "plannen")],
            "utter_health_not_stored",
        ),
        (
            "share_development_point",
            "na mijn burn-out wil ik leren timemanagen",
            [],
            "utter_health_not_stored",
        ),
        (
            "update_profile",
            "door de burn-out wil ik maar 16 uur",
            [entity("hours", "16")],
            "utter_health_not_stored",
        ),
        (
            "update_profile",
            "door de chemo woon ik nu in Delft",
            [entity("place", "Delft")],
            "utter_health_not_stored",
        ),
    ]
    for intent, text, entities, response in after_intake:
        dispatcher = CollectingDispatcher()
        tracker = load_tracker(
            "share_talent", sender_id=sender_id, intent=intent, text=text, entities=entities
        )
        returned = await actions[intent].run(dispatcher, tracker, domain())
        assert responses(dispatcher) == [response], text
        await record_turn(database_url, tracker, returned, dispatcher)

    # What could be kept was kept: the check below looks at real rows.
    stored = export(store_database, sender_id)
    assert stored["profile"] == {
        "name": "Anna",
        "talents": ["doorzetten"],
        "development_points": ["wil ik leren plannen"],
        "roles": [],
        "sectors": ["administratie"],
        "place": "Leiden",
        "max_travel_minutes": 15,
        "hours_min": 20,
        "hours_max": 20,
        "pathways": ["learn_work_track"],
        "start": "over drie maanden",
        "support_needs": ["rustige plek"],
        "contact_preference": "mail",
    }
    assert [m["text"] for m in stored["success_moments"]] == [
        "ik heb een sollicitatiegesprek gehad"
    ]

    channel, user_id = split_sender(sender_id)
    with session_scope(store_database) as session:
        seeker = find_job_seeker(session=session, channel=channel, channel_user_id=user_id)
        assert seeker is not None
        seeker_id = seeker.id
    # The query does find text that is there, so zero below means absent.
    assert occurrences(store_database, seeker_id, sender_id, "anna")["profiles.name"] == 1
    found = occurrences(store_database, seeker_id, sender_id, "sollicitatie")
    assert found["success_moments.text"] == 1
    assert found["events.data"] >= 1  # the message itself, in Rasa's tracker store
    # The conversation is there, only without the health words.
    assert occurrences(store_database, seeker_id, sender_id, "[…]")["events.data"] >= len(ANSWERS)
    # Every table of the database is searched: ours, Rasa's and any added later.
    tables = {key.split(".")[0] for key in occurrences(store_database, seeker_id, sender_id, "x")}
    assert tables == set(database_tables(store_database))
    assert tables >= set(Base.metadata.tables) | {"events"}
    for word in DIAGNOSES:
        found = occurrences(store_database, seeker_id, sender_id, word)
        assert found and not any(found.values()), (word, {k: v for k, v in found.items() if v})
