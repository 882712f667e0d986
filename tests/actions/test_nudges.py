"""Nudges in the chat, against the database (SQLite and PostgreSQL): the question after the
sketch, a frequency in words, a pause, stop and again; every change removes the person's job."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, select

from actions.nudges import (
    ActionAskNudgesConsent,
    ActionNudgesConsent,
    ActionNudgesFrequency,
    ActionNudgesPause,
    ActionNudgesResume,
    ActionNudgesStop,
)
from core.db import session_scope
from core.time import AMSTERDAM, as_utc
from store.jobs import stop_nudges
from store.models import ChannelIdentity, Consent, NudgeLog, NudgeSettings
from store.nudge_sync import wanted_jobs
from store.profiles import (
    complete_profile,
    find_job_seeker,
    record_consent,
    save_profile,
    split_sender,
)
from tests.store.test_data_rights import nudge_job_exists, schedule_nudge
from tests.support.actions import (
    button_payloads,
    domain,
    entity,
    load_tracker,
    new_sender,
    responses,
    row_counts,
    seed_profile,
    store_decisions,
)

# Wednesday 4 March 2026, 10:00 in Amsterdam.
NOW = datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc)
DONE = [SlotSet("nudge_question", None), SlotSet("pause_period", None)]
# When pauses end: midnight in Amsterdam.
MARCH_10 = datetime(2026, 3, 10, tzinfo=AMSTERDAM)
MARCH_18 = datetime(2026, 3, 18, tzinfo=AMSTERDAM)
APRIL_4 = datetime(2026, 4, 4, tzinfo=AMSTERDAM)
NEXT_MARCH_2 = datetime(2027, 3, 2, tzinfo=AMSTERDAM)


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The actions' clock at NOW."""
    monkeypatch.setattr("actions.nudges.utcnow", lambda: NOW)


def seeker_id(engine: Engine, sender_id: str) -> int:
    channel, user_id = split_sender(sender_id)
    with session_scope(engine) as session:
        seeker = find_job_seeker(session=session, channel=channel, channel_user_id=user_id)
        assert seeker is not None
        return seeker.id


def finished_profile(
    engine: Engine, sender_id: str, *, nudges: Sequence[bool] = (), frequency: str | None = None
) -> int:
    """A job seeker with a finished profile, these nudge decisions and settings; their id."""
    channel, user_id = split_sender(sender_id)
    with session_scope(engine) as session:
        seeker = save_profile(
            session=session,
            channel=channel,
            channel_user_id=user_id,
            language="nl",
            values={"name": "Anna", "development_point": ["Excel"]},
        )
        complete_profile(session=session, job_seeker=seeker)
        for given in nudges:
            record_consent(session=session, job_seeker=seeker, purpose="nudges", given=given)
        if frequency is not None:
            session.add(NudgeSettings(job_seeker_id=seeker.id, frequency=frequency))
        return seeker.id


def with_job(engine: Engine, sender_id: str) -> int:
    """The person's nudge job, as the gateway's sync adds it; their id."""
    found = seeker_id(engine, sender_id)
    schedule_nudge(engine, found)
    return found


def nudge_decisions(engine: Engine, sender_id: str) -> list[bool]:
    with session_scope(engine) as session:
        return list(
            session.scalars(
                select(Consent.given)
                .where(
                    Consent.job_seeker_id == seeker_id(engine, sender_id),
                    Consent.purpose == "nudges",
                )
                .order_by(Consent.id)
            )
        )


def settings(engine: Engine, sender_id: str) -> tuple[str, datetime | None] | None:
    """The person's (frequency, paused_until), or None without a settings row."""
    with session_scope(engine) as session:
        row = session.get(NudgeSettings, seeker_id(engine, sender_id))
        if row is None:
            return None
        return row.frequency, as_utc(row.paused_until) if row.paused_until else None


def tracker_for(
    sender_id: str,
    text: str,
    intent: str,
    *,
    language: str = "nl",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
) -> Tracker:
    """A conversation outside the intake whose latest message is `text`."""
    return load_tracker(
        "nudges",
        sender_id=sender_id,
        text=text,
        intent=intent,
        entities=entities or [],
        slots={"language": language, **(slots or {})},
    )


def values(dispatcher: CollectingDispatcher, key: str) -> list[Any]:
    """One value passed along with the responses, in order."""
    return [message[key] for message in dispatcher.messages if key in message]


# --- the question after the sketch ------------------------------------------------------


