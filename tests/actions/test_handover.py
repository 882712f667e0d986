"""Asking for a recruiter in the chat: the questions, the consents and the handover itself."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, func, select

import store.handovers
from actions.handover import ActionHandoverStatus, ActionRequestRecruiter, contact_days
from actions.intake import ActionSaveProfile, ValidateIntakeForm
from core.db import session_scope
from core.texts import phrase
from store.handovers import status_text
from store.models import Handover, OutboxMessage
from store.profiles import complete_profile, confirm_profile, find_job_seeker, split_sender
from store.recruiters import add_recruiter
from tests.support.actions import (
    domain,
    export,
    form_step,
    load_tracker,
    new_sender,
    seed_profile,
    store_decisions,
)

SHARE = "share_with_recruiter"

# --- helpers ----------------------------------------------------------------------------


def tracker_for(
    sender_id: str,
    intent: str,
    *,
    question: str | None = None,
    language: str = "nl",
    consent: bool | None = True,
    text: str | None = None,
) -> Tracker:
    """A conversation outside the intake whose latest message has `intent`."""
    tracker = load_tracker(
        "share_success",
        sender_id=sender_id,
        text=text or f"/{intent}",
        intent=intent,
        entities=[],
        slots={"language": language, "consent_profile": consent},
    )
    tracker.slots["handover_question"] = question
    return tracker


def said(dispatcher: CollectingDispatcher) -> list[str]:
    """The responses an action dispatched, each checked to exist in the domain."""
    names = [str(m["response"]) for m in dispatcher.messages if m.get("response")]
    missing = [name for name in names if name not in domain()["responses"]]
    assert not missing, f"responses not in the domain: {missing}"
    return names


def rendered(dispatcher: CollectingDispatcher, language: str) -> list[str]:
    """The texts as Rasa fills them in; fails when a response's variable was not given."""
    texts = []
    for message in dispatcher.messages:
        variations = domain()["responses"][message["response"]]
        (variation,) = [v for v in variations if bool(v.get("condition")) == (language == "en")]
        template = str(variation["text"])
        names = set(re.findall(r"{(\w+)}", template))
        missing = names - set(message)
        assert not missing, f"{message['response']} needs {sorted(missing)}"
        texts.append(template.format(**{name: message[name] for name in names}))
    return texts


async def run(
    tracker: Tracker, action: ActionRequestRecruiter | ActionHandoverStatus | None = None
) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await (action or ActionRequestRecruiter()).run(dispatcher, tracker, domain())
    return events, dispatcher


def unique_place() -> str:
    """A place nobody else in the shared test database lives in or covers."""
    return f"Testdorp{uuid.uuid4().hex[:10]}"


def seed_ready_profile(
    engine: Engine, sender_id: str, *, place: str, support: list[str] | None = None
) -> None:
    """A job seeker with profile consent who finished the intake."""
    seed_profile(
        engine,
        sender_id,
        {
            "name": "Anna",
            "place": place,
            "talent": ["plannen"],
            "sector": ["zorg"],
            "support_need": support or [],
        },
    )
    channel, user_id = split_sender(sender_id)
    with session_scope(engine) as session:
        seeker = find_job_seeker(session=session, channel=channel, channel_user_id=user_id)
        assert seeker is not None
        complete_profile(session=session, job_seeker=seeker)


def add_routed_recruiter(engine: Engine, place: str) -> tuple[int, str]:
    """A recruiter for `place` on Telegram and e-mail; their id and chat id."""
    chat_id = str(uuid.uuid4().int)[:15]
    with session_scope(engine) as session:
        recruiter = add_recruiter(
            session=session,
            name="Sanne de Vries",
            organisation="Werkbrug",
            regions=[place],
            sectors=["zorg"],
            telegram_chat_id=chat_id,
            email=f"sanne.{chat_id}@werkbrug.nl",
        )
        return recruiter.id, chat_id


