"""The talent intake form: one small check per question, and saving the answers.

Every question can be skipped ("sla over", "weet ik niet"): a skipped text answer becomes ""
and a skipped list [], which the form counts as answered and the profile stores as empty.
An answer that mentions health is never kept: the bot says so and asks again.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.common import current_language, entity_values, identity, in_session
from actions.health import mentions_health
from actions.parsing import (
    clean_first_name,
    clean_free_text,
    clean_place,
    hours_valid,
    is_skip,
    means_none,
    parse_hours,
    parse_pathways,
    parse_travel_minutes,
    split_items,
    travel_valid,
)
from store.profiles import complete_profile, save_profile

logger = logging.getLogger(__name__)

SKIPPED = ""


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value or "").strip()


class ValidateIntakeForm(FormValidationAction):
    """Checks each answer; a nonsense answer gets a friendly re-ask (the slot stays empty)."""

    def name(self) -> str:
        """Name used in the domain."""
        return "validate_intake_form"

    @staticmethod
    def _screen(
        slot: str, value: Any, dispatcher: CollectingDispatcher, *, skipped: Any = SKIPPED
    ) -> tuple[str | None, dict[str, Any] | None]:
        """The answer's text, or the slot result when it is a skip or mentions health."""
        text = _text(value)
        if is_skip(text):
            return None, {slot: skipped}
        if mentions_health(text):
            dispatcher.utter_message(response="utter_health_not_stored")
            return None, {slot: None}
        return text, None

    def validate_first_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Keep only the name itself."""
        text, result = self._screen("first_name", slot_value, dispatcher)
        if result is not None:
            return result
        name = clean_first_name(text or "")
        if name is None:
            dispatcher.utter_message(response="utter_invalid_first_name")
        return {"first_name": name}

    @staticmethod
    def _items(slot: str, text: str, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        """Several free-text answers from one screened message."""
        items = [item for item in (clean_free_text(i) for i in split_items(text)) if item]
        if not items:
            dispatcher.utter_message(response="utter_invalid_free_text")
            return {slot: None}
        return {slot: items}

    def _free_list(
        self, slot: str, slot_value: Any, dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        text, result = self._screen(slot, slot_value, dispatcher, skipped=[])
        if result is not None:
            return result
        return self._items(slot, text or "", dispatcher)

    @staticmethod
    def _short_text(slot: str, text: str, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        """One free-text answer of at most 100 characters, kept as said."""
        value = clean_free_text(text)
        if value is None or len(value) > 100:
            dispatcher.utter_message(response="utter_invalid_free_text")
            return {slot: None}
        return {slot: value}

    @staticmethod
    def _question_instead(
        slot: str, tracker: Tracker, dispatcher: CollectingDispatcher
    ) -> dict[str, Any] | None:
        """Answer a real question asked instead of an answer; the slot stays empty."""
        answer = question_answer(tracker)
        if answer is None:
            return None
        dispatcher.utter_message(response=answer)
        return {slot: None}

    def validate_talents(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Talents in the person's own words, several allowed."""
        return self._free_list("talents", slot_value, dispatcher)

    def validate_development_points(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """What the person wants to learn, several allowed."""
        return self._free_list("development_points", slot_value, dispatcher)

    def validate_work_wish(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Roles and sectors: from the recognised entities, else the answer as a role."""
        text, result = self._screen("work_wish", slot_value, dispatcher)
        if result is not None:
            return {**result, "roles": [], "sectors": []} if result["work_wish"] == "" else result
        text = clean_free_text(text or "")
        if text is None:
            dispatcher.utter_message(response="utter_invalid_free_text")
            return {"work_wish": None}
        roles = entity_values(tracker, "role")
        sectors = entity_values(tracker, "sector")
        if not roles and not sectors:
            roles = [text]
        return {"work_wish": text, "roles": roles, "sectors": sectors}

    def validate_hours(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A number or a range of hours per week."""
        text, result = self._screen("hours", slot_value, dispatcher)
        if result is not None:
            return result
        hours = parse_hours(text or "")
        if hours is None or not hours_valid(hours):
            dispatcher.utter_message(response="utter_invalid_hours")
            return {"hours": None}
        return {"hours": text, "hours_min": hours[0], "hours_max": hours[1]}

    def validate_place(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A place (the recognised entity first) or a Dutch postcode."""
        text, result = self._screen("place", slot_value, dispatcher)
        if result is not None:
            return result
        places = entity_values(tracker, "place")
        place = clean_place(places[0]) if places else None
        place = place or clean_place(text or "")
        if place is None:
            dispatcher.utter_message(response="utter_invalid_place")
        return {"place": place}

    def validate_max_travel(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A travel time, or a distance turned into minutes."""
        text, result = self._screen("max_travel", slot_value, dispatcher)
        if result is not None:
            return result
        minutes = parse_travel_minutes(text or "")
        if minutes is None or not travel_valid(minutes):
            dispatcher.utter_message(response="utter_invalid_max_travel")
            return {"max_travel": None}
        return {"max_travel": text, "max_travel_minutes": float(minutes)}

    def validate_pathways(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """One or more of the six pathways, from everyday words."""
        text, result = self._screen("pathways", slot_value, dispatcher, skipped=[])
        if result is None:
            result = self._question_instead("pathways", tracker, dispatcher)
        if result is not None:
            return result
        pathways = parse_pathways(text or "", entity_values(tracker, "pathway"))
        if not pathways:
            dispatcher.utter_message(response="utter_invalid_pathways")
            return {"pathways": None}
        return {"pathways": pathways}

    def validate_start(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """When the person can start, as they said it."""
        text, result = self._screen("start", slot_value, dispatcher)
        if result is not None:
            return result
        return self._short_text("start", text or "", dispatcher)

    def validate_support_needs(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Practical support only; "nee" means none."""
        if means_none(_text(slot_value)):
            return {"support_needs": []}
        text, result = self._screen("support_needs", slot_value, dispatcher, skipped=[])
        if result is None:
            result = self._question_instead("support_needs", tracker, dispatcher)
        if result is not None:
            return result
        return self._items("support_needs", text or "", dispatcher)

    def validate_contact_preference(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """How a recruiter may reach the person, as they said it."""
        text, result = self._screen("contact_preference", slot_value, dispatcher)
        if result is None:
            result = self._question_instead("contact_preference", tracker, dispatcher)
        if result is not None:
            return result
        return self._short_text("contact_preference", text or "", dispatcher)


_QUESTION = re.compile(
    r"\?|^\s*(wat|hoe|wanneer|waarom|welke|wie|krijg|moet|mag|kan|kun|is|what|how|when|why|"
    r"which|who|do|does|can|is|are)\b",
    re.IGNORECASE,
)


# Intents that, phrased as a question, get their usual response instead of filling the slot.
_QUESTION_RESPONSES = {
    "bot_challenge": "utter_iamabot",
    "help": "utter_help",
    "ask_privacy": "utter_privacy",
    "request_human": "utter_recruiter_after_intake",
    "request_recruiter": "utter_recruiter_after_intake",
    "feeling_down": "utter_empathy",
}


def question_answer(tracker: Tracker) -> str | None:
    """The response to a real question (an FAQ, "are you a bot?") asked instead of an answer.

    Used for the questions whose answers themselves sound like FAQ topics ("proefplaatsing",
    "reiskosten"): the message counts as a question only when it is phrased as one.
    """
    message = tracker.latest_message
    intent = (message.get("intent") or {}).get("name")
    if intent != "faq" and intent not in _QUESTION_RESPONSES:
        return None
    if not _QUESTION.search(str(message.get("text") or "")):
        return None
    if intent in _QUESTION_RESPONSES:
        return _QUESTION_RESPONSES[intent]
    selected = ((message.get("response_selector") or {}).get("faq") or {}).get("response") or {}
    key = selected.get("intent_response_key")
    return f"utter_{key}" if isinstance(key, str) and key.startswith("faq/") else None


def profile_from_slots(tracker: Tracker) -> dict[str, Any]:
    """The profile values held in the conversation's slots; skipped answers become empty."""

    def text(slot: str) -> str | None:
        value = tracker.get_slot(slot)
        return str(value) if value else None

    def items(slot: str) -> list[str]:
        value = tracker.get_slot(slot)
        return [str(v) for v in value] if isinstance(value, list) else []

    def number(slot: str) -> int | None:
        value = tracker.get_slot(slot)
        return round(float(value)) if isinstance(value, (int, float)) else None

    return {
        "name": text("first_name"),
        "place": text("place"),
        "max_travel_minutes": number("max_travel_minutes"),
        "hours_min": number("hours_min"),
        "hours_max": number("hours_max"),
        "start": text("start"),
        "contact_preference": text("contact_preference"),
        "talent": items("talents"),
        "development_point": items("development_points"),
        "role": items("roles"),
        "sector": items("sectors"),
        "pathway": items("pathways"),
        "support_need": items("support_needs"),
    }


async def save_completed_profile(tracker: Tracker) -> bool:
    """Write the intake's answers and mark the profile completed, in one transaction.

    False (logged) when the database fails.
    """
    channel, user_id = identity(tracker.sender_id)
    language = current_language(tracker)
    values = profile_from_slots(tracker)

    def store(session: Session) -> None:
        seeker = save_profile(
            session=session,
            channel=channel,
            channel_user_id=user_id,
            language=language,
            values=values,
        )
        complete_profile(session=session, job_seeker=seeker)

    try:
        await in_session(store)
    except SQLAlchemyError:
        logger.error("Saving the finished intake failed; the database is unavailable")
        return False
    return True


class ActionSaveProfile(Action):
    """Write the form's answers to the person's profile, which is then complete."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_save_profile"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Save every answer and mark the intake done; say so when saving failed."""
        language = current_language(tracker)
        if tracker.get_slot("consent_profile") is not True:
            return [SlotSet("language", language)]
        if not await save_completed_profile(tracker):
            dispatcher.utter_message(response="utter_profile_not_saved")
        return [SlotSet("language", language)]
