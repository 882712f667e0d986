"""Schema migrations with Alembic: `werkmaatje db upgrade`, `make run` and the tests use this."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

MIGRATIONS = Path(__file__).parent / "migrations"
# The schema the first release created without Alembic.
BASELINE = "0001"


def alembic_config() -> Config:
    """Alembic's configuration, without an ini file: the scripts live in store/migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision in the repository."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision a database is at; None for an empty or pre-migration database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction; on SQLite with foreign keys off meanwhile.

    SQLite alters a table by copying it and dropping the old one, and with foreign keys on,
    that drop would cascade into every child table. The pragma only works outside a
    transaction, so it is set before the transaction begins.
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if problems:
                        raise RuntimeError(f"foreign key violations after migrating: {problems}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision`, from empty or from any earlier state."""
    config = alembic_config()
    with _migration_connection(engine) as connection:
        config.attributes["connection"] = connection
        tables = set(inspect(connection).get_table_names())
        if "job_seekers" in tables and "alembic_version" not in tables:
            command.stamp(config, BASELINE)
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Go back to `revision` (used to test that upgrades keep existing rows)."""
    config = alembic_config()
    with _migration_connection(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def create_schema(engine: Engine) -> None:
    """Create or upgrade the project's tables with the migrations in store/migrations."""
    upgrade(engine)
