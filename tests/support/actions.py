"""Shared helpers for the action tests: tracker fixtures, the domain and reading the store."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, func, select

from actions.common import use_database
from core.db import database_engine, session_scope
from core.paths import ROOT
from store.export import export_job_seeker
from store.models import Consent, JobSeeker, Profile, ProfileItem, SuccessMoment
from store.profiles import (
    find_job_seeker,
    get_or_create_job_seeker,
    record_consent,
    save_profile,
    split_sender,
)
from tests.support.stack import make_settings

TRACKERS = ROOT / "tests" / "trackers"
DOMAIN_DIR = ROOT / "domain"
# Nothing listens on port 1: connecting fails at once with "connection refused".
UNREACHABLE_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:1/none"
LONG_TEXT = " ".join(["woord"] * 300)


@contextmanager
def actions_database(database_url: str) -> Iterator[Engine]:
    """The actions' database at `database_url`, given to them as the action server does at
    start-up (the engine from the settings); taken away again afterwards."""
    engine = database_engine(make_settings(database_url=database_url))
    use_database(engine)
    try:
        yield engine
    finally:
        use_database(None)
        # One engine per URL for the process: closing its pooled connections lets the
        # PostgreSQL test database be dropped at the end of the session.
        engine.dispose()


# The profile the tests/trackers/save_profile.json slots describe, in the export format.
FULL_PROFILE: dict[str, Any] = {
    "name": "Anna",
    "talents": ["goed met mensen", "plannen"],
    "development_points": ["Excel"],
    "roles": ["kok"],
    "sectors": ["horeca"],
    "place": "Utrecht",
    "max_travel_minutes": 30,
    "hours_min": 20,
    "hours_max": 24,
    "pathways": ["regular_job", "trial_placement"],
    "start": "per direct",
    "support_needs": ["een vaste werkplek"],
    "contact_preference": "via deze chat",
}
EMPTY_PROFILE: dict[str, Any] = {
    key: [] if isinstance(value, list) else None for key, value in FULL_PROFILE.items()
}


def new_sender(channel: str = "telegram") -> str:
    """A sender id no other test uses; the database is shared within the test session."""
    return f"{channel}:{uuid.uuid4().hex}"


def entity(name: str, value: str, text: str | None = None) -> dict[str, Any]:
    """An entity as Rasa puts it in `latest_message`, with offsets when `text` holds it."""
    found: dict[str, Any] = {"entity": name, "value": value, "extractor": "DIETClassifier"}
    if text is not None and value.lower() in text.lower():
        start = text.lower().index(value.lower())
        found.update(start=start, end=start + len(value))
    return found


def load_tracker(
    name: str,
    *,
    sender_id: str | None = None,
    slots: dict[str, Any] | None = None,
    text: str | None = None,
    intent: str | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> Tracker:
    """The tracker in tests/trackers/NAME.json, under a channel user id no other test uses.

    `text`, `intent` and `entities` replace those of the latest message (in `latest_message`
    and in the last user event alike).
    """
    state = json.loads((TRACKERS / f"{name}.json").read_text(encoding="utf-8"))
    if sender_id is None:
        channel, sep, _ = state["sender_id"].partition(":")
        sender_id = f"{channel}:{uuid.uuid4().hex}" if sep else state["sender_id"]
    state["sender_id"] = sender_id
    unknown = set(slots or {}) - set(state["slots"])
    assert not unknown, f"slots not in the fixture: {sorted(unknown)}"
    state["slots"].update(slots or {})
    users = [event for event in state["events"] if event["event"] == "user"]
    targets = [state["latest_message"], *([users[-1]["parse_data"]] if users else [])]
    for target in targets:
        if text is not None:
            target["text"] = text
        if intent is not None:
            target["intent"] = {"name": intent, "confidence": 0.95}
            target["intent_ranking"] = [{"name": intent, "confidence": 0.95}]
        if entities is not None:
            target["entities"] = entities
    if users and text is not None:
        users[-1]["text"] = text
    return Tracker.from_dict(state)


def form_step(
    slot: str,
    value: Any,
    *,
    sender_id: str | None = None,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    intent: str = "inform",
    confidence: float = 0.91,
) -> Tracker:
    """The tracker as the intake form hands it to its validation: `slot` was asked, and the
    latest message (`value`, a list joined with commas) is its answer, not yet read."""
    state = json.loads((TRACKERS / "intake_first_name.json").read_text(encoding="utf-8"))
    text = ", ".join(value) if isinstance(value, list) else str(value)
    state["sender_id"] = sender_id or new_sender()
    state["slots"].update({"first_name": None, "requested_slot": slot})
    state["slots"].update(slots or {})
    for target in (state["latest_message"], state["events"][-3]["parse_data"]):
        target["text"] = text
        target["entities"] = entities or []
        target["intent"] = {"name": intent, "confidence": confidence}
    state["events"][-3]["text"] = text
    # The form reads the answer itself: no slot was filled from the text before it runs.
    del state["events"][-1]
    return Tracker.from_dict(state)


@cache
def _domain() -> str:
    merged: dict[str, Any] = {}
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        part: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in part.items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            else:
                merged[key] = value
    return json.dumps(merged)


def domain() -> dict[str, Any]:
    """The assistant's domain (domain/*.yml merged), as the action server receives it."""
    loaded: dict[str, Any] = json.loads(_domain())
    return loaded


def button_payloads(variation: dict[str, Any]) -> list[str]:
    """A response variation's button payloads as Rasa sends them: it fills placeholders in
    responses, so a payload's doubled braces (`/intent{{"entity":"value"}}`) come out single."""
    return [str(button["payload"]).format() for button in variation["buttons"]]


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    """The response names an action dispatched, each checked to exist in the domain."""
    names = [str(message["response"]) for message in dispatcher.messages]
    missing = [name for name in names if name not in domain()["responses"]]
    assert not missing, f"responses not in the domain: {missing}"
    return names


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per project table, to show that an action wrote nothing at all."""
    with session_scope(engine) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (JobSeeker, Consent, Profile, ProfileItem, SuccessMoment)
        }


def store_decisions(engine: Engine, sender_id: str, decisions: list[bool]) -> None:
    """A job seeker with these profile consent decisions, oldest first."""
    channel, user_id = split_sender(sender_id)
    with session_scope(engine) as session:
        seeker = get_or_create_job_seeker(
            session=session, channel=channel, channel_user_id=user_id, language="nl"
        )
        for given in decisions:
            record_consent(session=session, job_seeker=seeker, purpose="profile", given=given)


def seed_profile(engine: Engine, sender_id: str, values: dict[str, object]) -> None:
    """A job seeker with profile consent and these profile values (store names)."""
    channel, user_id = split_sender(sender_id)
    with session_scope(engine) as session:
        save_profile(
            session=session, channel=channel, channel_user_id=user_id, language="nl", values=values
        )


def export(engine: Engine, sender_id: str) -> dict[str, Any]:
    """The sender's data in the export format."""
    channel, user_id = split_sender(sender_id)
    with session_scope(engine) as session:
        return export_job_seeker(session=session, channel=channel, channel_user_id=user_id)


def exported_profile(engine: Engine, sender_id: str) -> dict[str, Any]:
    """The `profile` part of the sender's export."""
    profile: dict[str, Any] = export(engine, sender_id)["profile"]
    return profile


def seeker_exists(engine: Engine, sender_id: str) -> bool:
    """Whether any job seeker row exists for the sender."""
    channel, user_id = split_sender(sender_id)
    with session_scope(engine) as session:
        found = find_job_seeker(session=session, channel=channel, channel_user_id=user_id)
        return found is not None
