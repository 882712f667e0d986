"""Recording the answer to the consent question."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.common import current_language, identity, in_session
from store.profiles import get_or_create_job_seeker, record_consent

logger = logging.getLogger(__name__)


class ActionRecordConsent(Action):
    """A yes creates the job seeker and a profile consent; a no stores nothing at all."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_record_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Store the consent when given and set the `consent_profile` slot."""
        # The classified intent itself: a consent is never read from a second guess.
        given = tracker.get_intent_of_latest_message(skip_fallback_intent=False) == "affirm"
        language = current_language(tracker)
        events: list[EventType] = [SlotSet("language", language)]
        if not given:
            return [*events, SlotSet("consent_profile", False)]

        channel, user_id = identity(tracker.sender_id)

        def store(session: Session) -> None:
            seeker = get_or_create_job_seeker(
                session=session, channel=channel, channel_user_id=user_id, language=language
            )
            record_consent(
                session=session,
                job_seeker=seeker,
                purpose="profile",
                given=True,
                channel=channel,
            )

        try:
            await in_session(store)
        except SQLAlchemyError:
            # The intake may go on: the answers are kept in the conversation and written when
            # the profile is saved, which records the consent again.
            logger.warning(
                "Could not record a consent now; it is retried when the profile is saved"
            )
        return [*events, SlotSet("consent_profile", True)]
