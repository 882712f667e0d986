"""Data rights in the chat: the export and delete commands for the gateway, and withdrawals."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, AllSlotsReset, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, select

from actions.data_rights import (
    ActionDataExport,
    ActionDeleteData,
    ActionWithdrawConsent,
    purpose_in_words,
)
from core.db import session_scope
from store.models import Handover, NudgeSettings, OutboxMessage, Recruiter
from store.profiles import find_job_seeker, split_sender
from tests.support.actions import (
    button_payloads,
    domain,
    entity,
    export,
    load_tracker,
    new_sender,
    row_counts,
    seed_profile,
    seeker_exists,
    store_decisions,
)


def said(dispatcher: CollectingDispatcher) -> list[str]:
    """The responses an action dispatched (not its commands), each checked to exist."""
    names = [str(m["response"]) for m in dispatcher.messages if m.get("response")]
    missing = [name for name in names if name not in domain()["responses"]]
    assert not missing, f"responses not in the domain: {missing}"
    return names


def commands(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    """The custom payloads an action dispatched for the gateway."""
    return [dict(m["custom"]) for m in dispatcher.messages if m.get("custom")]


def text_of(response: str, language: str) -> str:
    """The response's text as Rasa renders it with the `language` slot set to `language`."""
    variations = domain()["responses"][response]
    english = [v for v in variations if v.get("condition")]
    dutch = [v for v in variations if not v.get("condition")]
    return str((english if language == "en" else dutch)[0]["text"])


def tracker_for(
    sender_id: str,
    text: str,
    *,
    intent: str = "withdraw_consent",
    language: str = "nl",
    entities: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A conversation outside the intake whose latest message is `text`."""
    return load_tracker(
        "share_success",
        sender_id=sender_id,
        text=text,
        intent=intent,
        entities=entities or [],
        slots={"language": language},
    )


def consents(engine: Engine, sender_id: str) -> list[tuple[str, bool]]:
    """The sender's consent decisions, oldest first."""
    return [(c["purpose"], c["given"]) for c in export(engine, sender_id)["consents"]]


def add_open_handover(engine: Engine, sender_id: str) -> int:
    """A delivered handover to a recruiter on Telegram; its id."""
    channel, user_id = split_sender(sender_id)
    with session_scope(engine) as session:
        seeker = find_job_seeker(session=session, channel=channel, channel_user_id=user_id)
        assert seeker is not None
        recruiter = Recruiter(
            name="Rita", organisation="Zorg BV", languages=["nl"], telegram_chat_id="4242"
        )
        handover = Handover(
            job_seeker=seeker, recruiter=recruiter, status="delivered", summary="Anna, plannen"
        )
        session.add_all([recruiter, handover])
        session.flush()
        return handover.id


def set_nudges(engine: Engine, sender_id: str, frequency: str) -> None:
    channel, user_id = split_sender(sender_id)
    with session_scope(engine) as session:
        seeker = find_job_seeker(session=session, channel=channel, channel_user_id=user_id)
        assert seeker is not None
        session.add(NudgeSettings(job_seeker_id=seeker.id, frequency=frequency))


def nudge_frequency(engine: Engine, sender_id: str) -> str | None:
    nudges: dict[str, Any] | None = export(engine, sender_id)["nudges"]
    return None if nudges is None else nudges["frequency"]


# --- ActionDataExport -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "opening"),
    [("nl", "Hier is een kopie van alles"), ("en", "Here is a copy of everything")],
)
async def test_an_export_is_announced_and_asked_of_the_gateway(
    store_database: Engine, language: str, opening: str
) -> None:
    sender_id = new_sender()
    seed_profile(store_database, sender_id, {"name": "Anna"})
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(sender_id, "stuur me mijn gegevens", intent="request_data_export")
    tracker.slots["language"] = language

    events = await ActionDataExport().run(dispatcher, tracker, domain())

    assert events == []
    assert said(dispatcher) == ["utter_export_ready"]
    assert text_of("utter_export_ready", language).startswith(opening)
    assert commands(dispatcher) == [{"werkmaatje": {"command": "export", "language": language}}]
    # The announcement comes first, the file (the command) after it.
    assert dispatcher.messages[0]["response"] == "utter_export_ready"


@pytest.mark.parametrize("decisions", [[], [False]], ids=["unknown", "declined"])
async def test_an_export_without_a_profile_says_so_and_sends_no_command(
    store_database: Engine, decisions: list[bool]
) -> None:
    sender_id = new_sender()
    if decisions:
        store_decisions(store_database, sender_id, decisions)
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(sender_id, "download my data", intent="request_data_export")

    await ActionDataExport().run(dispatcher, tracker, domain())

    assert said(dispatcher) == ["utter_export_nothing_stored"]
    assert commands(dispatcher) == []


async def test_an_export_without_a_database_apologises(no_database: None) -> None:
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(new_sender(), "stuur mijn data", intent="request_data_export")

    await ActionDataExport().run(dispatcher, tracker, domain())

    assert said(dispatcher) == ["utter_data_unavailable"]
    assert commands(dispatcher) == []


