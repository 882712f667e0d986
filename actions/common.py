"""What several actions need: the person's language and a database session off the event loop.

rasa-sdk makes the actions itself (without arguments), so they cannot be handed an engine:
the action server gives this module one at start-up, from the settings (`use_database`), and
`in_session` opens every session on it. The tests give it theirs the same way."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from rasa_sdk import Tracker
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.db import in_thread
from core.languages import LANGUAGES, language_from_code
from store.profiles import split_sender

T = TypeVar("T")
logger = logging.getLogger(__name__)

# The action server's engine: set once at start-up (actions/server.py), None until then.
_engine: Engine | None = None


def use_database(engine: Engine | None) -> None:
    """Open the actions' sessions on `engine` from now on (None: on none)."""
    global _engine
    _engine = engine


def database() -> Engine:
    """The engine the action server was given at start-up."""
    if _engine is None:
        raise RuntimeError(
            "The actions have no database: the action server gives them its engine at start-up "
            "(actions.common.use_database(core.db.database_engine(settings)))"
        )
    return _engine


def current_language(tracker: Tracker) -> str:
    """The conversation's language: the slot, else the channel's hint, else Dutch."""
    slot = tracker.get_slot("language")
    if slot in LANGUAGES:
        return str(slot)
    metadata: dict[str, Any] = tracker.latest_message.get("metadata") or {}
    return language_from_code(metadata.get("language_code")) or "nl"


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    """The values of one entity in the latest message, in order, without repeats."""
    values: list[str] = []
    for found in tracker.latest_message.get("entities") or []:
        value = found.get("value")
        if found.get("entity") == entity and isinstance(value, str) and value not in values:
            values.append(value.strip())
    return [value for value in values if value]


def identity(sender_id: str) -> tuple[str, str]:
    """Channel and user id of a sender; a bare id (Rasa's own REST or shell) counts as `rest`."""
    try:
        return split_sender(sender_id)
    except ValueError:
        return "rest", sender_id


async def save_values(tracker: Tracker, values: dict[str, Any]) -> bool:
    """Write profile values for the tracker's sender; False (logged) when the database fails."""
    from sqlalchemy.exc import SQLAlchemyError

    from store.profiles import save_profile

    channel, user_id = identity(tracker.sender_id)
    language = current_language(tracker)

    def store(session: Session) -> None:
        save_profile(
            session=session,
            channel=channel,
            channel_user_id=user_id,
            language=language,
            values=values,
        )

    try:
        await in_session(store)
    except SQLAlchemyError:
        logger.error("Saving profile values failed; the database is unavailable")
        return False
    return True


async def in_session(work: Callable[[Session], T]) -> T:
    """Run `work` with a fresh session on the action server's database, off the event loop."""
    return await in_thread(database(), work)
