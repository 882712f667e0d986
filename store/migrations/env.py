"""Alembic environment: migrates the connection that `store.migrate` passes in."""

from __future__ import annotations

from typing import Any

from alembic import context

from store.models import Base

# Tables in the same database that belong to others and are created by them.
FOREIGN_TABLES = frozenset({"events", "apscheduler_jobs"})


def include_name(name: str | None, type_: Any, _parents: Any) -> bool:
    """Leave Rasa's and APScheduler's tables out of comparisons."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


def run_migrations() -> None:
    """Migrate on the given connection; SQLite needs batch mode to alter tables."""
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
