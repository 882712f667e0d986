"""The talent intake form: reading each answer, keeping every fact, and saving the profile.

Every message during the intake is read once (actions/intake_reading.py): each fact in it is
kept for its own question, whichever question was asked, and that question is then not asked
again. A message that is plainly something else (a question, a request for a person, "stop")
is left to the rules, which answer it and ask the same question again.

Every question can be skipped ("sla over", "weet ik niet"): a skipped text answer becomes ""
and a skipped list [], which the form counts as answered and the profile stores as empty.
Nothing about health is ever kept. A question is never asked three times in a row: the third
time the person gets a way out (skip, later, a person) with an example answer, and an answer
that still cannot be used then skips the question.
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

from actions import intake_words as words
from actions.common import current_language, identity, in_session
from actions.intake_reading import ADDING, FIELDS, GATHERING, LIST_FIELDS, Reading, read
from store.profiles import complete_profile, save_profile

logger = logging.getLogger(__name__)

FORM = "intake_form"
# Bookkeeping of the intake, kept in slots of its own (domain/core.yml).
LAST_ASKED = "intake_last_question"  # "<slot> <language>", e.g. "hours nl"
TIMES_ASKED = "intake_times_asked"
NAME_TO_CONFIRM = "first_name_candidate"
# The third time the same question would be asked, the person gets a way out instead.
WAY_OUT_AT = 3
# Below this confidence an intent is a guess, and the words of the message decide.
SURE = 0.5

# Requests that are never an answer (the rules handle them and the form asks again), when
# they use their own words: "IT support" is no withdrawal of the consent for support needs.
ALWAYS_ELSEWHERE = {
    intent: words.REQUEST_WORDS[intent]
    for intent in (
        "request_data_deletion",
        "request_data_export",
        "withdraw_consent",
        "show_profile",
    )
}
# Questions to the bot: they interrupt only when phrased as a question (a learning wish
# "computer" is no "are you a computer?", a pathway "proefplaatsing" no FAQ).
QUESTIONS = frozenset({"faq", "bot_challenge", "help", "ask_privacy"})
# Requests and moods: they interrupt unless the message also gives facts. Each has a rule for
# the intake (stories/interruptions.yml, stories/rules/intake.yml).
REQUESTS = frozenset(
    {"request_human", "request_recruiter", "goodbye", "nudges_stop", "feeling_down"}
)
# Said in passing, never an answer to a question ("hoi", "ik zoek werk", "ja"), with the reply;
# only when every word is an everyday word ("office work" names what work it is).
NO_ANSWER = {
    "greet": "utter_intake_going",
    "thank": "utter_intake_going",
    "start_intake": "utter_intake_going",
    "affirm": "utter_invalid_free_text",
    "ask_handover_status": "utter_intake_going",
}
# Answers taken as said: anything is a talent, so the intent must decide what is no answer.
FREE_TEXT = GATHERING | {"work_wish", "start"}
# The response answering a question asked together with facts, by intent.
_QUESTION_RESPONSES = {
    "bot_challenge": "utter_iamabot",
    "help": "utter_help",
    "ask_privacy": "utter_privacy",
    "feeling_down": "utter_empathy",
}


def _intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def _entities(tracker: Tracker) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for entity in tracker.latest_message.get("entities") or []:
        value = entity.get("value")
        if isinstance(value, str) and value.strip():
            values = found.setdefault(str(entity.get("entity")), [])
            if value.strip() not in values:
                values.append(value.strip())
    return found


def fresh_message(tracker: Tracker) -> bool:
    """Whether the latest message is still unread: nothing but the form ran since it came.

    The form runs again after the rules answered an interruption, and when it starts after a
    yes to the consent: that message is no answer to any question.
    """
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind == "bot":
            return False
        if kind == "action" and event.get("name") not in (
            "action_listen", "action_extract_slots", FORM, "validate_intake_form"
        ):  # fmt: skip
            return False
    return False


def is_interruption(
    intent: str | None, confidence: float, text: str, reading: Reading, asked: str | None
) -> bool:
    """Whether a message is plainly something other than intake facts, for the rules to answer."""
    if reading.noted or reading.health:
        return False
    if intent in ALWAYS_ELSEWHERE:
        return confidence >= SURE and bool(ALWAYS_ELSEWHERE[intent].search(text))
    if reading.fits_asked and intent not in QUESTIONS:
        return False
    # A question is never an answer, not even one that names a pathway ("wat is een
    # proefplaatsing?"); without a question mark only the NLU can tell ("kan goed plannen").
    if (
        intent in QUESTIONS
        and confidence >= SURE
        and (reading.question or (intent == "help" and len(text.split()) <= 4))
    ):
        return True
    if reading.answered and asked not in FREE_TEXT:
        return False
    if intent == "change_language":
        # Naming a language is a talent or a wish; only asking to switch switches.
        # A language's name alone ("Dutch!") answers "what do you want to learn?".
        bare = re.fullmatch(words.LANGUAGE_NAME, text.strip(" .!?"), re.IGNORECASE) is not None
        if bare and asked in ("talents", "development_points", "work_wish"):
            return False
        return words.LANGUAGE_SWITCH.search(text) is not None
    if confidence < SURE or intent not in REQUESTS:
        return False
    # "someone to explain things slowly" answers the support question; "can I talk to a
    # person?" does not: a request must use its own words (moods have none to check).
    words_of_request = words.REQUEST_WORDS.get(str(intent))
    return words_of_request is None or bool(words_of_request.search(text))


def _merged(tracker: Tracker, slots: dict[str, Any]) -> dict[str, Any]:
    """The reading's slots, with talents and wishes added to those given before."""
    merged = dict(slots)
    for slot in ADDING & slots.keys():
        before = tracker.get_slot(slot)
        if isinstance(before, list) and slots[slot]:
            merged[slot] = before + [item for item in slots[slot] if item not in before]
    return merged


