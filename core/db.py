"""The one way to the database: engines (one pool per URL per process) and sessions.

Engines are created on first use, never at import time, from the settings (database_engine)
or a URL the caller has; nothing here reads the environment. The schema is store/migrate.py's."""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from core.paths import ROOT
from core.settings import Settings

T = TypeVar("T")


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs written without a driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# Connections kept open per process. The gateway uses a dozen side by side under load (the
# outbox lanes, the threads that queue nudges, the scheduler); with fewer kept, every extra one
# is opened and closed again per use, and on PostgreSQL each opening starts a server process.
POOL = {"pool_size": 16, "max_overflow": 16}


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Rasa's action server, the gateway and the CLI open the same file: WAL lets readers
    # go on while one writes, and the busy timeout waits for a writer instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for `url`, creating the SQLite file's folder when needed."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        in_file = bool(path) and path != ":memory:" and "///" in url
        if in_file:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # An in-memory database lives in one connection per thread: no pool to size.
        engine = create_engine(url, **POOL) if in_file else create_engine(url)
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, **POOL)


# A process uses one URL; a few are kept for the tests, which open databases of their own.
KEPT_ENGINES = 4
_engines: OrderedDict[str, Engine] = OrderedDict()
_engines_lock = threading.Lock()


def engine_for(url: str) -> Engine:
    """One engine (and so one pool) per URL for the life of the process. Beyond the few kept,
    the engine used longest ago is disposed of: its pooled connections are closed, not left
    for the garbage collector."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is not None:
            _engines.move_to_end(url)
            return engine
        engine = _engines[url] = make_engine(url)
        while len(_engines) > KEPT_ENGINES:
            _, oldest = _engines.popitem(last=False)
            oldest.dispose()
        return engine


def absolute_sqlite_url(url: str) -> str:
    """A relative SQLite path made absolute, so every process opens the same file."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str((ROOT / url[len(prefix) :]).resolve())
    return url


def database_engine(settings: Settings) -> Engine:
    """The process's engine (one pool) for the configured database, SQLite path made absolute."""
    return engine_for(absolute_sqlite_url(settings.database_url))


async def in_thread(engine: Engine, work: Callable[[Session], T]) -> T:
    """Run blocking `work` with a fresh session in a worker thread, off the event loop; one
    transaction, committed on success."""

    def run() -> T:
        with session_scope(engine) as session:
            return work(session)

    return await asyncio.to_thread(run)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session on `engine` that commits on success and rolls back on any error."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
