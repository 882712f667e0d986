"""Reading, redacting and deleting the conversation history in Rasa's tracker store.

Rasa's `SQLTrackerStore` writes every event of a conversation as a row of its `events` table
(in the same database as ours, created by Rasa on start). The table is described here, not
created: before Rasa has run, there is simply no history.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import Session

EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


def has_events_table(connection: Connection) -> bool:
    """Whether Rasa has created its table in this database yet."""
    return inspect(connection).has_table("events")


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat()


def conversation(sender_ids: Sequence[str], *, session: Session) -> list[dict[str, Any]]:
    """What the person and the bot said, oldest first, in the export format."""
    connection = session.connection()
    if not sender_ids or not has_events_table(connection):
        return []
    rows = connection.execute(
        select(EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.data)
        .where(EVENTS.c.sender_id.in_(sender_ids), EVENTS.c.type_name.in_(("user", "bot")))
        .order_by(EVENTS.c.timestamp, EVENTS.c.id)
    )
    said = []
    for type_name, timestamp, data in rows:
        text = json.loads(data or "{}").get("text")
        if not text:
            continue  # a button press without text, or a reply that was only buttons
        speaker = "user" if type_name == "user" else "bot"
        said.append({"from": speaker, "text": text, "at": _iso(timestamp)})
    return said


def delete_conversations(sender_ids: Sequence[str], *, session: Session) -> int:
    """Remove every event of these conversations; the number of rows removed."""
    connection = session.connection()
    if not sender_ids or not has_events_table(connection):
        return 0
    result = connection.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(sender_ids)))
    return int(result.rowcount or 0)


def last_activity(*, session: Session) -> dict[str, float]:
    """Per conversation, the time of its newest event (a Unix timestamp)."""
    connection = session.connection()
    if not has_events_table(connection):
        return {}
    rows = connection.execute(
        select(EVENTS.c.sender_id, func.max(EVENTS.c.timestamp)).group_by(EVENTS.c.sender_id)
    )
    return {sender: float(latest or 0.0) for sender, latest in rows}


def _rewrite(value: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_rewrite(item, redact) for item in value]
    if isinstance(value, dict):
        return {key: _rewrite(item, redact) for key, item in value.items()}
    return value


def redact_events(
    sender_id: str, since: float, redact: Callable[[str], str], *, session: Session
) -> int:
    """Rewrite every string in this conversation's events from `since` on; rows changed.

    Rasa only appends to its table (it counts the rows it has, then adds the rest), so
    rewriting rows it already wrote never makes it write them again.
    """
    connection = session.connection()
    if not has_events_table(connection):
        return 0
    rows = connection.execute(
        select(EVENTS.c.id, EVENTS.c.data).where(
            EVENTS.c.sender_id == sender_id, EVENTS.c.timestamp >= since
        )
    ).all()
    changed = 0
    for row_id, data in rows:
        if not data:
            continue
        original = json.loads(data)
        rewritten = _rewrite(original, redact)
        if rewritten != original:
            connection.execute(
                update(EVENTS).where(EVENTS.c.id == row_id).values(data=json.dumps(rewritten))
            )
            changed += 1
    return changed
