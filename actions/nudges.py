"""Nudges in the chat: the yes or no to them, how often, a pause, stop and again.

Nudges go out only where the bot can start a message itself: Telegram (the sender id
`telegram:<chat>`); the web chat cannot. The question whether someone wants them is asked once,
after the profile sketch was confirmed, and only on Telegram (`action_ask_nudges_consent`).
Choosing a frequency, a pause and "again" need a finished profile; stop always works.

The slot `nudge_question` holds the question asked: `consent` (do you want nudges?) or
`pause_period` (how long?), which `nudge_pause_form` asks so that any answer, "tot maandag"
too, comes back to `action_nudges_pause`. The words are read by actions/nudge_words.py; every
change goes through store/nudge_preferences.py, which has the gateway plan the job anew.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.common import current_language, entity_values, identity, in_session
from actions.nudge_words import (
    FREQUENCY_NAMES,
    RELATIVE,
    day_in_words,
    frequency_from_words,
    last_quiet_day,
    parse_pause,
    stepped,
)
from core.time import AMSTERDAM, utcnow
from store.deletion import withdraw_consent
from store.handovers import profile_ready
from store.models import JobSeeker
from store.nudge_preferences import (
    CHOSEN_FREQUENCIES,
    NudgeChoice,
    current_frequency,
    has_nudge_answer,
    pause_nudges,
    want_nudges,
)
from store.profiles import consented_job_seeker

logger = logging.getLogger(__name__)
T = TypeVar("T")

SLOT = "nudge_question"
ANSWER_SLOT = "pause_period"
PUSH_CHANNELS = frozenset({"telegram"})


@dataclass(frozen=True)
class Said:
    """One response to say, with its values."""

    response: str
    values: dict[str, Any] = field(default_factory=dict)


def say(dispatcher: CollectingDispatcher, said: list[Said]) -> None:
    """Utter the responses in order."""
    for item in said:
        dispatcher.utter_message(response=item.response, **item.values)


def requested_frequency(tracker: Tracker) -> str | None:
    """daily, weekly, biweekly, less, more or off, from the words or the `frequency` entity."""
    text = str(tracker.latest_message.get("text") or "")
    found = None if text.startswith("/") else frequency_from_words(text)
    if found is not None:
        return found
    for value in reversed(entity_values(tracker, "frequency")):
        if value in (*CHOSEN_FREQUENCIES, *RELATIVE, "off"):
            return value
        found = frequency_from_words(value)
        if found is not None:
            return found
    return None


def _profile_owner(session: Session, sender_id: str) -> JobSeeker | None:
    """The sender, when they have profile consent and a finished profile."""
    channel, user_id = identity(sender_id)
    seeker = consented_job_seeker(session=session, channel=channel, channel_user_id=user_id)
    return seeker if seeker is not None and profile_ready(seeker) else None


async def _change(
    tracker: Tracker,
    work: Callable[[Session, JobSeeker, str], T],
    *,
    needs_push: bool = True,
) -> T | list[Said]:
    """Run `work(session, person, channel)` for a finished profile; what to say otherwise."""
    channel, _ = identity(tracker.sender_id)
    if needs_push and channel not in PUSH_CHANNELS:
        return [Said("utter_nudges_only_telegram")]

    def run(session: Session) -> T | list[Said]:
        seeker = _profile_owner(session, tracker.sender_id)
        if seeker is None:
            return [Said("utter_nudges_need_profile")]
        return work(session, seeker, channel)

    try:
        return await in_session(run)
    except SQLAlchemyError:
        logger.error("Changing the nudge settings failed; the database is unavailable")
        return [Said("utter_data_unavailable")]


def _chosen(choice: NudgeChoice, language: str, now: datetime) -> list[Said]:
    """What is set now, and when the next nudge comes when that is not the usual rhythm."""
    said = [
        Said(
            "utter_nudges_frequency_set",
            {"frequency": FREQUENCY_NAMES[language][choice.frequency]},
        )
    ]
    if choice.paused_until is not None and choice.paused_until > now:
        today = now.astimezone(AMSTERDAM).date()
        day = day_in_words(last_quiet_day(choice.paused_until), language, today)
        said.append(Said("utter_nudges_still_paused", {"date": day}))
    elif choice.newly_given and not choice.ever_sent:
        said.append(Said("utter_nudges_first_soon"))
    return said


def set_frequency(
    session: Session, seeker: JobSeeker, channel: str, wanted: str, language: str
) -> list[Said]:
    """A frequency or a step (less, more) chosen; a yes to nudges too."""
    before = current_frequency(seeker, session=session)
    target = stepped(before, wanted) if wanted in RELATIVE else wanted
    choice = want_nudges(
        seeker, session=session, frequency=target, channel=channel, end_pause=False
    )
    if wanted in RELATIVE and target == before:
        limit = "utter_nudges_most_often" if wanted == "more" else "utter_nudges_least_often"
        return [Said(limit)]
    return _chosen(choice, language, utcnow())


async def stop(tracker: Tracker, *, quiet_when_off: bool = False) -> list[Said]:
    """Stop the nudges at once: the nudge consent withdrawn, frequency off, the job removed.

    `quiet_when_off`: say nothing (and record nothing) when no nudges were on, for a "stop"
    that is about something else, such as pausing the intake.
    """
    channel, user_id = identity(tracker.sender_id)

    def work(session: Session) -> list[Said]:
        seeker = consented_job_seeker(session=session, channel=channel, channel_user_id=user_id)
        was_on = seeker is not None and current_frequency(seeker, session=session) != "off"
        if quiet_when_off and not was_on:
            return []
        if seeker is None:
            return [Said("utter_nudges_none_sent")]
        withdraw_consent(seeker, "nudges", channel, session=session)
        logger.info("Nudges stopped in the chat for job seeker %s", seeker.id)
        return [Said("utter_consent_withdrawn_nudges")]

    try:
        return await in_session(work)
    except SQLAlchemyError:
        logger.error("Stopping the nudges failed; the database is unavailable")
        return [Said("utter_data_unavailable")]


class ActionAskNudgesConsent(Action):
    """After the sketch is confirmed: ask once whether the person wants nudges (Telegram only)."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_ask_nudges_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Ask when there is a finished profile and no yes or no to nudges yet."""
        if identity(tracker.sender_id)[0] not in PUSH_CHANNELS:
            return [SlotSet(SLOT, None)]

        def unanswered(session: Session) -> bool:
            seeker = _profile_owner(session, tracker.sender_id)
            return seeker is not None and not has_nudge_answer(seeker, session=session)

        try:
            ask = await in_session(unanswered)
        except SQLAlchemyError:
            logger.warning("Could not look up the nudge consent; the question waits")
            ask = False
        if not ask:
            return [SlotSet(SLOT, None)]
        dispatcher.utter_message(response="utter_ask_nudges_consent")
        return [SlotSet(SLOT, "consent")]