def handovers(engine: Engine, sender_id: str) -> list[Handover]:
    """The sender's handovers, oldest first."""
    channel, user_id = split_sender(sender_id)
    with session_scope(engine) as session:
        seeker = find_job_seeker(session=session, channel=channel, channel_user_id=user_id)
        if seeker is None:
            return []
        found = list(
            session.scalars(
                select(Handover).where(Handover.job_seeker_id == seeker.id).order_by(Handover.id)
            ).all()
        )
        session.expunge_all()
        return found


def consents(engine: Engine, sender_id: str) -> list[tuple[str, bool]]:
    """The sender's consent decisions, oldest first."""
    return [(c["purpose"], c["given"]) for c in export(engine, sender_id)["consents"]]


def outbox_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def current_status(engine: Engine, sender_id: str, language: str) -> str | None:
    """What status_text says about the sender's open handover."""
    channel, user_id = split_sender(sender_id)
    with session_scope(engine) as session:
        seeker = find_job_seeker(session=session, channel=channel, channel_user_id=user_id)
        assert seeker is not None
        return status_text(
            store.handovers.open_handover(seeker, session=session), language, contact_days()
        )


async def with_a_handover(engine: Engine) -> str:
    """A new person with a ready profile, a recruiter for their place and a handover to them."""
    sender_id = new_sender()
    place = unique_place()
    seed_ready_profile(engine, sender_id, place=place)
    add_routed_recruiter(engine, place)
    await share_and_create(sender_id)
    return sender_id


async def share_and_create(sender_id: str, language: str = "nl") -> CollectingDispatcher:
    """Ask for a recruiter and say yes to sharing (the profile has no support needs)."""
    events, dispatcher = await run(tracker_for(sender_id, "request_recruiter", language=language))
    assert events == [SlotSet("handover_question", "share_with_recruiter")]
    events, dispatcher = await run(
        tracker_for(sender_id, "affirm", question="share_with_recruiter", language=language)
    )
    assert events == [SlotSet("handover_question", None)]
    return dispatcher


# --- a request without a finished profile -----------------------------------------------


@pytest.mark.parametrize("decisions", [[], [False]], ids=["unknown", "declined"])
async def test_a_request_without_a_profile_offers_to_make_one(
    store_database: Engine, decisions: list[bool]
) -> None:
    sender_id = new_sender()
    if decisions:
        store_decisions(store_database, sender_id, decisions)

    events, dispatcher = await run(tracker_for(sender_id, "request_recruiter", consent=None))

    assert events == [SlotSet("handover_question", "finish_profile")]
    assert said(dispatcher) == ["utter_handover_needs_profile"]
    assert handovers(store_database, sender_id) == []
    variations = domain()["responses"]["utter_handover_needs_profile"]
    for variation in variations:
        assert [b["payload"] for b in variation["buttons"]] == ["/start_intake", "/deny"]


@pytest.mark.parametrize("intent", ["request_recruiter", "request_human", "affirm"])
async def test_a_request_with_an_unfinished_profile_offers_to_finish_it(
    store_database: Engine, intent: str
) -> None:
    sender_id = new_sender()
    seed_profile(store_database, sender_id, {"name": "Anna", "talent": ["plannen"]})

    events, dispatcher = await run(tracker_for(sender_id, intent))

    assert events == [SlotSet("handover_question", "finish_profile")]
    assert said(dispatcher) == ["utter_handover_needs_profile"]
    assert rendered(dispatcher, "nl")[0].startswith("Goed dat je het vraagt! Daarvoor is eerst")
    assert handovers(store_database, sender_id) == []


async def test_yes_to_finishing_the_profile_goes_on_with_the_intake() -> None:
    tracker = tracker_for(new_sender(), "affirm", question="finish_profile", consent=True)

    events, dispatcher = await run(tracker)

    assert events == [SlotSet("handover_question", None), FollowupAction("intake_form")]
    assert dispatcher.messages == []


@pytest.mark.parametrize("consent", [None, False])
async def test_yes_to_making_a_profile_without_consent_asks_for_it(consent: bool | None) -> None:
    tracker = tracker_for(new_sender(), "affirm", question="finish_profile", consent=consent)

    events, dispatcher = await run(tracker)

    # The rule after it welcomes and asks for the consent (stories/rules/handover.yml).
    assert events == [SlotSet("handover_question", None)]
    assert dispatcher.messages == []


