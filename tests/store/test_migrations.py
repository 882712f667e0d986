"""Alembic migrations: from empty, from the first release (with or without Alembic), and back.

Each test gets a database of its own (an empty SQLite file or a throwaway PostgreSQL
database), because it needs an empty or a legacy schema rather than the session's one.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import subprocess
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import Column, Engine, Integer, MetaData, Table, inspect, select, text
from sqlalchemy.orm import Session

from bot.cli.launcher import settings_env
from bot.delivery.nudges import NudgeTrigger
from core.db import make_engine, session_scope
from core.paths import ROOT
from core.time import as_utc
from store.conversation import EVENTS
from store.export import export_job_seeker
from store.migrate import current_revision, downgrade, head_revision, upgrade
from store.models import Base, ChannelIdentity, JobSeeker
from store.profiles import (
    add_success_moment,
    find_job_seeker,
    get_or_create_job_seeker,
    record_consent,
    replace_profile_items,
    save_profile_fields,
)
from tests.support.stack import make_settings, own_database

BASELINE = "0001"
# Tables in the same database that their owners create, never the migrations.
FOREIGN_TABLES = {"events", "apscheduler_jobs"}
# The first release's tables, in the order their rows can be inserted.
FIRST_RELEASE_TABLES = ("job_seekers", "consents", "profiles", "profile_items", "success_moments")
# job_seekers columns of the first release that moved to channel_identities.
MOVED_COLUMNS = {"channel", "channel_user_id"}


def at(day: int, hour: int = 12) -> datetime:
    """A fixed UTC moment in March 2025."""
    return datetime(2025, 3, day, hour, 30, 15, 123456, tzinfo=timezone.utc)


# Rows the first release wrote (its ORM filled every column; these are its shapes).
FIRST_RELEASE_ROWS: dict[str, list[dict[str, Any]]] = {
    "job_seekers": [
        {"id": 1, "channel": "telegram", "channel_user_id": "111222333", "language": "nl",
         "created_at": at(1), "updated_at": at(2)},
        {"id": 2, "channel": "web", "channel_user_id": "3f2a9c0d", "language": "en",
         "created_at": at(3), "updated_at": at(3)},
        {"id": 3, "channel": "telegram", "channel_user_id": "444555666", "language": "nl",
         "created_at": at(4), "updated_at": at(5)},
    ],
    "consents": [
        {"id": 1, "job_seeker_id": 1, "purpose": "profile", "given": True,
         "text_version": "v1", "channel": "telegram", "at": at(1, 13)},
        {"id": 2, "job_seeker_id": 1, "purpose": "nudges", "given": False,
         "text_version": "v1", "channel": "telegram", "at": at(2, 9)},
        {"id": 3, "job_seeker_id": 2, "purpose": "profile", "given": False,
         "text_version": "v1", "channel": "web", "at": at(3, 14)},
        {"id": 4, "job_seeker_id": 3, "purpose": "profile", "given": True,
         "text_version": "v1", "channel": "telegram", "at": at(4, 15)},
    ],
    "profiles": [
        {"job_seeker_id": 1, "name": "Anna", "place": "Utrecht", "max_travel_minutes": 30,
         "hours_min": 20, "hours_max": 24, "start": "per direct",
         "contact_preference": "bellen", "confirmed_at": at(2, 10), "updated_at": at(2, 10)},
        {"job_seeker_id": 3, "name": "Bram", "place": None, "max_travel_minutes": None,
         "hours_min": None, "hours_max": None, "start": None, "contact_preference": None,
         "confirmed_at": None, "updated_at": at(5, 8)},
    ],
    "profile_items": [
        {"id": 1, "job_seeker_id": 1, "kind": "talent", "value": "plannen", "position": 0,
         "created_at": at(1, 14)},
        {"id": 2, "job_seeker_id": 1, "kind": "talent", "value": "goed luisteren",
         "position": 1, "created_at": at(1, 14)},
        {"id": 3, "job_seeker_id": 1, "kind": "pathway", "value": "trial_placement",
         "position": 0, "created_at": at(1, 15)},
        {"id": 4, "job_seeker_id": 3, "kind": "sector", "value": "horeca", "position": 0,
         "created_at": at(4, 16)},
    ],
    "success_moments": [
        {"id": 1, "job_seeker_id": 1, "text": "ik had een gesprek!", "at": at(2, 11)},
        {"id": 2, "job_seeker_id": 3, "text": "ik ben aangenomen", "at": at(5, 9)},
    ],
}  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a new, empty database of this test's own."""
    with own_database(request.param, tmp_path) as engine:
        yield engine