# --- ActionDeleteData -------------------------------------------------------------------


@pytest.mark.parametrize("language", ["nl", "en"])
async def test_a_deletion_sends_only_the_command_and_starts_afresh(
    store_database: Engine, language: str
) -> None:
    sender_id = new_sender()
    seed_profile(store_database, sender_id, {"name": "Anna"})
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(sender_id, "ja", intent="affirm", language=language)

    events = await ActionDeleteData().run(dispatcher, tracker, domain())

    assert len(dispatcher.messages) == 1
    assert not dispatcher.messages[0].get("text") and not dispatcher.messages[0].get("response")
    assert commands(dispatcher) == [{"werkmaatje": {"command": "delete", "language": language}}]
    assert events == [AllSlotsReset(), SlotSet("language", language), ActiveLoop(None)]
    # The gateway deletes after the turn; the action itself deletes nothing.
    assert seeker_exists(store_database, sender_id)


async def test_a_deletion_during_the_intake_ends_the_form() -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("intake_first_name", text="ja", intent="affirm")
    assert tracker.active_loop_name == "intake_form"

    events = await ActionDeleteData().run(dispatcher, tracker, domain())

    assert ActiveLoop(None) in events
    assert AllSlotsReset() in events
    assert commands(dispatcher) == [{"werkmaatje": {"command": "delete", "language": "nl"}}]


async def test_a_deletion_for_someone_without_consent_still_asks_the_gateway() -> None:
    # Their conversation is stored in the tracker store, so the gateway still removes it.
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(new_sender("web"), "yes", intent="affirm", language="en")

    await ActionDeleteData().run(dispatcher, tracker, domain())

    assert commands(dispatcher) == [{"werkmaatje": {"command": "delete", "language": "en"}}]


# --- which consent the words name -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "purpose"),
    [
        ("ik geef geen toestemming meer voor de berichtjes", "nudges"),
        ("ik wil mijn toestemming voor de herinneringen intrekken", "nudges"),
        ("withdraw consent for the reminders", "nudges"),
        ("ik wil niet meer dat je mijn gegevens deelt met een recruiter", "share_with_recruiter"),
        ("je mag mijn gegevens niet meer doorgeven", "share_with_recruiter"),
        ("stop sharing my details with recruiters", "share_with_recruiter"),
        ("deel mijn ondersteuning niet meer met de recruiter", "support_needs"),
        ("ik wil niet dat mijn aanpassingen gedeeld worden", "support_needs"),
        ("stop sharing my support needs", "support_needs"),
        ("je mag mijn profiel niet meer bewaren", "profile"),
        ("ik wil niet meer dat je mijn gegevens opslaat", "profile"),
        ("you may not store my profile anymore", "profile"),
        ("ik trek mijn toestemming in", None),
        ("I withdraw my consent", None),
    ],
)
def test_the_words_name_the_consent(text: str, purpose: str | None) -> None:
    assert purpose_in_words(text) == purpose


# --- ActionWithdrawConsent --------------------------------------------------------------


async def test_withdrawing_the_nudges_consent_turns_the_nudges_off(store_database: Engine) -> None:
    sender_id = new_sender()
    seed_profile(store_database, sender_id, {"name": "Anna"})
    set_nudges(store_database, sender_id, "weekly")
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(sender_id, "ik geef geen toestemming meer voor de berichtjes")

    events = await ActionWithdrawConsent().run(dispatcher, tracker, domain())

    assert events == [SlotSet("consent_purpose", "nudges")]
    assert said(dispatcher) == ["utter_consent_withdrawn_nudges"]
    assert consents(store_database, sender_id) == [("profile", True), ("nudges", False)]
    assert nudge_frequency(store_database, sender_id) == "off"


async def test_withdrawing_nudges_without_settings_stores_them_off(store_database: Engine) -> None:
    sender_id = new_sender()
    seed_profile(store_database, sender_id, {"name": "Anna"})
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(sender_id, "no more consent for reminders", language="en")

    await ActionWithdrawConsent().run(dispatcher, tracker, domain())

    assert said(dispatcher) == ["utter_consent_withdrawn_nudges"]
    assert text_of("utter_consent_withdrawn_nudges", "en").startswith("Done: I won't send")
    assert nudge_frequency(store_database, sender_id) == "off"


async def test_withdrawing_the_share_consent_closes_an_open_handover(
    store_database: Engine,
) -> None:
    sender_id = new_sender()
    seed_profile(store_database, sender_id, {"name": "Anna"})
    handover_id = add_open_handover(store_database, sender_id)
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(sender_id, "stop sharing my details with recruiters", language="en")

    events = await ActionWithdrawConsent().run(dispatcher, tracker, domain())

    assert events == [SlotSet("consent_purpose", "share_with_recruiter")]
    assert said(dispatcher) == ["utter_consent_withdrawn_share_with_recruiter"]
    assert consents(store_database, sender_id) == [
        ("profile", True),
        ("share_with_recruiter", False),
    ]
    with session_scope(store_database) as session:
        handover = session.get(Handover, handover_id)
        assert handover is not None
        assert handover.status == "closed"
        assert handover.closed_at is not None
        notices = session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == "4242")
        ).all()
        assert [n.payload["text"] for n in notices] == [
            f"Kandidaat heeft zich teruggetrokken (overdracht #{handover_id})."
        ]
    # The profile itself stays.
    assert export(store_database, sender_id)["profile"]["name"] == "Anna"


