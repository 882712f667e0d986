"""Nudge dispatch: many people due at once, sent within Telegram's limits, exactly once.

N job seekers who agreed to nudges each have a nudge job due now. Real gateway processes send
them to the fake Bot API server, which enforces Telegram's limits (a sliding second of
`limit` message sends overall, 1 per second per chat) with real 429 answers. Midway one
gateway is killed with SIGKILL and started again. Figures:

- the achieved rate of each stretch of sending (first to last send, before the kill and after
  the restart) as a fraction of the limit;
- the 429s the server answered, the duplicates (messages beyond one per person);
- sent before the kill + sent after the restart, against N; the people who got nothing.

The test suite runs a small version of the same code (tests/e2e/test_nudge_dispatch.py).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text

from bot.cli import launcher
from bot.delivery.nudges import NudgeScheduler
from core.db import make_engine
from core.settings import Settings
from store.migrate import upgrade
from store.models import ChannelIdentity, Consent, JobSeeker, NudgeSettings
from tests.support.fake_telegram import FakeBotApi, SendLimits
from tests.support.stack import postgres_database, telegram_state, wait_until, webhook_settings

logger = logging.getLogger("bench.nudges")

RATE_TARGET = 0.95
FIRST_CHAT = 500_000_000
SECRET = "bench-nudges-secret"  # noqa: S105 (the fake server's webhook secret)
STALL_SECONDS = 300.0  # no send for this long (the lease and reruns are shorter): give up


@dataclass(frozen=True)
class Options:
    """What to run."""

    people: int
    limit: int  # the server's overall limit, messages per second
    gateways: int
    database: str  # sqlite | postgresql
    kill_at: float  # the fraction of people sent to when a gateway is killed
    workdir: Path


def seed(engine: Engine, people: int, now: datetime) -> list[int]:
    """People who said yes to weekly nudges on Telegram; their ids."""
    batch = 5_000
    ids: list[int] = []
    with engine.begin() as connection:
        for start in range(0, people, batch):
            count = min(batch, people - start)
            rows = connection.execute(
                insert(JobSeeker).returning(JobSeeker.id),
                [{"language": "nl", "created_at": now, "updated_at": now}] * count,
            ).all()
            new = [row.id for row in rows] if rows else []
            ids.extend(new)
            connection.execute(
                insert(ChannelIdentity),
                [
                    {
                        "job_seeker_id": seeker,
                        "channel": "telegram",
                        "channel_user_id": str(FIRST_CHAT + start + offset),
                        "created_at": now,
                    }
                    for offset, seeker in enumerate(new)
                ],
            )
            connection.execute(
                insert(Consent),
                [
                    {
                        "job_seeker_id": seeker,
                        "purpose": "nudges",
                        "given": True,
                        "text_version": "v1",
                        "channel": "telegram",
                        "at": now,
                    }
                    for seeker in new
                ],
            )
            connection.execute(
                insert(NudgeSettings),
                [
                    {"job_seeker_id": seeker, "frequency": "weekly", "updated_at": now}
                    for seeker in new
                ],
            )
    return ids


async def schedule_all(settings: Settings, engine: Engine, ids: list[int], due: datetime) -> None:
    """Each person's job, due at `due`, in the job store (as the sync would add them)."""
    runtime = NudgeScheduler(settings, engine=engine)
    await runtime.start(paused=True)
    try:
        for seeker in ids:
            runtime.schedule_person(seeker, due)
    finally:
        await runtime.stop()