def utc(value: Any) -> Any:
    """Datetimes as aware UTC (SQLite hands back the naive UTC values it stored)."""
    return as_utc(value) if isinstance(value, datetime) else value


def reflect(engine: Engine, name: str) -> Table:
    """A table as it is in the database now, whatever the models say."""
    return Table(name, MetaData(), autoload_with=engine)


def insert_first_release_rows(engine: Engine) -> None:
    """Write the first release's rows with plain SQL on its own schema."""
    with engine.begin() as connection:
        for name in FIRST_RELEASE_TABLES:
            connection.execute(reflect(engine, name).insert(), FIRST_RELEASE_ROWS[name])
        if connection.dialect.name == "postgresql":
            # The ids were given explicitly: move the sequences past them, as the ORM's
            # inserts would have.
            for name in FIRST_RELEASE_TABLES:
                if name != "profiles":
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                            f"(SELECT max(id) FROM {name}))"
                        )
                    )


def rows(engine: Engine, name: str) -> list[dict[str, Any]]:
    """Every row of a table, by primary key, with datetimes in aware UTC."""
    table = reflect(engine, name)
    with engine.connect() as connection:
        found = connection.execute(select(table).order_by(*table.primary_key.columns)).mappings()
        return [{key: utc(value) for key, value in row.items()} for row in found]


def assert_first_release_rows_survived(engine: Engine) -> None:
    """Every row is still there with every value, and each person has exactly their identity."""
    for name in FIRST_RELEASE_TABLES:
        expected = FIRST_RELEASE_ROWS[name]
        if name == "job_seekers":
            expected = [
                {key: value for key, value in row.items() if key not in MOVED_COLUMNS}
                for row in expected
            ]
        # Columns added by later revisions are new and empty; the first release's are compared.
        kept = [{key: row[key] for key in expected[0]} for row in rows(engine, name)]
        assert kept == expected, name
        added = {key for row in rows(engine, name) for key in row} - set(expected[0])
        assert all(row[key] is None for row in rows(engine, name) for key in added), name

    identities = rows(engine, "channel_identities")
    assert [
        (row["job_seeker_id"], row["channel"], row["channel_user_id"], row["created_at"])
        for row in identities
    ] == [
        (seeker["id"], seeker["channel"], seeker["channel_user_id"], seeker["created_at"])
        for seeker in FIRST_RELEASE_ROWS["job_seekers"]
    ]
    # The models read the migrated rows: the export of a first-release person is whole.
    with session_scope(engine) as session:
        exported = export_job_seeker(
            session=session, channel="telegram", channel_user_id="111222333"
        )
    assert exported["profile"]["name"] == "Anna"
    assert exported["profile"]["talents"] == ["plannen", "goed luisteren"]
    assert exported["profile"]["pathways"] == ["trial_placement"]
    assert [(c["purpose"], c["given"]) for c in exported["consents"]] == [
        ("profile", True),
        ("nudges", False),
    ]
    assert [moment["text"] for moment in exported["success_moments"]] == ["ik had een gesprek!"]
    assert exported["job_seeker"]["created_at"] == at(1).isoformat()