async def test_no_to_finishing_the_profile_is_fine(store_database: Engine) -> None:
    sender_id = new_sender()
    tracker = tracker_for(sender_id, "deny", question="finish_profile", consent=None)

    events, dispatcher = await run(tracker)

    assert events == [SlotSet("handover_question", None)]
    assert said(dispatcher) == ["utter_ok"]
    assert handovers(store_database, sender_id) == []


async def test_a_finished_intake_completes_the_profile(store_database: Engine) -> None:
    sender_id = new_sender()
    await ActionSaveProfile().run(
        CollectingDispatcher(), load_tracker("save_profile", sender_id=sender_id), domain()
    )
    channel, user_id = split_sender(sender_id)
    with session_scope(store_database) as session:
        seeker = find_job_seeker(session=session, channel=channel, channel_user_id=user_id)
        assert seeker is not None and seeker.profile is not None
        assert seeker.profile.completed_at is not None
        assert seeker.profile.confirmed_at is None

    events, dispatcher = await run(tracker_for(sender_id, "request_recruiter"))

    assert events == [SlotSet("handover_question", "share_with_recruiter")]
    assert said(dispatcher) == ["utter_ask_share_consent"]


@pytest.mark.parametrize("intent", ["request_recruiter", "request_human"])
@pytest.mark.parametrize("slot", ["pathways", "support_needs", "contact_preference", "talents"])
def test_asking_for_a_recruiter_during_the_intake_is_left_to_the_rules(
    intent: str, slot: str
) -> None:
    # No slot is set, so the form steps aside: the rule pauses the intake and the recruiter
    # request itself answers (finish the profile first, with a yes or no).
    text = "kan ik nu al met een recruiter praten?"
    tracker = form_step(slot, text, intent=intent, confidence=0.9)
    dispatcher = CollectingDispatcher()

    events = asyncio.run(ValidateIntakeForm().run(dispatcher, tracker, domain()))

    assert events == []
    assert dispatcher.messages == []
    assert "utter_recruiter_after_intake" not in domain()["responses"]


# --- the share question and the handover ------------------------------------------------


@pytest.mark.parametrize("finished", ["completed", "confirmed"])
async def test_a_request_with_a_finished_profile_asks_to_share_it(
    store_database: Engine, finished: str
) -> None:
    sender_id = new_sender()
    if finished == "completed":
        seed_ready_profile(store_database, sender_id, place=unique_place())
    else:
        seed_profile(store_database, sender_id, {"name": "Anna"})
        channel, user_id = split_sender(sender_id)
        with session_scope(store_database) as session:
            seeker = find_job_seeker(session=session, channel=channel, channel_user_id=user_id)
            assert seeker is not None
            confirm_profile(session=session, job_seeker=seeker)

    events, dispatcher = await run(tracker_for(sender_id, "request_human"))

    assert events == [SlotSet("handover_question", "share_with_recruiter")]
    assert said(dispatcher) == ["utter_ask_share_consent"]
    (text,) = rendered(dispatcher, "nl")
    assert "Je gezondheid deel ik nooit" in text
    # Asking is not yet sharing.
    assert handovers(store_database, sender_id) == []
    assert consents(store_database, sender_id) == [("profile", True)]