def analyse(engine: Engine) -> None:
    """Give the database statistics on what was just loaded, as autovacuum would soon after a
    bulk load (some PostgreSQL set-ups, this machine's among them, run without it)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    """A fresh database for the run."""
    if kind == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{workdir / 'nudges.db'}"


def gateway_settings(fake: FakeBotApi, url: str, limit: int, gateways: int) -> Settings:
    """A gateway that sends nudges at once, day and night, sharing the limit with the others."""
    return webhook_settings(
        fake,
        SECRET,
        database_url=url,
        nudge_first_after_minutes=0,
        nudge_quiet_hours="off",
        # A little under the limit leaves room for jitter; replicas share it.
        telegram_messages_per_second=limit * 0.97 / gateways,
        outbox_poll_seconds=1.0,
        outbox_lease_seconds=20.0,
    )


def _connected(settings: Settings) -> bool:
    return telegram_state(settings) == "webhook"


def _longest_gaps(times: list[float], count: int = 3) -> list[float]:
    gaps = sorted((later - earlier for earlier, later in itertools.pairwise(times)), reverse=True)
    return [round(gap, 3) for gap in gaps[:count]]


def _stretch_rate(times: list[float]) -> float:
    if len(times) < 2:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0])


def run(options: Options) -> dict[str, Any]:
    """Run the scenario; the figures."""
    with ExitStack() as stack:
        fake = stack.enter_context(FakeBotApi())
        fake.enforce_limits(SendLimits(overall_per_second=options.limit))
        url = stack.enter_context(database(options.database, options.workdir))
        engine = make_engine(url)
        stack.callback(engine.dispose)
        upgrade(engine)
        now = datetime.now(timezone.utc)
        started = time.monotonic()
        ids = seed(engine, options.people, now)
        gateways = []
        for number in range(options.gateways):
            settings = gateway_settings(fake, url, options.limit, options.gateways)
            logs = options.workdir / f"gateway-{number}"
            logs.mkdir(parents=True, exist_ok=True)
            gateways.append((settings, launcher.gateway(settings, logs)))
        asyncio.run(schedule_all(gateways[0][0], engine, ids, now - timedelta(seconds=1)))
        analyse(engine)
        logger.info(
            "Seeded %s people and their jobs in %.0f s", len(ids), time.monotonic() - started
        )

        for _settings, service in gateways:
            service.start()
            stack.callback(service.stop)
        for settings, service in gateways:
            service.wait_healthy(time.monotonic() + service.startup_timeout)
            wait_until(partial(_connected, settings), timeout=60)

        kill_at = int(options.people * options.kill_at)
        _wait_for_sends(fake, kill_at, options.people)
        _victim_settings, victim = gateways[0]
        assert victim.process is not None
        os.kill(victim.process.pid, signal.SIGKILL)
        victim.process.wait()
        killed_at = time.monotonic()
        time.sleep(1.0)  # let the server finish a request that was in flight
        sent_before = fake.delivered_count()
        times_before = fake.send_times()
        logger.info("Killed gateway 0 after %s sends; restarting it", sent_before)
        victim.start()
        victim.wait_healthy(time.monotonic() + victim.startup_timeout)
        restarted_at = time.monotonic()

        _wait_for_sends(fake, options.people, options.people)
        delivered = fake.delivered_count()
        times = fake.send_times()
        times_after = (
            [moment for moment in times if moment > times_before[-1]] if times_before else times
        )
        per_chat = fake.delivered_per_chat()
        chats = set(per_chat)
        twice = [chat for chat, count in per_chat.items() if count > 1]
        if twice:
            logger.error("Sent more than once to %s chat(s), e.g. %s", len(twice), twice[:5])
        expected = {FIRST_CHAT + offset for offset in range(options.people)}
        figures = {
            "people": options.people,
            "limit_per_second": options.limit,
            "gateways": options.gateways,
            "database": options.database,
            "rate_before_kill": round(_stretch_rate(times_before) / options.limit, 4),
            "rate_after_restart": round(_stretch_rate(times_after) / options.limit, 4),
            "sends_before_kill": len(times_before),
            "sends_after_restart": len(times_after),
            "received_429": fake.send_stats().too_many_requests,
            "duplicates": delivered - len(chats),
            "sent_before_kill": sent_before,
            "remaining_at_kill": options.people - sent_before,
            "sent_after_restart": delivered - sent_before,
            "sent_plus_remaining": sent_before + (delivered - sent_before),
            "lost": len(expected - chats),
            "downtime_seconds": round(restarted_at - killed_at, 1),
            "longest_gaps_before_kill": _longest_gaps(times_before),
            "longest_gaps_after_restart": _longest_gaps(times_after),
            "wall_seconds": round(time.monotonic() - started, 1),
        }
        return figures


def _wait_for_sends(fake: FakeBotApi, count: int, people: int) -> None:
    """Until `count` messages were delivered; AssertionError when sending stalls."""
    last, last_change = -1, time.monotonic()
    while True:
        delivered = fake.delivered_count()
        if delivered >= count:
            return
        if delivered != last:
            if delivered // 5000 != last // 5000:
                logger.info("%s of %s sent", delivered, people)
                # The fake keeps every call it answered. Out of the garbage collector's full
                # passes they go, or those passes (longer as the calls pile up) stall the fake's
                # request threads, which then stamp a backlog of sends as if they came at once.
                gc.freeze()
            last, last_change = delivered, time.monotonic()
        elif time.monotonic() - last_change > STALL_SECONDS:
            raise AssertionError(f"sending stalled at {delivered} of {people}")
        time.sleep(0.5)


def figures_lines(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON lines `make bench` prints."""
    rate = min(figures["rate_before_kill"], figures["rate_after_restart"])
    return [
        {
            "figure": "nudge_dispatch_rate",
            "value": rate,
            "target": RATE_TARGET,
            "n": figures["people"],
            "detail": figures,
        },
        {"figure": "nudge_dispatch_429", "value": figures["received_429"], "target": 0},
        {"figure": "nudge_dispatch_duplicates", "value": figures["duplicates"], "target": 0},
        {
            "figure": "nudge_dispatch_sent_plus_remaining",
            "value": figures["sent_plus_remaining"],
            "target": figures["people"],
        },
    ]


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.nudges`."""
    parser = argparse.ArgumentParser(prog="python -m bench.nudges", description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=30, help="server limit, messages/s")
    parser.add_argument("--gateways", type=int, default=1)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--kill-at", type=float, default=0.5)
    parser.add_argument("--workdir", type=Path, help="keep the gateways' logs here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")  # fmt: skip
    for name in ("apscheduler", "httpx", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-nudges-") as temporary:
        workdir = args.workdir or temporary
        figures = run(
            Options(
                people=args.people,
                limit=args.limit,
                gateways=args.gateways,
                database=args.database,
                kill_at=args.kill_at,
                workdir=Path(workdir),
            )
        )
    for line in figures_lines(figures):
        print(json.dumps(line), flush=True)
    wrong = figures["duplicates"] or figures["lost"] or figures["received_429"]
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