def assert_new_people_can_be_added(engine: Engine) -> None:
    """After the upgrade the store writes new people next to the old ones."""
    with session_scope(engine) as session:
        seeker = get_or_create_job_seeker(
            session=session, channel="whatsapp", channel_user_id="31612345678", language="nl"
        )
        record_consent(session=session, job_seeker=seeker, purpose="profile", given=True)
        new_id = seeker.id
    assert new_id not in {row["id"] for row in FIRST_RELEASE_ROWS["job_seekers"]}
    with session_scope(engine) as session:
        old = find_job_seeker(session=session, channel="web", channel_user_id="3f2a9c0d")
        assert old is not None and old.id == 2


def create_foreign_tables(engine: Engine) -> None:
    """Rasa's tracker-store table and APScheduler's job table, as their owners create them."""
    EVENTS.create(engine, checkfirst=True)
    store = SQLAlchemyJobStore(engine=engine)
    store.start(None, "default")  # creates `apscheduler_jobs`
    store.shutdown()


def schema_snapshot(engine: Engine) -> dict[str, Any]:
    """Tables, columns, indexes and unique constraints as the database reports them."""
    inspector = inspect(engine)
    snapshot: dict[str, Any] = {}
    for name in sorted(inspector.get_table_names()):
        snapshot[name] = (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)],
            sorted(
                (i["name"] or "", tuple(i["column_names"])) for i in inspector.get_indexes(name)
            ),
            sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)),
        )
    return snapshot


def differences(engine: Engine, metadata: MetaData) -> list[Any]:
    """What autogenerate would change to make the database match `metadata`."""

    def ours(name: str | None, type_: str, _parents: Any) -> bool:
        return not (type_ == "table" and name in FOREIGN_TABLES)

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "compare_server_default": True, "include_name": ours},
        )
        return list(compare_metadata(context, metadata))


# --- from empty -------------------------------------------------------------------------


def test_an_empty_database_is_migrated_to_head(blank_engine: Engine) -> None:
    assert current_revision(blank_engine) is None

    upgrade(blank_engine)

    tables = set(inspect(blank_engine).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert current_revision(blank_engine) == head_revision()
    # Rasa and APScheduler add their tables to the same database: still no difference.
    create_foreign_tables(blank_engine)
    assert differences(blank_engine, Base.metadata) == []


def test_a_database_where_rasa_started_first_is_migrated(blank_engine: Engine) -> None:
    """Rasa may create `events` (and write to it) before our tables exist; both stay."""
    create_foreign_tables(blank_engine)
    row = {
        "sender_id": "telegram:1",
        "type_name": "user",
        "timestamp": 1.5,
        "intent_name": "greet",
        "action_name": None,
        "data": '{"event": "user", "text": "hoi"}',
    }
    with blank_engine.begin() as connection:
        connection.execute(EVENTS.insert(), [row])
    assert current_revision(blank_engine) is None

    upgrade(blank_engine)

    assert current_revision(blank_engine) == head_revision()
    assert set(inspect(blank_engine).get_table_names()) == (
        set(Base.metadata.tables) | FOREIGN_TABLES | {"alembic_version"}
    )
    assert rows(blank_engine, "events") == [{"id": 1, **row}]
    assert differences(blank_engine, Base.metadata) == []


def test_the_comparison_would_see_a_model_the_migrations_lack(blank_engine: Engine) -> None:
    """The check above is not vacuous: a column only in the models is reported."""
    upgrade(blank_engine)
    drifted = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["profiles"].append_column(Column("shoe_size", Integer))

    found = differences(blank_engine, drifted)

    assert [(diff[0], diff[2], diff[3].name) for diff in found] == [
        ("add_column", "profiles", "shoe_size")
    ]


# --- from the first release -------------------------------------------------------------


def test_a_first_release_database_keeps_every_row(blank_engine: Engine) -> None:
    upgrade(blank_engine, BASELINE)
    assert current_revision(blank_engine) == BASELINE
    assert set(inspect(blank_engine).get_table_names()) == {
        *FIRST_RELEASE_TABLES,
        "alembic_version",
    }
    insert_first_release_rows(blank_engine)

    upgrade(blank_engine)

    assert current_revision(blank_engine) == head_revision()
    columns = {c["name"] for c in inspect(blank_engine).get_columns("job_seekers")}
    assert not columns & MOVED_COLUMNS
    assert_first_release_rows_survived(blank_engine)
    assert differences(blank_engine, Base.metadata) == []
    assert_new_people_can_be_added(blank_engine)


def test_a_database_from_before_alembic_is_stamped_and_upgraded(blank_engine: Engine) -> None:
    upgrade(blank_engine, BASELINE)
    insert_first_release_rows(blank_engine)
    with blank_engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    assert current_revision(blank_engine) is None

    upgrade(blank_engine)

    assert current_revision(blank_engine) == head_revision()
    assert_first_release_rows_survived(blank_engine)
    assert differences(blank_engine, Base.metadata) == []
    assert_new_people_can_be_added(blank_engine)


def test_a_database_from_before_alembic_can_be_stamped_only(blank_engine: Engine) -> None:
    upgrade(blank_engine, BASELINE)
    insert_first_release_rows(blank_engine)
    with blank_engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))

    upgrade(blank_engine, BASELINE)

    assert current_revision(blank_engine) == BASELINE
    for name in FIRST_RELEASE_TABLES:
        assert rows(blank_engine, name) == FIRST_RELEASE_ROWS[name], name