class ValidateIntakeForm(FormValidationAction):
    """Reads each intake message once and fills every question it answers."""

    def name(self) -> str:
        """Name used in the domain."""
        return "validate_intake_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The slot events for one message; none when it is not for the intake at all.

        One reading per message rather than an `extract_<slot>` method per slot: each part of
        a message belongs to exactly one question, so the questions must be read together
        (docs/decisions/0001-one-reading-per-intake-message.md).
        """
        if not fresh_message(tracker):
            return []
        asked = tracker.get_slot("requested_slot")
        asked = asked if asked in FIELDS else None
        text = str(tracker.latest_message.get("text") or "")
        intent, confidence = _intent(tracker)
        if asked == "first_name" and tracker.get_slot(NAME_TO_CONFIRM):
            confirmed = self._confirm_name(tracker, intent)
            if confirmed is not None:
                return confirmed
        reading = read(
            text, asked, entities=_entities(tracker), skip=intent == "skip" and confidence >= SURE
        )
        if is_interruption(intent, confidence, text, reading, asked):
            return []
        if asked in FREE_TEXT and not (reading.noted or reading.skipped or reading.fits_asked):
            # Anything can be a talent: what is plainly no answer is not kept as one.
            problem = NO_ANSWER.get(str(intent)) if confidence >= SURE else None
            if not all(w.strip(".,!?") in words.COMMON_WORDS for w in text.lower().split()):
                problem = None  # "office work" reads as "looking for work", "maths" as a yes
            if problem is not None:
                reading.slots.pop(asked, None)
                reading.answered = False
                reading.problem = problem
        elif asked == "first_name" and reading.problem and confidence >= SURE:
            # "ik zoek werk" instead of a name: a kind word, then the name question again.
            if NO_ANSWER.get(str(intent)) == "utter_intake_going":
                reading.problem = "utter_intake_going"
        return self._reply(dispatcher, tracker, reading, asked, intent)

    @staticmethod
    def _confirm_name(tracker: Tracker, intent: str | None) -> list[EventType] | None:
        """The yes or no to "Is X je voornaam?"; None when the message is a new answer."""
        candidate = tracker.get_slot(NAME_TO_CONFIRM)
        if intent == "affirm":
            return [SlotSet("first_name", candidate), SlotSet(NAME_TO_CONFIRM, None)]
        if intent == "deny":
            return [SlotSet(NAME_TO_CONFIRM, None), SlotSet("first_name", None)]
        return None

    def _reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        reading: Reading,
        asked: str | None,
        intent: str | None,
    ) -> list[EventType]:
        """Say what was kept or what went wrong, and return the slots to set."""
        slots = _merged(tracker, reading.slots)
        if reading.health:
            left = "utter_health_left_out" if reading.facts else "utter_health_not_stored"
            dispatcher.utter_message(response=left)
        if reading.noted:
            dispatcher.utter_message(response="utter_noted", noted="; ".join(reading.noted))
        if reading.name_to_confirm:
            slots[NAME_TO_CONFIRM] = reading.name_to_confirm
        elif asked is not None and not reading.answered:
            if reading.question and (answer := question_answer(tracker)):
                dispatcher.utter_message(response=answer)
            elif self._way_out_shown(tracker, asked) and not reading.facts:
                # The way out was offered and this answer still does not fit: move on.
                dispatcher.utter_message(response="utter_question_skipped")
                slots[asked] = [] if asked in LIST_FIELDS else ""
            elif reading.problem and not reading.facts and not reading.health:
                dispatcher.utter_message(response=reading.problem)
        if asked is not None and asked not in slots:
            # Handled, though not filled: the form asks the same question again.
            slots[asked] = None
        return [SlotSet(slot, value) for slot, value in slots.items()]

    @staticmethod
    def _way_out_shown(tracker: Tracker, asked: str) -> bool:
        times = tracker.get_slot(TIMES_ASKED)
        asked_last = str(tracker.get_slot(LAST_ASKED) or "").split(" ")[0]
        return asked_last == asked and float(times or 0) >= WAY_OUT_AT


class AskIntakeQuestion(Action):
    """Asks one intake question; the third time in a row, the way out instead."""

    slot = ""

    def name(self) -> str:
        """Name used in the domain: the form looks for `action_ask_<slot>`."""
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Ask, and count how often this question came in a row."""
        if self.slot == "first_name" and tracker.get_slot(NAME_TO_CONFIRM):
            candidate = tracker.get_slot(NAME_TO_CONFIRM)
            dispatcher.utter_message(response="utter_ask_first_name_confirm", name=candidate)
            return [SlotSet(LAST_ASKED, "first_name_confirm"), SlotSet(TIMES_ASKED, 1)]
        # The same question in another language (the person asked to switch) starts afresh.
        this = f"{self.slot} {current_language(tracker)}"
        same = tracker.get_slot(LAST_ASKED) == this
        times = float(tracker.get_slot(TIMES_ASKED) or 0) + 1 if same else 1
        if times >= WAY_OUT_AT:
            dispatcher.utter_message(response=f"utter_way_out_{self.slot}")
        else:
            dispatcher.utter_message(response=f"utter_ask_{self.slot}")
        return [SlotSet(LAST_ASKED, this), SlotSet(TIMES_ASKED, times)]


# One asking action per question, found by the action server like any other action.
ASK_ACTIONS: list[type[AskIntakeQuestion]] = [
    type(f"Ask_{slot}", (AskIntakeQuestion,), {"slot": slot}) for slot in FIELDS
]


def question_answer(tracker: Tracker) -> str | None:
    """The response to a question (an FAQ, "are you a bot?") asked together with facts."""
    message = tracker.latest_message
    intent = (message.get("intent") or {}).get("name")
    if intent in _QUESTION_RESPONSES:
        return _QUESTION_RESPONSES[intent]
    if intent != "faq":
        return None
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