async def test_the_question_is_asked_once_the_profile_is_finished(store_database: Engine) -> None:
    sender_id = new_sender("telegram")
    finished_profile(store_database, sender_id)
    dispatcher = CollectingDispatcher()

    events = await ActionAskNudgesConsent().run(
        dispatcher, tracker_for(sender_id, "ja", "affirm"), domain()
    )

    assert events == [SlotSet("nudge_question", "consent")]
    assert responses(dispatcher) == ["utter_ask_nudges_consent"]
    for variation in domain()["responses"]["utter_ask_nudges_consent"]:
        payloads = button_payloads(variation)
        assert payloads == [
            '/nudges_frequency{"frequency":"weekly"}',
            '/nudges_frequency{"frequency":"daily"}',
            '/nudges_frequency{"frequency":"biweekly"}',
            "/deny",
        ]
    assert nudge_decisions(store_database, sender_id) == []


@pytest.mark.parametrize(
    ("channel", "decisions", "finished"),
    [
        ("web", [], True),  # the web chat cannot start a message
        ("telegram", [True], True),
        ("telegram", [False], True),  # a no is an answer too
        ("telegram", [], False),
    ],
    ids=["web chat", "said yes", "said no", "unfinished profile"],
)
async def test_the_question_is_not_asked(
    store_database: Engine, channel: str, decisions: list[bool], finished: bool
) -> None:
    sender_id = new_sender(channel)
    if finished:
        finished_profile(store_database, sender_id, nudges=decisions)
    else:
        seed_profile(store_database, sender_id, {"name": "Anna"})
    dispatcher = CollectingDispatcher()

    events = await ActionAskNudgesConsent().run(
        dispatcher, tracker_for(sender_id, "ja", "affirm"), domain()
    )

    assert events == [SlotSet("nudge_question", None)]
    assert dispatcher.messages == []


async def test_the_question_waits_when_the_database_is_down(no_database: None) -> None:
    dispatcher = CollectingDispatcher()

    events = await ActionAskNudgesConsent().run(
        dispatcher, tracker_for(new_sender(), "ja", "affirm"), domain()
    )

    assert events == [SlotSet("nudge_question", None)]
    assert dispatcher.messages == []


async def test_yes_to_the_question_means_every_week(store_database: Engine) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id)
    job_seeker = with_job(store_database, sender_id)
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(sender_id, "ja graag", "affirm", slots={"nudge_question": "consent"})

    events = await ActionNudgesConsent().run(dispatcher, tracker, domain())

    assert events == [SlotSet("nudge_question", None)]
    assert responses(dispatcher) == ["utter_nudges_frequency_set", "utter_nudges_first_soon"]
    assert values(dispatcher, "frequency") == ["elke week"]
    assert nudge_decisions(store_database, sender_id) == [True]
    assert settings(store_database, sender_id) == ("weekly", None)
    # The gateway's sync plans the job anew from the new settings.
    assert not nudge_job_exists(store_database, job_seeker)


async def test_yes_with_a_frequency_takes_that_one(store_database: Engine) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id)
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(sender_id, "yes, every day", "affirm", language="en")

    await ActionNudgesConsent().run(dispatcher, tracker, domain())

    assert values(dispatcher, "frequency") == ["every day"]
    assert settings(store_database, sender_id) == ("daily", None)


async def test_no_to_the_question_is_recorded_and_turns_nudges_off(store_database: Engine) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id)
    job_seeker = with_job(store_database, sender_id)
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(sender_id, "nee, liever niet", "deny")

    events = await ActionNudgesConsent().run(dispatcher, tracker, domain())

    assert events == [SlotSet("nudge_question", None)]
    assert responses(dispatcher) == ["utter_nudges_declined"]
    assert nudge_decisions(store_database, sender_id) == [False]
    assert settings(store_database, sender_id) == ("off", None)
    assert not nudge_job_exists(store_database, job_seeker)


# --- how often --------------------------------------------------------------------------


async def test_a_button_sets_the_frequency_and_is_a_yes(store_database: Engine) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id)
    job_seeker = with_job(store_database, sender_id)
    dispatcher = CollectingDispatcher()
    payload = '/nudges_frequency{"frequency":"daily"}'
    tracker = tracker_for(
        sender_id, payload, "nudges_frequency", entities=[entity("frequency", "daily")]
    )

    events = await ActionNudgesFrequency().run(dispatcher, tracker, domain())

    assert events == []
    assert responses(dispatcher) == ["utter_nudges_frequency_set", "utter_nudges_first_soon"]
    assert values(dispatcher, "frequency") == ["elke dag"]
    assert nudge_decisions(store_database, sender_id) == [True]
    assert settings(store_database, sender_id) == ("daily", None)
    assert not nudge_job_exists(store_database, job_seeker)


