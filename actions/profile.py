"""The profile sketch: reading the profile back, confirming it and correcting one field."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.common import current_language, entity_values, identity, in_session, save_values
from actions.intake_reading import read
from actions.parsing import (
    clean_place,
    hours_valid,
    parse_hours,
    parse_pathways,
    parse_travel_minutes,
    travel_valid,
)
from core.privacy import mentions_health
from core.texts import phrase, phrases
from store.export import profile_dict
from store.profiles import confirm_profile, consented_job_seeker, find_job_seeker

logger = logging.getLogger(__name__)


def _hours(profile: dict[str, Any]) -> str | None:
    low, high = profile["hours_min"], profile["hours_max"]
    if low is None:
        return None
    return f"{low}" if low == high else f"{low}-{high}"


def sketch(profile: dict[str, Any], language: str) -> dict[str, str]:
    """Strengths, development points and wishes as short lines for utter_profile_sketch."""
    words = phrases("person.profile", language)
    pathway_names = phrases("person.pathway", language)
    wishes: list[str] = []
    wishes.extend(profile["roles"] + profile["sectors"])
    hours = _hours(profile)
    if hours:
        wishes.append(f"{hours} {words['hours']}")
    if profile["place"]:
        travel = profile["max_travel_minutes"]
        where = f"{words['in']} {profile['place']}"
        wishes.append(f"{where} (max {travel} {words['minutes']})" if travel else where)
    wishes.extend(pathway_names[p] for p in profile["pathways"])
    if profile["start"]:
        wishes.append(phrase("person.profile.start", language, start=profile["start"]))
    return {
        "first_name": profile["name"] or "",
        "strengths": ", ".join(profile["talents"]) or words["none"],
        "development": ", ".join(profile["development_points"]) or words["none"],
        "wishes": ", ".join(wishes) or words["none"],
    }


async def load_profile(sender_id: str) -> dict[str, Any] | None:
    """The stored profile of a sender with profile consent, or None."""
    channel, user_id = identity(sender_id)

    def read(session: Session) -> dict[str, Any] | None:
        seeker = consented_job_seeker(session=session, channel=channel, channel_user_id=user_id)
        if seeker is None or (seeker.profile is None and not seeker.items):
            return None
        return profile_dict(seeker)

    return await in_session(read)


class ActionProfileSketch(Action):
    """Read the stored profile back as strengths, development points and wishes."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_profile_sketch"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Show the sketch, or say there is no profile yet."""
        language = current_language(tracker)
        try:
            profile = await load_profile(tracker.sender_id)
        except SQLAlchemyError:
            logger.error("Reading a profile failed; the database is unavailable")
            dispatcher.utter_message(response="utter_profile_not_saved")
            return []
        if profile is None:
            dispatcher.utter_message(response="utter_no_profile")
            return []
        dispatcher.utter_message(response="utter_profile_sketch", **sketch(profile, language))
        return []


class ActionConfirmProfile(Action):
    """The person said the sketch is right."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_confirm_profile"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Record the confirmation and say the profile is ready."""
        channel, user_id = identity(tracker.sender_id)

        def confirm(session: Session) -> bool:
            seeker = find_job_seeker(session=session, channel=channel, channel_user_id=user_id)
            if seeker is None:
                return False
            confirm_profile(session=session, job_seeker=seeker)
            return True

        try:
            found = await in_session(confirm)
        except SQLAlchemyError:
            logger.error("Confirming a profile failed; the database is unavailable")
            dispatcher.utter_message(response="utter_profile_not_saved")
            return []
        dispatcher.utter_message(
            response="utter_profile_confirmed" if found else "utter_no_profile"
        )
        return []


_HOURS_WORDS = re.compile(r"\b(uur|uren|hours?|werkuren)\b", re.IGNORECASE)
_PLACE_WORDS = re.compile(r"\b(woon|wonen|verhuisd|live|moved|plaats|place)\b", re.IGNORECASE)
# Words after a place that are not part of it: "I live in Leiden now".
_PLACE_TAIL = re.compile(
    r"\s+(now|nowadays|currently|these days|at the moment|nu|tegenwoordig|sinds kort|"
    r"inmiddels|op dit moment)\b.*$",
    re.IGNORECASE,
)
_TRAVEL_WORDS = re.compile(r"\b(reis|reistijd|reizen|travel|km|kilometer|minuten|minutes)\b", re.I)


def corrections(text: str, entities: dict[str, list[str]]) -> dict[str, Any]:
    """The profile values a correction in words changes ("mijn uren kloppen niet, het is 24")."""
    changes: dict[str, Any] = {}
    if _TRAVEL_WORDS.search(text) and not entities["hours"]:
        minutes = parse_travel_minutes(text)
        if minutes is not None and travel_valid(minutes):
            changes["max_travel_minutes"] = minutes
    elif entities["hours"] or _HOURS_WORDS.search(text):
        hours = parse_hours(" ".join(entities["hours"]) or text)
        if hours is not None and hours_valid(hours):
            changes["hours_min"], changes["hours_max"] = round(hours[0]), round(hours[1])
    place = next((p for p in map(clean_place, entities["place"]) if p), None)
    if place is None and _PLACE_WORDS.search(text):
        tail = re.split(r"\b(in|naar|to)\b", text, flags=re.IGNORECASE)[-1]
        tail = _PLACE_TAIL.sub("", tail)
        place = clean_place(tail) if tail != text else None
    if place:
        changes["place"] = place
    if entities["role"]:
        changes["role"] = entities["role"]
    if entities["sector"]:
        changes["sector"] = entities["sector"]
    pathways = parse_pathways(text, entities["pathway"])
    if pathways and len(pathways) < 6:
        changes["pathway"] = pathways
    # "mail me liever", "ik kan pas volgende maand beginnen": read as the intake reads them.
    said = read(text, None).slots
    changes.update({slot: said[slot] for slot in ("contact_preference", "start") if slot in said})
    return changes


class ActionUpdateProfile(Action):
    """Change exactly the field a correction names; `profile_updated` says whether it could."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_update_profile"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Apply the correction to the profile and to the slots."""
        text = str(tracker.latest_message.get("text") or "")
        if text.startswith("/") or tracker.get_slot("consent_profile") is not True:
            return [SlotSet("profile_updated", False)]
        if mentions_health(text):
            dispatcher.utter_message(response="utter_health_not_stored")
            return [SlotSet("profile_updated", False)]
        entities = {
            name: entity_values(tracker, name)
            for name in ("hours", "place", "role", "sector", "pathway")
        }
        changes = corrections(text, entities)
        if not changes:
            return [SlotSet("profile_updated", False)]
        if not await save_values(tracker, changes):
            dispatcher.utter_message(response="utter_profile_not_saved")
            return [SlotSet("profile_updated", False)]
        slot_names = {
            "place": "place",
            "max_travel_minutes": "max_travel_minutes",
            "hours_min": "hours_min",
            "hours_max": "hours_max",
            "role": "roles",
            "sector": "sectors",
            "pathway": "pathways",
        }
        return [SlotSet("profile_updated", True)] + [
            SlotSet(slot_names[key], value) for key, value in changes.items()
        ]
