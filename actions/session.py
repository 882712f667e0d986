"""Session start: pick the language from the channel and remember an earlier consent."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.common import identity, in_session
from core.languages import language_from_code
from store.profiles import consented_job_seeker

logger = logging.getLogger(__name__)


class ActionSessionStart(Action):
    """Start a session with the language slot set and a stored consent looked up."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Carry over slots, then set language and consent."""
        events: list[EventType] = [SessionStarted()]
        carried = {
            key: value
            for key, value in tracker.slots.items()
            if value is not None and key not in ("session_started_metadata", "requested_slot")
        }
        events.extend(SlotSet(key, value) for key, value in carried.items())

        metadata: dict[str, Any] = tracker.get_slot("session_started_metadata") or {}
        # The words of the first message count most; then the language of the person's app.
        language = language_from_code(metadata.get("text_language")) or language_from_code(
            metadata.get("language_code")
        )
        if language and "language" not in carried:
            events.append(SlotSet("language", language))

        if carried.get("consent_profile") is None:
            consent = await self._stored_consent(tracker.sender_id)
            if consent:
                events.append(SlotSet("consent_profile", True))

        events.append(ActionExecuted("action_listen"))
        return events

    @staticmethod
    async def _stored_consent(sender_id: str) -> bool:
        channel, user_id = identity(sender_id)

        def lookup(session: Session) -> bool:
            found = consented_job_seeker(session=session, channel=channel, channel_user_id=user_id)
            return found is not None

        try:
            return await in_session(lookup)
        except SQLAlchemyError:
            # The conversation can go on without it; the consent question is simply asked again.
            logger.warning("Could not look up a stored consent; the database is unavailable")
            return False
