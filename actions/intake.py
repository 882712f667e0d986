"""The first intake form (first name, one talent, region): validation and saving."""

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

from actions.common import current_language, identity, in_session
from store.profiles import (
    get_or_create_job_seeker,
    has_consent,
    record_consent,
    replace_profile_items,
    save_profile_fields,
)

logger = logging.getLogger(__name__)

_NAME_PREFIXES = re.compile(
    r"^(ik\s+heet|mijn\s+(voor)?naam\s+is|ik\s+ben|noem\s+me|zeg\s+maar|"
    r"my\s+(first\s+)?name\s+is|i\s+am|i'm|im|call\s+me|it's|its)(\s+|$)",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"^[^\W\d_]+(?:['\u2019-][^\W\d_]+)*$")
_REGION_PREFIXES = re.compile(
    r"^(ik\s+woon\s+(in|bij|vlakbij)|ik\s+zoek\s+in|(in\s+)?de\s+buurt\s+van|omgeving|"
    r"i\s+live\s+(in|near)|near|around|in)\s+",
    re.IGNORECASE,
)
_POSTCODE = re.compile(r"^([1-9]\d{3})\s?([a-zA-Z]{2})$")
# A place starts with a letter, or with 's- / 't as in 's-Hertogenbosch and 't Zandt.
_PLACE = re.compile(r"^(?:['\u2019][st][\s-])?[^\W\d_][\w\s'\u2019.()/-]*$", re.IGNORECASE)


def clean_first_name(text: str) -> str | None:
    """The first name in an answer such as "ik heet anna", or None when there is none."""
    text = _NAME_PREFIXES.sub("", text.strip()).strip(" .!,")
    words = text.split()
    if not 1 <= len(words) <= 3 or len(text) > 40:
        return None
    if not all(_NAME_WORD.match(word) for word in words):
        return None
    return " ".join(word[:1].upper() + word[1:] for word in words)


def clean_talent(text: str) -> str | None:
    """A talent kept as the person said it, or None when it is empty or only symbols."""
    text = " ".join(text.split())
    if len(text) < 2 or len(text) > 300 or not any(char.isalpha() for char in text):
        return None
    return text


def clean_region(text: str) -> str | None:
    """A place or Dutch postcode ("1234 AB"), or None when the answer is not one."""
    text = text.strip()
    # "ik woon in de buurt van Utrecht": strip one lead-in after another.
    while (shorter := _REGION_PREFIXES.sub("", text, count=1)) != text:
        text = shorter
    text = text.strip(" .!,")
    postcode = _POSTCODE.match(text)
    if postcode:
        return f"{postcode.group(1)} {postcode.group(2).upper()}"
    if not 2 <= len(text) <= 60 or not _PLACE.match(text):
        return None
    return text if text[0] in "'\u2019" else text[:1].upper() + text[1:]


class ValidateIntakeForm(FormValidationAction):
    """One small check per question; a nonsense answer is asked again kindly."""

    def name(self) -> str:
        """Name used in the domain."""
        return "validate_intake_form"

    def validate_first_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Keep only the name itself."""
        name = clean_first_name(str(slot_value or ""))
        if name is None:
            dispatcher.utter_message(response="utter_invalid_first_name")
        return {"first_name": name}

    def validate_talent(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Keep the talent in the person's own words."""
        talent = clean_talent(str(slot_value or ""))
        if talent is None:
            dispatcher.utter_message(response="utter_invalid_talent")
        return {"talent": talent}

    def validate_region(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Accept a place name or a postcode."""
        region = clean_region(str(slot_value or ""))
        if region is None:
            dispatcher.utter_message(response="utter_invalid_region")
        return {"region": region}


class ActionSaveProfile(Action):
    """Write the form's answers to the person's profile and read them back."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_save_profile"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Save name, talent and region; say so, or say that saving failed."""
        if tracker.get_slot("consent_profile") is not True:
            return []
        channel, user_id = identity(tracker.sender_id)
        language = current_language(tracker)
        first_name = tracker.get_slot("first_name")
        talent = tracker.get_slot("talent")
        region = tracker.get_slot("region")

        def store(session: Session) -> None:
            seeker = get_or_create_job_seeker(
                session=session, channel=channel, channel_user_id=user_id, language=language
            )
            if not has_consent(session=session, job_seeker=seeker, purpose="profile"):
                # The consent was given in this conversation but could not be written then.
                record_consent(session=session, job_seeker=seeker, purpose="profile", given=True)
            save_profile_fields(
                session=session, job_seeker=seeker, fields={"name": first_name, "place": region}
            )
            replace_profile_items(
                session=session,
                job_seeker=seeker,
                kind="talent",
                values=[talent] if talent else [],
            )

        try:
            await in_session(store)
        except SQLAlchemyError:
            logger.error("Saving a profile failed; the database is unavailable")
            dispatcher.utter_message(response="utter_profile_not_saved")
            return [SlotSet("language", language)]
        dispatcher.utter_message(response="utter_profile_saved")
        return [SlotSet("language", language)]