# --- back and forth ---------------------------------------------------------------------


def make_person(session: Session, channel: str, user_id: str, name: str) -> int:
    """A person with consent, profile fields, a talent and a success moment; their id."""
    seeker = get_or_create_job_seeker(
        session=session, channel=channel, channel_user_id=user_id, language="nl"
    )
    record_consent(session=session, job_seeker=seeker, purpose="profile", given=True)
    save_profile_fields(session=session, job_seeker=seeker, fields={"name": name})
    replace_profile_items(session=session, job_seeker=seeker, kind="talent", values=["plannen"])
    add_success_moment(session=session, job_seeker=seeker, text=f"{name} had een gesprek")
    return seeker.id


def test_downgrade_and_upgrade_again_keep_the_data(blank_engine: Engine) -> None:
    upgrade(blank_engine)
    with session_scope(blank_engine) as session:
        anna = make_person(session, "telegram", "1001", "Anna")
        bram = make_person(session, "web", "b0b0", "Bram")
        # A second channel for Anna: the first schema has room for only one.
        seeker = session.get(JobSeeker, anna)
        assert seeker is not None
        seeker.identities.append(ChannelIdentity(channel="whatsapp", channel_user_id="316000"))
    kept = {name: rows(blank_engine, name) for name in FIRST_RELEASE_TABLES}

    downgrade(blank_engine, BASELINE)

    assert current_revision(blank_engine) == BASELINE
    assert set(inspect(blank_engine).get_table_names()) == {
        *FIRST_RELEASE_TABLES,
        "alembic_version",
    }
    channels = {
        row["id"]: (row["channel"], row["channel_user_id"])
        for row in rows(blank_engine, "job_seekers")
    }
    # A person linked on several channels keeps the first identity.
    assert channels == {anna: ("telegram", "1001"), bram: ("web", "b0b0")}
    for name in FIRST_RELEASE_TABLES[1:]:
        now = rows(blank_engine, name)
        # Columns of later revisions are gone; every value of the first release's is kept.
        assert now == [{key: row[key] for key in now[0]} for row in kept[name]], name

    upgrade(blank_engine)

    assert current_revision(blank_engine) == head_revision()
    assert {name: rows(blank_engine, name) for name in FIRST_RELEASE_TABLES} == kept
    identities = rows(blank_engine, "channel_identities")
    assert sorted(
        (r["job_seeker_id"], r["channel"], r["channel_user_id"]) for r in identities
    ) == [
        (anna, "telegram", "1001"),
        (bram, "web", "b0b0"),
    ]
    assert differences(blank_engine, Base.metadata) == []
    with session_scope(blank_engine) as session:
        seeker = find_job_seeker(session=session, channel="telegram", channel_user_id="1001")
        assert seeker is not None and seeker.profile is not None
        assert seeker.profile.name == "Anna"