SET = "utter_nudges_frequency_set"


@pytest.mark.parametrize(
    ("before", "text", "language", "after", "response", "said"),
    [
        ("daily", "stuur me elke week iets", "nl", "weekly", SET, "elke week"),
        ("weekly", "liever dagelijks", "nl", "daily", SET, "elke dag"),
        ("daily", "om de week is genoeg", "nl", "biweekly", SET, "om de week"),
        ("weekly", "send me something every day", "en", "daily", SET, "every day"),
        ("daily", "every other week is fine", "en", "biweekly", SET, "every other week"),
        # One step less or more often, up to the ends.
        ("daily", "minder vaak", "nl", "weekly", SET, "elke week"),
        ("weekly", "less often please", "en", "biweekly", SET, "every other week"),
        ("biweekly", "minder vaak", "nl", "biweekly", "utter_nudges_least_often", None),
        ("biweekly", "vaker", "nl", "weekly", SET, "elke week"),
        ("weekly", "more often", "en", "daily", SET, "every day"),
        ("daily", "vaker graag", "nl", "daily", "utter_nudges_most_often", None),
    ],
)
async def test_a_frequency_or_a_step_in_words(
    store_database: Engine,
    before: str,
    text: str,
    language: str,
    after: str,
    response: str,
    said: str | None,
) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id, nudges=[True], frequency=before)
    job_seeker = with_job(store_database, sender_id)
    dispatcher = CollectingDispatcher()

    await ActionNudgesFrequency().run(
        dispatcher, tracker_for(sender_id, text, "nudges_frequency", language=language), domain()
    )

    # An earlier yes stands: nothing new to record, and the first nudge is not news.
    assert responses(dispatcher) == [response]
    assert values(dispatcher, "frequency") == ([] if said is None else [said])
    assert nudge_decisions(store_database, sender_id) == [True]
    assert settings(store_database, sender_id) == (after, None)
    assert not nudge_job_exists(store_database, job_seeker)


async def test_a_step_after_a_stop_starts_from_every_week(store_database: Engine) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id, nudges=[True, False], frequency="off")
    dispatcher = CollectingDispatcher()

    await ActionNudgesFrequency().run(
        dispatcher, tracker_for(sender_id, "minder vaak", "nudges_frequency"), domain()
    )

    assert values(dispatcher, "frequency") == ["om de week"]
    assert nudge_decisions(store_database, sender_id) == [True, False, True]
    assert settings(store_database, sender_id) == ("biweekly", None)


async def test_words_without_a_frequency_ask_how_often(store_database: Engine) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id)
    before = row_counts(store_database)
    dispatcher = CollectingDispatcher()

    await ActionNudgesFrequency().run(
        dispatcher, tracker_for(sender_id, "kan dat anders?", "nudges_frequency"), domain()
    )

    assert responses(dispatcher) == ["utter_ask_nudges_frequency"]
    assert row_counts(store_database) == before
    assert settings(store_database, sender_id) is None


async def test_a_frequency_during_a_pause_keeps_the_pause(store_database: Engine) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id, nudges=[True], frequency="weekly")
    until = datetime(2026, 3, 18, tzinfo=AMSTERDAM)
    with session_scope(store_database) as session:
        row = session.get(NudgeSettings, seeker_id(store_database, sender_id))
        assert row is not None
        row.paused_until = until.astimezone(timezone.utc)
    dispatcher = CollectingDispatcher()

    await ActionNudgesFrequency().run(
        dispatcher, tracker_for(sender_id, "elke dag", "nudges_frequency"), domain()
    )

    assert responses(dispatcher) == ["utter_nudges_frequency_set", "utter_nudges_still_paused"]
    assert values(dispatcher, "date") == ["dinsdag 17 maart"]
    assert settings(store_database, sender_id) == ("daily", until)


