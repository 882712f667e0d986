"""The person's data rights in the chat: a copy of their data, deletion, withdrawing a consent.

Export and deletion are only asked for here, with a `werkmaatje` command in a custom payload:
the gateway carries them out after Rasa's turn (bot/data_rights.py), because Rasa writes the
turn's events to its tracker store and would put a deleted conversation back.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, AllSlotsReset, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.common import current_language, entity_values, identity, in_session
from store.deletion import withdraw_consent
from store.profiles import consented_job_seeker

logger = logging.getLogger(__name__)

# The consents a person can withdraw in the chat, and the words that name each. Checked in
# this order: "deel mijn ondersteuning niet meer met de recruiter" is about support needs,
# "stop sharing my profile" about sharing, and only what is left about keeping the profile.
PURPOSE_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "support_needs",
        re.compile(
            r"\b(ondersteuning\w*|aanpassing(en)?|jobcoach|job coach|support|adjustments?)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "nudges",
        re.compile(
            r"\b(berichten|berichtjes|nudges?|herinnering(en)?|tips?|meldingen|"
            r"aanmoediging(en)?|messages|reminders?|notifications?|encouragement)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "share_with_recruiter",
        re.compile(
            r"\b(recruiters?|delen|deel|deelt|gedeeld|door\w*geven|doorgeeft|doorgegeven|"
            r"doorsturen|doorstuurt|werkgevers?|share[sd]?|sharing|pass(ing)? on|employers?)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "profile",
        re.compile(
            r"\b(profiel|opslaan|opslaat|opgeslagen|bewaren|bewaart|bewaard|"
            r"profile|store[sd]?|storing|keep(ing)?|kept)\b",
            re.IGNORECASE,
        ),
    ),
)
PURPOSES = frozenset(purpose for purpose, _ in PURPOSE_WORDS)
WITHDRAWN_RESPONSES = {
    "nudges": "utter_consent_withdrawn_nudges",
    "share_with_recruiter": "utter_consent_withdrawn_share_with_recruiter",
    "support_needs": "utter_consent_withdrawn_support_needs",
}


def gateway_command(command: str, language: str) -> dict[str, Any]:
    """The custom payload that asks the gateway to export or delete after this turn."""
    return {"werkmaatje": {"command": command, "language": language}}


def purpose_in_words(text: str) -> str | None:
    """The consent a message is about, from its words; None when it names none."""
    for purpose, words in PURPOSE_WORDS:
        if words.search(text):
            return purpose
    return None


def requested_purpose(tracker: Tracker) -> str | None:
    """The consent to withdraw: a button's `consent_purpose`, else the words of the message."""
    chosen = [value for value in entity_values(tracker, "consent_purpose") if value in PURPOSES]
    if chosen:
        return chosen[-1]
    text = str(tracker.latest_message.get("text") or "")
    return None if text.startswith("/") else purpose_in_words(text)


async def _has_profile(sender_id: str) -> bool:
    """Whether the sender has a stored profile (a job seeker with profile consent)."""
    channel, user_id = identity(sender_id)

    def lookup(session: Session) -> bool:
        found = consented_job_seeker(session=session, channel=channel, channel_user_id=user_id)
        return found is not None

    return await in_session(lookup)


class ActionDataExport(Action):
    """Ask the gateway to send the person everything stored about them, as a JSON file."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_data_export"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Announce the file and send the export command, or say why there is none."""
        try:
            stored = await _has_profile(tracker.sender_id)
        except SQLAlchemyError:
            logger.error("Looking up a profile for an export failed; the database is unavailable")
            dispatcher.utter_message(response="utter_data_unavailable")
            return []
        if not stored:
            dispatcher.utter_message(response="utter_export_nothing_stored")
            return []
        dispatcher.utter_message(response="utter_export_ready")
        dispatcher.utter_message(json_message=gateway_command("export", current_language(tracker)))
        return []


class ActionDeleteData(Action):
    """After a confirmed yes: ask the gateway to delete everything, and start afresh."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_delete_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Send only the delete command; the gateway says whether it worked."""
        language = current_language(tracker)
        dispatcher.utter_message(json_message=gateway_command("delete", language))
        # The language stays for the rare case that the deletion fails and the talk goes on.
        return [AllSlotsReset(), SlotSet("language", language), ActiveLoop(None)]


class ActionWithdrawConsent(Action):
    """Withdraw one consent, named in words or picked with a button.

    Messages, sharing with a recruiter and sharing support needs stop at once. The profile
    consent cannot be withdrawn on its own, because without it nothing may be kept: the
    `consent_purpose` slot set to `profile` leads to the deletion question
    (stories/rules/consent.yml).
    """

    def name(self) -> str:
        """Name used in the domain."""
        return "action_withdraw_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Record the withdrawal and say what stops now, or ask which consent is meant."""
        purpose = requested_purpose(tracker)
        if purpose is None:
            dispatcher.utter_message(response="utter_ask_consent_purpose")
            return [SlotSet("consent_purpose", None)]
        channel, user_id = identity(tracker.sender_id)

        def withdraw(session: Session) -> bool:
            seeker = consented_job_seeker(
                session=session, channel=channel, channel_user_id=user_id
            )
            if seeker is None:
                return False
            if purpose != "profile":
                withdraw_consent(seeker, purpose, channel, session=session)
            return True

        try:
            stored = await in_session(withdraw)
        except SQLAlchemyError:
            logger.error("Withdrawing a consent failed; the database is unavailable")
            dispatcher.utter_message(response="utter_data_unavailable")
            return [SlotSet("consent_purpose", None)]
        if not stored:
            dispatcher.utter_message(response="utter_withdraw_nothing_stored")
            return [SlotSet("consent_purpose", None)]
        if purpose == "profile":
            dispatcher.utter_message(response="utter_withdraw_profile_means_deletion")
        else:
            logger.info("A consent for %s was withdrawn in the chat", purpose)
            dispatcher.utter_message(response=WITHDRAWN_RESPONSES[purpose])
        return [SlotSet("consent_purpose", purpose)]