def test_upgrading_twice_changes_nothing(blank_engine: Engine) -> None:
    upgrade(blank_engine)
    with session_scope(blank_engine) as session:
        make_person(session, "telegram", "2002", "Chris")
    schema = schema_snapshot(blank_engine)
    data = {name: rows(blank_engine, name) for name in Base.metadata.tables}
    version = rows(blank_engine, "alembic_version")

    upgrade(blank_engine)

    assert current_revision(blank_engine) == head_revision()
    assert rows(blank_engine, "alembic_version") == version == [{"version_num": head_revision()}]
    assert schema_snapshot(blank_engine) == schema
    assert {name: rows(blank_engine, name) for name in Base.metadata.tables} == data


# --- the command ------------------------------------------------------------------------


@pytest.mark.e2e
def test_the_db_upgrade_command_migrates_a_new_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "werkmaatje.db"
    settings = make_settings(database_url=f"sqlite:///{path}")
    env = {**os.environ, **settings_env(settings)}
    command = [str(ROOT / ".venv" / "bin" / "werkmaatje"), "db", "upgrade"]

    for _ in range(2):  # and once more on the migrated file: nothing to do, still fine
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, result.stderr
        assert "The database is up to date." in result.stdout

    assert path.exists()
    engine = make_engine(f"sqlite:///{path}")
    try:
        assert current_revision(engine) == head_revision()
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        assert differences(engine, Base.metadata) == []
    finally:
        engine.dispose()


def _migration(name: str) -> Any:
    """A migration module (its file name starts with a digit, so it is loaded by path)."""
    path = ROOT / "store" / "migrations" / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stored_nudge_jobs_still_load_after_the_nudge_module_moved(blank_engine: Engine) -> None:
    """A job stored before bot/nudges.py became bot/delivery/nudges.py names the old module; the
    upgrade rewrites it, so the gateway reads it instead of dropping it."""
    moved = _migration("0006_nudge_jobs_moved")
    upgrade(blank_engine, "0005")
    create_foreign_tables(blank_engine)
    run_at = datetime(2026, 12, 8, 10, 0, tzinfo=timezone.utc)
    state = {
        "version": 1,
        "id": "nudge:7",
        "func": "bot.delivery.nudges:send_nudge",
        "trigger": NudgeTrigger(run_at),
        "executor": "default",
        "args": (7, run_at.isoformat()),
        "kwargs": {},
        "name": "send_nudge",
        "misfire_grace_time": None,
        "coalesce": True,
        "max_instances": 1,
        "next_run_time": run_at,
    }
    # As the code before the move stored it: the function and the trigger class by old path.
    before = moved.rename_module(
        pickle.dumps(state, pickle.HIGHEST_PROTOCOL), moved.NEW, "bot.nudges"
    )
    assert b"bot.nudges" in before and b"bot.delivery" not in before
    with blank_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO apscheduler_jobs (id, next_run_time, job_state) VALUES (:i, :t, :s)"
            ),
            {"i": "nudge:7", "t": run_at.timestamp(), "s": before},
        )
    jobs = SQLAlchemyJobStore(engine=blank_engine)
    jobs.start(None, "default")

    upgrade(blank_engine)

    [job] = jobs.get_all_jobs()
    assert job.func_ref == "bot.delivery.nudges:send_nudge"
    assert isinstance(job.trigger, NudgeTrigger) and job.trigger.run_date == run_at
    assert job.args == (7, run_at.isoformat()) and job.next_run_time == run_at

    downgrade(blank_engine, "0005")
    stored = rows(blank_engine, "apscheduler_jobs")[0]["job_state"]
    assert b"bot.nudges:send_nudge" in stored and b"bot.delivery" not in stored
    upgrade(blank_engine)
    assert [job.func_ref for job in jobs.get_all_jobs()] == ["bot.delivery.nudges:send_nudge"]