@pytest.mark.parametrize(
    ("channel", "make", "response"),
    [
        ("web", "finished", "utter_nudges_only_telegram"),
        ("telegram", "unfinished", "utter_nudges_need_profile"),
        ("telegram", "declined", "utter_nudges_need_profile"),
    ],
)
async def test_a_frequency_needs_telegram_and_a_finished_profile(
    store_database: Engine, channel: str, make: str, response: str
) -> None:
    sender_id = new_sender(channel)
    if make == "finished":
        finished_profile(store_database, sender_id)
    elif make == "unfinished":
        seed_profile(store_database, sender_id, {"name": "Anna"})
    else:
        store_decisions(store_database, sender_id, [False])
    before = row_counts(store_database)
    dispatcher = CollectingDispatcher()

    await ActionNudgesFrequency().run(
        dispatcher, tracker_for(sender_id, "elke week", "nudges_frequency"), domain()
    )

    assert responses(dispatcher) == [response]
    assert row_counts(store_database) == before


async def test_a_frequency_without_a_database_apologises(no_database: None) -> None:
    dispatcher = CollectingDispatcher()

    await ActionNudgesFrequency().run(
        dispatcher, tracker_for(new_sender(), "elke week", "nudges_frequency"), domain()
    )

    assert responses(dispatcher) == ["utter_data_unavailable"]


# --- pause ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "until", "said"),
    [
        ("stuur twee weken niks", "nl", MARCH_18, "dinsdag 17 maart"),
        ("pauzeer tot 1 maart", "nl", NEXT_MARCH_2, "maandag 1 maart 2027"),
        ("kun je me tot maandag met rust laten", "nl", MARCH_10, "maandag 9 maart"),
        ("pause the reminders until March 1", "en", NEXT_MARCH_2, "Monday 1 March 2027"),
        ("no messages for a month please", "en", APRIL_4, "Friday 3 April"),
    ],
)
async def test_a_pause_in_words(
    store_database: Engine, text: str, language: str, until: datetime, said: str
) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id, nudges=[True], frequency="weekly")
    job_seeker = with_job(store_database, sender_id)
    dispatcher = CollectingDispatcher()

    events = await ActionNudgesPause().run(
        dispatcher, tracker_for(sender_id, text, "nudges_pause", language=language), domain()
    )

    assert events == DONE
    assert responses(dispatcher) == ["utter_nudges_paused"]
    assert values(dispatcher, "date") == [said]
    assert settings(store_database, sender_id) == ("weekly", until)
    assert nudge_decisions(store_database, sender_id) == [True]
    assert not nudge_job_exists(store_database, job_seeker)


async def test_a_pause_with_a_frequency_for_afterwards(store_database: Engine) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id, nudges=[True], frequency="daily")
    dispatcher = CollectingDispatcher()
    text = "pauzeer tot eind mei, daarna mag het om de week"

    await ActionNudgesPause().run(
        dispatcher, tracker_for(sender_id, text, "nudges_pause"), domain()
    )

    assert responses(dispatcher) == ["utter_nudges_paused", "utter_nudges_frequency_set"]
    assert values(dispatcher, "date") == ["zondag 31 mei"]
    assert values(dispatcher, "frequency") == ["om de week"]
    assert settings(store_database, sender_id) == (
        "biweekly",
        datetime(2026, 6, 1, tzinfo=AMSTERDAM),
    )


async def test_a_pause_is_at_most_a_year(store_database: Engine) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id, nudges=[True])
    dispatcher = CollectingDispatcher()

    await ActionNudgesPause().run(
        dispatcher, tracker_for(sender_id, "pauzeer twee jaar", "nudges_pause"), domain()
    )

    assert responses(dispatcher) == ["utter_nudges_paused_capped"]
    assert values(dispatcher, "date") == ["donderdag 4 maart 2027"]
    assert settings(store_database, sender_id) == (
        "weekly",
        datetime(2027, 3, 5, tzinfo=AMSTERDAM),
    )


async def test_a_pause_without_a_period_asks_how_long(store_database: Engine) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id, nudges=[True], frequency="weekly")
    dispatcher = CollectingDispatcher()

    events = await ActionNudgesPause().run(
        dispatcher, tracker_for(sender_id, "even pauze graag", "nudges_pause"), domain()
    )

    # nudge_pause_form asks the question (utter_ask_pause_period) and takes any answer.
    assert events == [SlotSet("nudge_question", "pause_period")]
    assert dispatcher.messages == []
    assert settings(store_database, sender_id) == ("weekly", None)
    assert "utter_ask_pause_period" in domain()["responses"]
    assert domain()["forms"]["nudge_pause_form"]["required_slots"] == ["pause_period"]