class ActionNudgesConsent(Action):
    """The typed yes or no to the nudge question (the buttons choose a frequency instead)."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_nudges_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """A yes: nudges at the frequency named, else weekly. A no: recorded, frequency off."""
        if tracker.get_intent_of_latest_message(skip_fallback_intent=False) == "deny":

            def decline(session: Session, seeker: JobSeeker, channel: str) -> list[Said]:
                withdraw_consent(seeker, "nudges", channel, session=session)
                return [Said("utter_nudges_declined")]

            said = await _change(tracker, decline, needs_push=False)
        else:
            named = requested_frequency(tracker)
            wanted = "weekly" if named in (None, "off") else str(named)
            language = current_language(tracker)

            def accept(session: Session, seeker: JobSeeker, channel: str) -> list[Said]:
                return set_frequency(session, seeker, channel, wanted, language)

            said = await _change(tracker, accept)
        say(dispatcher, said)
        return [SlotSet(SLOT, None)]


class ActionNudgesFrequency(Action):
    """How often, in words ("elke week", "minder vaak") or with a button; also a yes to nudges."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_nudges_frequency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Set the frequency named; ask how often when the words name none."""
        wanted = requested_frequency(tracker)
        if wanted == "off":
            say(dispatcher, await stop(tracker))
            return []
        if wanted is None:
            dispatcher.utter_message(response="utter_ask_nudges_frequency")
            return []
        chosen, language = wanted, current_language(tracker)

        def change(session: Session, seeker: JobSeeker, channel: str) -> list[Said]:
            return set_frequency(session, seeker, channel, chosen, language)

        say(dispatcher, await _change(tracker, change))
        return []


