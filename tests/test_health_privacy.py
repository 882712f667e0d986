"""A volunteered diagnosis ends up nowhere in the database, whatever path it takes."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, String, Table, func, select
from sqlalchemy.sql.elements import ColumnElement

from actions.consent import ActionRecordConsent
from actions.intake import ActionSaveProfile, ValidateIntakeForm
from actions.keep_going import ActionStoreSuccess, ActionStoreVolunteered
from actions.profile import ActionUpdateProfile
from store.db import session_scope
from store.models import Base, JobSeeker
from store.profiles import split_sender
from tests.action_support import (
    domain,
    entity,
    export,
    form_step,
    load_tracker,
    new_sender,
    responses,
)

DIAGNOSES = ("borstkanker", "burn-out", "chemo")
TABLES = ("job_seekers", "consents", "profiles", "profile_items", "success_moments")
LIST_SLOTS = {"talents", "development_points", "pathways", "support_needs"}

# Per question: first an answer that mentions a diagnosis, then the rephrased answer.
ANSWERS: list[tuple[str, str, str]] = [
    ("first_name", "Anna, ik heb borstkanker gehad", "Anna"),
    ("talents", "doorzetten, dat leerde ik tijdens de chemo", "doorzetten, plannen"),
    ("development_points", "na mijn burn-out wil ik leren plannen", "plannen"),
    ("work_wish", "iets rustigs na de borstkanker", "iets met administratie"),
    ("hours", "20 uur, door de chemokuur niet meer", "20 uur"),
    ("place", "Leiden, bij het ziekenhuis waar ik chemo kreeg", "Leiden"),
    ("max_travel", "een kwartier, sinds de burn-out rijd ik niet", "een kwartier"),
    ("pathways", "leren en werken, want na mijn burn-out", "leren en werken"),
    ("start", "als de chemo klaar is", "over drie maanden"),
    ("support_needs", "rustige plek vanwege mijn burn-out", "een rustige werkplek"),
    ("contact_preference", "mail, bellen is lastig sinds de borstkanker", "mail"),
]


def text_columns() -> dict[str, list[str]]:
    """Every string or text column of the five project tables."""
    columns: dict[str, list[str]] = {}
    for name in TABLES:
        table = Base.metadata.tables[name]
        assert isinstance(table, Table)
        columns[name] = [c.name for c in table.columns if isinstance(c.type, String)]
    return columns


def occurrences(engine: Engine, seeker_id: int, word: str) -> dict[str, int]:
    """Per table.column, how many of the seeker's rows contain `word` (any case)."""
    counts: dict[str, int] = {}
    with session_scope(engine) as session:
        for name, columns in text_columns().items():
            table = Base.metadata.tables[name]
            owner = table.c.id if name == "job_seekers" else table.c.job_seeker_id
            for column in columns:
                condition: ColumnElement[bool] = func.lower(table.c[column]).contains(word)
                query = select(func.count()).select_from(table).where(owner == seeker_id)
                counts[f"{name}.{column}"] = session.scalar(query.where(condition)) or 0
    return counts


async def run_intake(sender_id: str) -> dict[str, Any]:
    """Answer every question, first with a diagnosis and then without; the slots at the end."""
    slots: dict[str, Any] = {"language": "nl", "consent_profile": True}
    for slot, with_diagnosis, rephrased in ANSWERS:
        for answer, kept in ((with_diagnosis, False), (rephrased, True)):
            value = [answer] if slot in LIST_SLOTS else answer
            dispatcher = CollectingDispatcher()
            tracker = form_step(slot, value, sender_id=sender_id, slots=slots)
            events = await ValidateIntakeForm().run(dispatcher, tracker, domain())
            set_slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
            if kept:
                assert set_slots[slot] not in (None, "", []), (slot, answer)
                assert dispatcher.messages == []
                slots.update(set_slots)
            else:
                assert events == [SlotSet(slot, None)], (slot, answer)
                assert responses(dispatcher) == ["utter_health_not_stored"]
    return slots


async def test_a_diagnosis_is_stored_nowhere(store_database: Engine) -> None:
    sender_id = new_sender()
    consent = load_tracker("consent_affirm", sender_id=sender_id)
    await ActionRecordConsent().run(CollectingDispatcher(), consent, domain())

    slots = await run_intake(sender_id)
    save = load_tracker("save_profile", sender_id=sender_id, slots=slots)
    await ActionSaveProfile().run(CollectingDispatcher(), save, domain())

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
        await actions[intent].run(dispatcher, tracker, domain())
        assert responses(dispatcher) == [response], text

    # What could be kept was kept: the check below looks at real rows.
    stored = export(store_database, sender_id)
    assert stored["profile"] == {
        "name": "Anna",
        "talents": ["doorzetten", "plannen"],
        "development_points": ["plannen"],
        "roles": ["iets met administratie"],
        "sectors": [],
        "place": "Leiden",
        "max_travel_minutes": 15,
        "hours_min": 20,
        "hours_max": 20,
        "pathways": ["learn_work_track"],
        "start": "over drie maanden",
        "support_needs": ["een rustige werkplek"],
        "contact_preference": "mail",
    }
    assert [m["text"] for m in stored["success_moments"]] == [
        "ik heb een sollicitatiegesprek gehad"
    ]

    channel, user_id = split_sender(sender_id)
    with session_scope(store_database) as session:
        seeker_id = session.scalars(
            select(JobSeeker.id).where(
                JobSeeker.channel == channel, JobSeeker.channel_user_id == user_id
            )
        ).one()
    # The query does find text that is there, so zero below means absent.
    assert occurrences(store_database, seeker_id, "anna")["profiles.name"] == 1
    assert occurrences(store_database, seeker_id, "sollicitatie")["success_moments.text"] == 1
    assert set(text_columns()) == set(TABLES)
    for word in DIAGNOSES:
        found = occurrences(store_database, seeker_id, word)
        assert found and not any(found.values()), (word, found)