async def test_a_question_left_from_an_earlier_session_is_asked_again(
    store_database: Engine,
) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id, nudges=[True], frequency="weekly")
    dispatcher = CollectingDispatcher()
    # The session ended before the answer; the slots were carried over, the form was not.
    tracker = tracker_for(
        sender_id, "even pauze graag", "nudges_pause", slots={"nudge_question": "pause_period"}
    )

    events = await ActionNudgesPause().run(dispatcher, tracker, domain())

    assert events == [SlotSet("nudge_question", "pause_period")]
    assert dispatcher.messages == []
    assert settings(store_database, sender_id) == ("weekly", None)


@pytest.mark.parametrize(
    ("answer", "intent", "said", "after", "decisions"),
    [
        # "tot maandag" also says goodbye: whatever the words are taken for, they answer.
        ("tot maandag", "goodbye", "utter_nudges_paused", ("weekly", MARCH_10), [True]),
        ("twee weken", "inform", "utter_nudges_paused", ("weekly", MARCH_18), [True]),
        ("een maand", "nlu_fallback", "utter_nudges_paused", ("weekly", APRIL_4), [True]),
        ("weet ik niet", "skip", "utter_nudges_pause_unclear", ("weekly", None), [True]),
        ("stop", "nudges_stop", "utter_consent_withdrawn_nudges", ("off", None), [True, False]),
    ],
)
async def test_the_answer_to_how_long(
    store_database: Engine,
    answer: str,
    intent: str,
    said: str,
    after: tuple[str, datetime | None],
    decisions: list[bool],
) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id, nudges=[True], frequency="weekly")
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(
        sender_id, answer, intent, slots={"nudge_question": "pause_period", "pause_period": answer}
    )

    events = await ActionNudgesPause().run(dispatcher, tracker, domain())

    assert events == DONE
    assert responses(dispatcher) == [said]
    assert settings(store_database, sender_id) == after
    assert nudge_decisions(store_database, sender_id) == decisions


@pytest.mark.parametrize("decisions", [[], [True, False]], ids=["never said yes", "stopped"])
async def test_nothing_to_pause_when_no_nudges_are_on(
    store_database: Engine, decisions: list[bool]
) -> None:
    sender_id = new_sender()
    finished_profile(
        store_database, sender_id, nudges=decisions, frequency="off" if decisions else None
    )
    before = row_counts(store_database)
    dispatcher = CollectingDispatcher()

    events = await ActionNudgesPause().run(
        dispatcher, tracker_for(sender_id, "even pauze", "nudges_pause"), domain()
    )

    assert events == DONE
    assert responses(dispatcher) == ["utter_nudges_none_to_pause"]
    assert row_counts(store_database) == before
    assert nudge_decisions(store_database, sender_id) == decisions


# --- stop -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["STOP", "stop", "Stop.", "stop met die berichtjes"])
async def test_stop_withdraws_the_consent_and_removes_the_job(
    store_database: Engine, text: str
) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id, nudges=[True], frequency="daily")
    job_seeker = with_job(store_database, sender_id)
    dispatcher = CollectingDispatcher()

    events = await ActionNudgesStop().run(
        dispatcher, tracker_for(sender_id, text, "nudges_stop"), domain()
    )

    assert events == []
    assert responses(dispatcher) == ["utter_consent_withdrawn_nudges"]
    assert nudge_decisions(store_database, sender_id) == [True, False]
    assert settings(store_database, sender_id) == ("off", None)
    assert not nudge_job_exists(store_database, job_seeker)


async def test_stop_without_a_profile_says_nothing_is_sent(store_database: Engine) -> None:
    before = row_counts(store_database)
    dispatcher = CollectingDispatcher()

    await ActionNudgesStop().run(
        dispatcher, tracker_for(new_sender(), "STOP", "nudges_stop"), domain()
    )

    assert responses(dispatcher) == ["utter_nudges_none_sent"]
    assert row_counts(store_database) == before


@pytest.mark.parametrize("on", [False, True], ids=["nudges off", "nudges on"])
async def test_stop_during_the_intake_stops_only_nudges_that_are_on(
    store_database: Engine, on: bool
) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id, nudges=[True] if on else [])
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("intake_first_name", sender_id=sender_id, text="stop")
    assert tracker.active_loop_name == "intake_form"

    await ActionNudgesStop().run(dispatcher, tracker, domain())

    # The rule then pauses the intake (utter_intake_paused).
    if on:
        assert responses(dispatcher) == ["utter_consent_withdrawn_nudges"]
        assert nudge_decisions(store_database, sender_id) == [True, False]
        assert settings(store_database, sender_id) == ("off", None)
    else:
        assert dispatcher.messages == []
        assert nudge_decisions(store_database, sender_id) == []
        assert settings(store_database, sender_id) is None