@pytest.mark.parametrize("language", ["nl", "en"])
async def test_yes_to_sharing_hands_over_to_the_routed_recruiter(
    store_database: Engine, language: str
) -> None:
    sender_id = new_sender()
    place = unique_place()
    seed_ready_profile(store_database, sender_id, place=place)
    recruiter_id, chat_id = add_routed_recruiter(store_database, place)

    dispatcher = await share_and_create(sender_id, language)

    assert said(dispatcher) == ["utter_handover_created"]
    days = contact_days()
    (text,) = rendered(dispatcher, language)
    if language == "nl":
        assert text == (
            f"Ik heb je profiel gedeeld met Sanne van Werkbrug. Sanne neemt binnen {days} "
            "werkdagen contact met je op."
        )
    else:
        assert text == (
            f"I have shared your profile with Sanne from Werkbrug. Sanne will contact you "
            f"within {days} working days."
        )
    (handover,) = handovers(store_database, sender_id)
    assert handover.recruiter_id == recruiter_id
    # A gateway running on the same test database may already have delivered the summary.
    assert handover.status in ("requested", "delivered")
    assert handover.share_support_needs is False
    assert consents(store_database, sender_id) == [
        ("profile", True),
        ("share_with_recruiter", True),
    ]
    with session_scope(store_database) as session:
        sent = session.scalars(
            select(OutboxMessage).where(OutboxMessage.handover_id == handover.id)
        ).all()
        assert sorted((m.channel, m.recipient) for m in sent) == [
            ("email", f"sanne.{chat_id}@werkbrug.nl"),
            ("telegram", chat_id),
        ]
        assert {m.payload["kind"] for m in sent} == {"handover_summary"}


async def test_a_second_request_tells_the_status_and_makes_no_second_handover(
    store_database: Engine,
) -> None:
    sender_id = await with_a_handover(store_database)
    outbox_before = outbox_count(store_database)

    events, dispatcher = await run(tracker_for(sender_id, "request_recruiter"))

    assert events == [SlotSet("handover_question", None)]
    assert said(dispatcher) == ["utter_handover_status"]
    (text,) = rendered(dispatcher, "nl")
    assert text == current_status(store_database, sender_id, "nl")
    assert text is not None and text.startswith("Je profiel ligt sinds ")
    assert "bij Sanne van Werkbrug" in text
    assert len(handovers(store_database, sender_id)) == 1
    assert outbox_count(store_database) == outbox_before


async def test_a_late_yes_while_a_handover_is_open_makes_no_second_one(
    store_database: Engine,
) -> None:
    sender_id = await with_a_handover(store_database)

    # The same "ja" pressed again on the old question.
    events, dispatcher = await run(
        tracker_for(sender_id, "affirm", question="share_with_recruiter")
    )

    assert events == [SlotSet("handover_question", None)]
    assert said(dispatcher) == ["utter_handover_status"]
    assert len(handovers(store_database, sender_id)) == 1


