"""Many nudges due at once, sent by real gateway processes to the fake Bot API server that
enforces Telegram's limits with real 429s: each person gets exactly one, across a SIGKILL.

A small version of `python -m bench.nudges` (the 100,000-person benchmark), at a raised limit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.nudges import Options, run
from tests.support.environment import require
from tests.support.stack import postgres_available

PEOPLE = 300


def _check(figures: dict[str, object]) -> None:
    assert figures["received_429"] == 0
    assert figures["duplicates"] == 0
    assert figures["lost"] == 0
    assert figures["sent_plus_remaining"] == PEOPLE
    # The kill really came midway: some were sent before it, the rest only after the restart.
    sent_before = figures["sent_before_kill"]
    assert isinstance(sent_before, int) and PEOPLE * 0.3 <= sent_before < PEOPLE
    assert figures["sent_after_restart"] == PEOPLE - sent_before


@pytest.mark.e2e
def test_two_gateways_on_postgresql_send_each_nudge_once_across_a_kill(tmp_path: Path) -> None:
    require(postgres_available())
    figures = run(
        Options(
            people=PEOPLE,
            limit=100,
            gateways=2,
            database="postgresql",
            kill_at=0.3,
            workdir=tmp_path,
        )
    )
    _check(figures)


@pytest.mark.e2e
def test_one_gateway_on_sqlite_sends_each_nudge_once_across_a_kill(tmp_path: Path) -> None:
    figures = run(
        Options(
            people=PEOPLE, limit=100, gateways=1, database="sqlite", kill_at=0.3, workdir=tmp_path
        )
    )
    _check(figures)