async def test_off_as_a_frequency_is_a_stop(store_database: Engine) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id, nudges=[True])
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(
        sender_id, "zet ze uit", "nudges_frequency", entities=[entity("frequency", "off")]
    )

    await ActionNudgesFrequency().run(dispatcher, tracker, domain())

    assert responses(dispatcher) == ["utter_consent_withdrawn_nudges"]
    assert nudge_decisions(store_database, sender_id) == [True, False]


# --- again ------------------------------------------------------------------------------


async def test_again_after_a_stop_is_a_yes_at_every_week(store_database: Engine) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id, nudges=[True, False], frequency="off")
    job_seeker = with_job(store_database, sender_id)
    dispatcher = CollectingDispatcher()

    await ActionNudgesResume().run(
        dispatcher, tracker_for(sender_id, "stuur me weer tips", "nudges_resume"), domain()
    )

    assert responses(dispatcher) == ["utter_nudges_resumed", "utter_nudges_first_soon"]
    assert values(dispatcher, "frequency") == ["elke week"]
    assert nudge_decisions(store_database, sender_id) == [True, False, True]
    assert settings(store_database, sender_id) == ("weekly", None)
    assert not nudge_job_exists(store_database, job_seeker)


async def test_again_on_telegram_after_blocking_the_bot_makes_the_person_reachable(
    store_database: Engine,
) -> None:
    sender_id = new_sender()
    job_seeker = finished_profile(store_database, sender_id, nudges=[True], frequency="weekly")
    with session_scope(store_database) as session:
        # A nudge met a 403: the person blocked the bot, so their nudges stopped.
        stop_nudges(job_seeker, session=session)
        for identity in session.scalars(
            select(ChannelIdentity).where(ChannelIdentity.job_seeker_id == job_seeker)
        ):
            identity.blocked_at = NOW
    with session_scope(store_database) as session:
        assert job_seeker not in wanted_jobs(NOW, session=session)[0]

    await ActionNudgesResume().run(
        CollectingDispatcher(),
        tracker_for(sender_id, "stuur me weer tips", "nudges_resume"),
        domain(),
    )

    with session_scope(store_database) as session:
        identity = session.scalars(
            select(ChannelIdentity).where(ChannelIdentity.job_seeker_id == job_seeker)
        ).one()
        assert identity.blocked_at is None
        assert job_seeker in wanted_jobs(NOW, session=session)[0]


async def test_again_ends_a_pause_and_keeps_the_frequency(store_database: Engine) -> None:
    sender_id = new_sender()
    job_seeker = finished_profile(store_database, sender_id, nudges=[True], frequency="daily")
    with session_scope(store_database) as session:
        row = session.get(NudgeSettings, job_seeker)
        assert row is not None
        row.paused_until = datetime(2026, 5, 1, tzinfo=timezone.utc)
        session.add(NudgeLog(job_seeker_id=job_seeker, kind="encouragement", status="sent"))
    dispatcher = CollectingDispatcher()

    await ActionNudgesResume().run(
        dispatcher,
        tracker_for(sender_id, "send me tips again", "nudges_resume", language="en"),
        domain(),
    )

    # Nudges went out before: the next one keeps the person's rhythm, no "first one" news.
    assert responses(dispatcher) == ["utter_nudges_resumed"]
    assert values(dispatcher, "frequency") == ["every day"]
    assert nudge_decisions(store_database, sender_id) == [True]
    assert settings(store_database, sender_id) == ("daily", None)


async def test_again_with_a_frequency(store_database: Engine) -> None:
    sender_id = new_sender()
    finished_profile(store_database, sender_id, nudges=[True, False], frequency="off")
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(
        sender_id,
        "zet de tips weer aan, om de week",
        "nudges_resume",
        entities=[entity("frequency", "biweekly")],
    )

    await ActionNudgesResume().run(dispatcher, tracker, domain())

    assert values(dispatcher, "frequency") == ["om de week"]
    assert settings(store_database, sender_id) == ("biweekly", None)


async def test_again_without_a_finished_profile_explains(store_database: Engine) -> None:
    sender_id = new_sender()
    seed_profile(store_database, sender_id, {"name": "Anna"})
    before = row_counts(store_database)
    dispatcher = CollectingDispatcher()

    await ActionNudgesResume().run(
        dispatcher, tracker_for(sender_id, "stuur me weer tips", "nudges_resume"), domain()
    )

    assert responses(dispatcher) == ["utter_nudges_need_profile"]
    assert row_counts(store_database) == before