async def test_withdrawing_the_support_consent_keeps_the_support_needs(
    store_database: Engine,
) -> None:
    sender_id = new_sender()
    seed_profile(store_database, sender_id, {"support_need": ["een jobcoach"]})
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(sender_id, "deel mijn ondersteuning niet meer met de recruiter")

    events = await ActionWithdrawConsent().run(dispatcher, tracker, domain())

    assert events == [SlotSet("consent_purpose", "support_needs")]
    assert said(dispatcher) == ["utter_consent_withdrawn_support_needs"]
    assert text_of("utter_consent_withdrawn_support_needs", "nl").startswith("Klaar: wat je")
    assert consents(store_database, sender_id) == [("profile", True), ("support_needs", False)]
    assert export(store_database, sender_id)["profile"]["support_needs"] == ["een jobcoach"]


async def test_withdrawing_the_profile_consent_leads_to_the_deletion_question(
    store_database: Engine,
) -> None:
    sender_id = new_sender()
    seed_profile(store_database, sender_id, {"name": "Anna"})
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(sender_id, "je mag mijn profiel niet meer bewaren")

    events = await ActionWithdrawConsent().run(dispatcher, tracker, domain())

    # The rule on this slot asks utter_ask_delete_data; nothing is withdrawn or deleted yet.
    assert events == [SlotSet("consent_purpose", "profile")]
    assert said(dispatcher) == ["utter_withdraw_profile_means_deletion"]
    assert commands(dispatcher) == []
    assert consents(store_database, sender_id) == [("profile", True)]
    assert seeker_exists(store_database, sender_id)


@pytest.mark.parametrize("purpose", ["nudges", "share_with_recruiter", "support_needs", "profile"])
async def test_a_button_names_the_consent_whatever_the_words(
    store_database: Engine, purpose: str
) -> None:
    sender_id = new_sender()
    seed_profile(store_database, sender_id, {"name": "Anna"})
    dispatcher = CollectingDispatcher()
    payload = f'/withdraw_consent{{"consent_purpose":"{purpose}"}}'
    tracker = tracker_for(sender_id, payload, entities=[entity("consent_purpose", purpose)])

    events = await ActionWithdrawConsent().run(dispatcher, tracker, domain())

    assert events == [SlotSet("consent_purpose", purpose)]
    expected = (
        [("profile", True)] if purpose == "profile" else [("profile", True), (purpose, False)]
    )
    assert consents(store_database, sender_id) == expected


@pytest.mark.parametrize("text", ["ik trek mijn toestemming in", "I withdraw my consent"])
async def test_an_unclear_withdrawal_asks_which_consent(store_database: Engine, text: str) -> None:
    sender_id = new_sender()
    seed_profile(store_database, sender_id, {"name": "Anna"})
    before = row_counts(store_database)
    dispatcher = CollectingDispatcher()

    events = await ActionWithdrawConsent().run(dispatcher, tracker_for(sender_id, text), domain())

    assert events == [SlotSet("consent_purpose", None)]
    assert said(dispatcher) == ["utter_ask_consent_purpose"]
    for language in ("nl", "en"):
        (variation,) = [
            v
            for v in domain()["responses"]["utter_ask_consent_purpose"]
            if bool(v.get("condition")) == (language == "en")
        ]
        payloads = button_payloads(variation)
        assert payloads == [
            f'/withdraw_consent{{"consent_purpose":"{purpose}"}}'
            for purpose in ("nudges", "share_with_recruiter", "support_needs", "profile")
        ]
    assert row_counts(store_database) == before


@pytest.mark.parametrize("decisions", [[], [True, False]], ids=["unknown", "withdrawn"])
async def test_a_withdrawal_without_a_profile_gets_an_honest_answer(
    store_database: Engine, decisions: list[bool]
) -> None:
    sender_id = new_sender()
    if decisions:
        store_decisions(store_database, sender_id, decisions)
    before = row_counts(store_database)
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(sender_id, "stop sharing my data with recruiters", language="en")

    events = await ActionWithdrawConsent().run(dispatcher, tracker, domain())

    assert events == [SlotSet("consent_purpose", None)]
    assert said(dispatcher) == ["utter_withdraw_nothing_stored"]
    assert text_of("utter_withdraw_nothing_stored", "en").startswith("I haven't stored a profile")
    assert row_counts(store_database) == before


async def test_a_withdrawal_without_a_database_apologises(no_database: None) -> None:
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(new_sender(), "ik geef geen toestemming meer voor de berichtjes")

    events = await ActionWithdrawConsent().run(dispatcher, tracker, domain())

    assert events == [SlotSet("consent_purpose", None)]
    assert said(dispatcher) == ["utter_data_unavailable"]
    assert commands(dispatcher) == []
