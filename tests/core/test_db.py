"""The process's engines: one per URL, and the oldest beyond the few kept is disposed of."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from core.db import KEPT_ENGINES, engine_for


def test_one_engine_per_url_and_the_oldest_let_go_is_closed(tmp_path: Path) -> None:
    urls = [f"sqlite:///{tmp_path / f'db{n}.sqlite'}" for n in range(KEPT_ENGINES + 1)]
    first = engine_for(urls[0])
    assert engine_for(urls[0]) is first
    with first.connect() as connection:
        connection.execute(text("select 1"))
    pool = first.pool
    assert isinstance(pool, QueuePool)
    assert pool.checkedin() == 1  # the connection waits in the pool for the next use
    for url in urls[1:]:
        engine_for(url)
    # Disposed of: its pooled connection is closed and the engine starts a fresh pool.
    assert pool.checkedin() == 0 and first.pool is not pool
    assert engine_for(urls[0]) is not first