class ActionNudgesResume(Action):
    """Nudges again: a yes, the pause ended, the frequency they had (weekly after a stop)."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_nudges_resume"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Turn the nudges back on, at a frequency named along the way if any."""
        wanted = requested_frequency(tracker)
        language = current_language(tracker)

        def resume(session: Session, seeker: JobSeeker, channel: str) -> list[Said]:
            target = wanted if wanted in CHOSEN_FREQUENCIES else None
            if wanted in RELATIVE:
                target = stepped(current_frequency(seeker, session=session), str(wanted))
            choice = want_nudges(
                seeker, session=session, frequency=target, channel=channel, end_pause=True
            )
            said = [
                Said(
                    "utter_nudges_resumed",
                    {"frequency": FREQUENCY_NAMES[language][choice.frequency]},
                )
            ]
            if choice.newly_given and not choice.ever_sent:
                said.append(Said("utter_nudges_first_soon"))
            return said

        say(dispatcher, await _change(tracker, resume))
        return []


class ActionNudgesPause(Action):
    """A pause in words ("twee weken", "tot 1 maart"); without a period, ask how long once."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_nudges_pause"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Pause until the day named; `nudge_question: pause_period` when asking how long."""
        done: list[EventType] = [SlotSet(SLOT, None), SlotSet(ANSWER_SLOT, None)]
        # The answer to "how long?" (a question left unanswered in an earlier session is not).
        asked = tracker.get_slot(SLOT) == "pause_period"
        answer = tracker.get_slot(ANSWER_SLOT) if asked else None
        answering = answer is not None
        intent = tracker.get_intent_of_latest_message(skip_fallback_intent=False)
        if answering and intent == "nudges_stop":
            say(dispatcher, await stop(tracker))
            return done
        text = str(answer if answering else tracker.latest_message.get("text") or "")
        now = utcnow()
        pause = parse_pause(text, now)
        named = frequency_from_words(text)
        frequency = named if named in CHOSEN_FREQUENCIES else None
        language = current_language(tracker)

        def change(session: Session, seeker: JobSeeker, channel: str) -> list[Said] | None:
            if current_frequency(seeker, session=session) == "off":
                return [Said("utter_nudges_none_to_pause")]
            if pause is None:
                return [Said("utter_nudges_pause_unclear")] if answering else None
            said = []
            if frequency is not None:
                want_nudges(
                    seeker, session=session, frequency=frequency, channel=channel, end_pause=False
                )
                said.append(
                    Said(
                        "utter_nudges_frequency_set",
                        {"frequency": FREQUENCY_NAMES[language][frequency]},
                    )
                )
            pause_nudges(seeker, pause.until, session=session)
            day = day_in_words(pause.last_day, language, now.astimezone(AMSTERDAM).date())
            response = "utter_nudges_paused_capped" if pause.capped else "utter_nudges_paused"
            return [Said(response, {"date": day}), *said]

        said = await _change(tracker, change)
        if said is None:
            return [SlotSet(SLOT, "pause_period")]  # nudge_pause_form asks how long
        say(dispatcher, said)
        return done


class ActionNudgesStop(Action):
    """Stop: no more nudges at once, and the consent for them withdrawn."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_nudges_stop"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Stop and confirm; during the intake, where "stop" pauses it, only nudges that are on."""
        during_intake = tracker.active_loop_name == "intake_form"
        say(dispatcher, await stop(tracker, quiet_when_off=during_intake))
        return []