async def test_a_request_made_at_the_same_moment_answers_with_the_status(
    store_database: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sender_id = await with_a_handover(store_database)
    # Another request opened a handover after this one looked: the unique index refuses it.
    monkeypatch.setattr(store.handovers, "open_handover", lambda seeker, *, session: None)
    caplog.set_level(logging.INFO, logger="actions.handover")

    events, dispatcher = await run(
        tracker_for(sender_id, "affirm", question="share_with_recruiter")
    )

    assert events == [SlotSet("handover_question", None)]
    assert said(dispatcher) == ["utter_handover_status"]
    assert any("at the same time" in r.getMessage() for r in caplog.records)
    monkeypatch.undo()
    assert rendered(dispatcher, "nl") == [current_status(store_database, sender_id, "nl")]
    assert len(handovers(store_database, sender_id)) == 1
    # Only the refused insert was undone: the second yes itself is kept.
    assert consents(store_database, sender_id) == [
        ("profile", True),
        ("share_with_recruiter", True),
        ("share_with_recruiter", True),
    ]


async def test_no_to_sharing_shares_nothing(store_database: Engine) -> None:
    sender_id = new_sender()
    place = unique_place()
    seed_ready_profile(store_database, sender_id, place=place)
    add_routed_recruiter(store_database, place)
    outbox_before = outbox_count(store_database)

    events, dispatcher = await run(tracker_for(sender_id, "deny", question="share_with_recruiter"))

    assert events == [SlotSet("handover_question", None)]
    assert said(dispatcher) == ["utter_handover_not_shared"]
    assert rendered(dispatcher, "nl") == [
        "Prima, ik deel niets. Je kunt het later altijd nog vragen."
    ]
    assert handovers(store_database, sender_id) == []
    assert consents(store_database, sender_id) == [
        ("profile", True),
        ("share_with_recruiter", False),
    ]
    assert outbox_count(store_database) == outbox_before


@pytest.mark.parametrize("answer", ["affirm", "deny"])
async def test_support_needs_are_a_separate_question(store_database: Engine, answer: str) -> None:
    sender_id = new_sender()
    place = unique_place()
    seed_ready_profile(store_database, sender_id, place=place, support=["een jobcoach"])
    recruiter_id, _ = add_routed_recruiter(store_database, place)

    events, dispatcher = await run(
        tracker_for(sender_id, "affirm", question="share_with_recruiter")
    )

    assert events == [SlotSet("handover_question", "support_needs")]
    assert said(dispatcher) == ["utter_ask_share_support"]
    (text,) = rendered(dispatcher, "nl")
    assert text.startswith("Je noemde wat een werkgever kan helpen: een jobcoach. Mag de")
    assert handovers(store_database, sender_id) == []

    events, dispatcher = await run(tracker_for(sender_id, answer, question="support_needs"))

    assert events == [SlotSet("handover_question", None)]
    assert said(dispatcher) == ["utter_handover_created"]
    (handover,) = handovers(store_database, sender_id)
    assert handover.recruiter_id == recruiter_id
    assert handover.share_support_needs is (answer == "affirm")
    assert ("een jobcoach" in handover.summary) is (answer == "affirm")
    assert consents(store_database, sender_id) == [
        ("profile", True),
        ("share_with_recruiter", True),
        ("support_needs", answer == "affirm"),
    ]


async def test_without_a_free_recruiter_the_bot_keeps_looking(
    store_database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender_id = new_sender()
    seed_ready_profile(store_database, sender_id, place=unique_place())
    # Nobody active with room this week (other tests share the database's recruiters).
    monkeypatch.setattr(store.handovers, "candidates", lambda now, *, session: [])

    dispatcher = await share_and_create(sender_id, "en")

    assert said(dispatcher) == ["utter_handover_searching"]
    assert rendered(dispatcher, "en") == [
        phrase("person.handover.searching", "en"),
    ]
    assert rendered(dispatcher, "nl") == [phrase("person.handover.searching", "nl")]
    (handover,) = handovers(store_database, sender_id)
    assert handover.recruiter_id is None
    # A gateway running on the same test database may already have delivered the summary.
    assert handover.status in ("requested", "delivered")


async def test_a_request_without_a_database_apologises(no_database: None) -> None:

    events, dispatcher = await run(tracker_for(new_sender(), "affirm", question="support_needs"))

    assert events == [SlotSet("handover_question", None)]
    assert said(dispatcher) == ["utter_data_unavailable"]


# --- the status -------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["none", "no_handover"])
async def test_the_status_without_a_handover(store_database: Engine, profile: str) -> None:
    sender_id = new_sender()
    if profile == "no_handover":
        seed_ready_profile(store_database, sender_id, place=unique_place())

    events, dispatcher = await run(
        tracker_for(sender_id, "ask_handover_status"), ActionHandoverStatus()
    )

    assert events == []
    assert said(dispatcher) == ["utter_handover_status_unknown"]


@pytest.mark.parametrize("language", ["nl", "en"])
async def test_the_status_of_an_open_handover(store_database: Engine, language: str) -> None:
    sender_id = await with_a_handover(store_database)

    events, dispatcher = await run(
        tracker_for(sender_id, "ask_handover_status", language=language), ActionHandoverStatus()
    )

    assert events == []
    assert said(dispatcher) == ["utter_handover_status"]
    (text,) = rendered(dispatcher, language)
    assert text == current_status(store_database, sender_id, language)
    assert "Sanne" in text


async def test_the_status_without_a_database_apologises(no_database: None) -> None:

    events, dispatcher = await run(
        tracker_for(new_sender(), "ask_handover_status"), ActionHandoverStatus()
    )

    assert events == []
    assert said(dispatcher) == ["utter_data_unavailable"]
