"""Success moments, talents told along the way, and switching language."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.common import LANGUAGES, current_language, entity_values, identity, in_session
from core.privacy import mentions_health
from store.profiles import (
    add_profile_item,
    add_success_moment,
    consented_job_seeker,
)

logger = logging.getLogger(__name__)


async def _with_consented_seeker(sender_id: str, work: Any) -> bool:
    """Run `work(session, seeker)` for a sender with profile consent; False when there is none."""
    channel, user_id = identity(sender_id)

    def run(session: Session) -> bool:
        seeker = consented_job_seeker(session=session, channel=channel, channel_user_id=user_id)
        if seeker is None:
            return False
        work(session, seeker)
        return True

    return await in_session(run)


class ActionStoreSuccess(Action):
    """Celebrate a success; keep it when there is a profile (never a health detail)."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_store_success"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Store the success moment and celebrate."""
        text = str(tracker.latest_message.get("text") or "").strip()
        stored = False
        if text and not text.startswith("/") and not mentions_health(text):
            try:
                stored = await _with_consented_seeker(
                    tracker.sender_id,
                    lambda session, seeker: add_success_moment(
                        session=session, job_seeker=seeker, text=text[:500]
                    ),
                )
            except SQLAlchemyError:
                logger.error("Storing a success moment failed; the database is unavailable")
        dispatcher.utter_message(
            response="utter_celebrate" if stored else "utter_celebrate_not_stored"
        )
        return []


class ActionStoreVolunteered(Action):
    """A talent or learning wish told outside the intake goes into the profile too."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_store_volunteered"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Add the skill (or the whole message) to talents or development points."""
        text = str(tracker.latest_message.get("text") or "").strip()
        intent = tracker.get_intent_of_latest_message(skip_fallback_intent=False)
        kind = "talent" if intent == "share_talent" else "development_point"
        if mentions_health(text):
            dispatcher.utter_message(response="utter_health_not_stored")
            return []
        values = entity_values(tracker, "skill") or [text[:300]]
        stored = False

        def add(session: Session, seeker: Any) -> None:
            for value in values:
                add_profile_item(session=session, job_seeker=seeker, kind=kind, value=value)

        if text and not text.startswith("/"):
            try:
                stored = await _with_consented_seeker(tracker.sender_id, add)
            except SQLAlchemyError:
                logger.error("Storing a volunteered %s failed; the database is unavailable", kind)
        if not stored:
            dispatcher.utter_message(response="utter_noted_not_stored")
        elif kind == "talent":
            dispatcher.utter_message(response="utter_talent_noted")
        else:
            dispatcher.utter_message(response="utter_development_noted")
        return []


class ActionChangeLanguage(Action):
    """Switch to the language asked for, or to the other one when none is named."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_change_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Set the `language` slot; the rule then confirms in the new language."""
        asked = [value for value in entity_values(tracker, "language") if value in LANGUAGES]
        current = current_language(tracker)
        if asked:
            language = asked[-1]
        else:
            language = "nl" if current == "en" else "en"
        return [SlotSet("language", language)]
