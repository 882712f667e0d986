"""Nudges out: sent once, claimed once across gateways, the rules, and the persistent jobs.

The job is run directly with a hand-moved clock; the scheduler wiring (ids, restarts, misfire
settings) is checked on a scheduler started paused, the misfire paths on a running one.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, select
from telegram import Bot

from bot.nudges import MODULE, NudgeScheduler, deliver_nudge, done_callback_id, record_completion
from bot.settings import Settings
from store.db import make_engine, session_scope
from store.models import NudgeLog, NudgeSettings, as_utc
from store.nudge_catalogue import load_catalogue
from store.nudge_schedule import AMSTERDAM
from store.profiles import find_job_seeker, record_consent, save_profile
from tests.fake_telegram import FakeBotApi
from tests.stack import make_settings

_CHATS = itertools.count(6660001)
START = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # Monday, 11:00 in Amsterdam
CATALOGUE = load_catalogue()


async def settle(done: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait, letting the scheduler's loop run, until `done()` holds."""
    for _ in range(int(timeout / 0.05)):
        if done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the scheduler did not get there in time")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    """A fresh database with one person who agreed to weekly nudges on Telegram."""

    engine: Engine
    settings: Settings
    fake: FakeBotApi
    bot: Bot
    clock: Clock
    runtime: NudgeScheduler
    chat: int
    seeker_id: int

    def log(self) -> list[NudgeLog]:
        """The person's nudge log, oldest first."""
        with session_scope(self.engine) as session:
            return list(session.scalars(select(NudgeLog).order_by(NudgeLog.id)).all())

    def set_nudges(self, **values: object) -> None:
        """Change the person's nudge settings."""
        with session_scope(self.engine) as session:
            settings = session.get(NudgeSettings, self.seeker_id)
            assert settings is not None
            for key, value in values.items():
                setattr(settings, key, value)

    def consent(self, given: bool) -> None:
        """Give or withdraw the nudge consent."""
        with session_scope(self.engine) as session:
            seeker = find_job_seeker(
                session=session, channel="telegram", channel_user_id=str(self.chat)
            )
            assert seeker is not None
            record_consent(session=session, job_seeker=seeker, purpose="nudges", given=given)

    def job_run_at(self) -> datetime | None:
        """When the person's job runs next, or None without a job."""
        job = self.runtime.scheduler.get_job(f"nudge:{self.seeker_id}")
        return None if job is None else job.trigger.run_date

    def sent(self) -> list[dict[str, object]]:
        """The messages sent to the person's chat."""
        return [call.params for call in self.fake.sent_messages(self.chat)]


@pytest.fixture
async def world(fresh_engine: Engine, fake_telegram: FakeBotApi) -> AsyncIterator[World]:
    """Noor wants to get better at Excel and agreed to weekly nudges."""
    fake_telegram.reset()
    chat = next(_CHATS)
    with session_scope(fresh_engine) as session:
        seeker = save_profile(
            session=session,
            channel="telegram",
            channel_user_id=str(chat),
            language="nl",
            values={"name": "Noor", "development_point": ["beter worden in excel"]},
        )
        record_consent(session=session, job_seeker=seeker, purpose="nudges", given=True)
        session.add(NudgeSettings(job_seeker_id=seeker.id, frequency="weekly"))
        seeker_id = seeker.id
    settings = make_settings(database_url=str(fresh_engine.url), nudge_misfire_grace_minutes=1)
    clock = Clock(START)
    async with Bot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        runtime = NudgeScheduler(
            settings, engine=fresh_engine, bot=bot, catalogue=CATALOGUE, clock=clock
        )
        await runtime.start(paused=True)
        try:
            yield World(
                fresh_engine, settings, fake_telegram, bot, clock, runtime, chat, seeker_id
            )
        finally:
            await runtime.stop()


async def test_a_due_nudge_is_sent_once_and_the_next_is_planned(world: World) -> None:
    first = await world.runtime.run(world.seeker_id, START)
    again = await world.runtime.run(world.seeker_id, START)

    assert (first.status, again.status) == ("sent", "duplicate")
    assert len(world.sent()) == 1
    [row] = world.log()
    assert (row.status, row.kind, as_utc(row.due_at or START)) == ("sent", "encouragement", START)
    assert world.job_run_at() == (START + timedelta(days=7)).astimezone(AMSTERDAM)


async def test_two_gateways_claiming_the_same_nudge_send_it_once(world: World) -> None:
    # Two engines, as two gateway processes would have (each its own connections).
    other = make_engine(str(world.engine.url.render_as_string(hide_password=False)))
    try:
        runs = [
            deliver_nudge(
                engine=engine,
                bot=world.bot,
                catalogue=CATALOGUE,
                job_seeker_id=world.seeker_id,
                due_at=START,
                now=START,
            )
            for engine in (world.engine, other) * 4
        ]
        outcomes = await asyncio.gather(*runs)
    finally:
        other.dispose()

    assert sorted(outcome.status for outcome in outcomes) == ["duplicate"] * 7 + ["sent"]
    assert len(world.sent()) == 1
    assert [row.status for row in world.log()] == ["sent"]


async def test_without_consent_nothing_is_sent_and_the_job_goes(world: World) -> None:
    world.runtime.schedule_person(world.seeker_id, START + timedelta(days=1))
    world.consent(False)

    outcome = await world.runtime.run(world.seeker_id, START)

    assert outcome.status == "stopped"
    assert world.sent() == [] and world.log() == []
    assert world.job_run_at() is None


async def test_frequency_off_sends_nothing(world: World) -> None:
    world.set_nudges(frequency="off")
    assert (await world.runtime.run(world.seeker_id, START)).status == "stopped"
    assert world.sent() == [] and world.job_run_at() is None


async def test_a_pause_moves_the_job_to_its_end(world: World) -> None:
    pause_end = datetime(2026, 12, 7, 0, 0, tzinfo=AMSTERDAM)
    world.set_nudges(paused_until=pause_end)

    outcome = await world.runtime.run(world.seeker_id, START)

    assert outcome.status == "paused" and world.sent() == []
    # Midnight is quiet: the first nudge after the pause comes at nine.
    assert world.job_run_at() == datetime(2026, 12, 7, 9, 0, tzinfo=AMSTERDAM)

    world.set_nudges(paused_until=None)  # resumed
    assert (await world.runtime.run(world.seeker_id, START)).status == "sent"


async def test_a_late_run_in_quiet_hours_waits_for_the_morning_and_keeps_its_due(
    world: World,
) -> None:
    evening = datetime(2026, 11, 23, 21, 30, tzinfo=AMSTERDAM)
    world.clock.now = evening

    outcome = await world.runtime.run(world.seeker_id, START)

    assert outcome.status == "deferred" and world.sent() == []
    assert world.job_run_at() == datetime(2026, 11, 24, 9, 0, tzinfo=AMSTERDAM)
    job = world.runtime.scheduler.get_job(f"nudge:{world.seeker_id}")
    assert job is not None and job.args == (world.seeker_id, START.isoformat())


async def test_a_blocked_bot_stops_the_nudges_and_removes_the_job(world: World) -> None:
    world.runtime.schedule_person(world.seeker_id, START + timedelta(days=7))
    world.fake.fail_next(
        "sendMessage", status=403, description="Forbidden: bot was blocked by the user"
    )

    outcome = await world.runtime.run(world.seeker_id, START)

    assert outcome.status == "blocked"
    assert [row.status for row in world.log()] == ["blocked"]
    with session_scope(world.engine) as session:
        settings = session.get(NudgeSettings, world.seeker_id)
        assert settings is not None and settings.frequency == "off"
    assert world.job_run_at() is None
    # The sync does not bring the job back.
    assert await world.runtime.sync(START) == (0, 0)


async def test_modules_alternate_with_encouragement_carry_a_button_and_never_repeat(
    world: World,
) -> None:
    for week in range(4):
        due = START + timedelta(days=7 * week)
        world.clock.now = due
        assert (await world.runtime.run(world.seeker_id, due)).status == "sent"

    log = world.log()
    assert [row.kind for row in log] == ["encouragement", MODULE, "encouragement", MODULE]
    modules = [row.module_id for row in log if row.kind == MODULE]
    assert len(set(modules)) == 2 and modules[0] == "excel-voor-beginners"
    sent = world.sent()
    assert "reply_markup" not in sent[0] or sent[0]["reply_markup"] is None
    markup = sent[1]["reply_markup"]
    assert isinstance(markup, dict)
    [[button]] = markup["inline_keyboard"]
    assert button["text"] == "Ik heb hem gedaan"
    assert done_callback_id(button["callback_data"]) == log[1].id

    with session_scope(world.engine) as session:
        assert record_completion(
            session, nudge_log_id=log[1].id, channel="telegram", channel_user_id="1", now=START
        ) is False  # fmt: skip
        assert record_completion(
            session,
            nudge_log_id=log[1].id,
            channel="telegram",
            channel_user_id=str(world.chat),
            now=START,
        )
    assert world.log()[1].completed_at is not None


async def test_the_sync_adds_missing_jobs_removes_withdrawn_ones_and_survives_a_restart(
    world: World,
) -> None:
    assert await world.runtime.sync(START) == (1, 0)
    assert world.runtime.job_ids() == [f"nudge:{world.seeker_id}"]
    job = world.runtime.scheduler.get_job(f"nudge:{world.seeker_id}")
    assert job is not None
    assert (job.coalesce, job.misfire_grace_time, job.max_instances) == (True, 60, 1)
    assert job.func_ref == "bot.nudges:send_nudge"

    # A restart: a new scheduler on the same job store finds the job and adds none.
    await world.runtime.stop()
    restarted = NudgeScheduler(
        world.settings, engine=world.engine, bot=world.bot, catalogue=CATALOGUE, clock=world.clock
    )
    await restarted.start(paused=True)
    try:
        assert await restarted.sync(START) == (0, 0)
        assert restarted.job_ids() == [f"nudge:{world.seeker_id}"]

        world.consent(False)
        assert await restarted.sync(START) == (0, 1)
        assert restarted.job_ids() == []
    finally:
        await restarted.stop()
    world.runtime = restarted  # the fixture stops it again, harmlessly


async def test_after_downtime_a_nudge_within_the_grace_window_is_sent_once(
    world: World,
) -> None:
    # The job store holds a job that fell due 30 s ago (grace: 1 minute); then the gateway starts.
    world.runtime.schedule_person(
        world.seeker_id, datetime.now(timezone.utc) - timedelta(seconds=30)
    )
    world.runtime.scheduler.resume()

    await settle(
        lambda: (
            bool(world.log())
            and world.log()[0].status != "claimed"
            and world.job_run_at() is not None
        )
    )
    assert len(world.sent()) == 1
    assert [row.status for row in world.log()] == ["sent"]
    # No second run can come: the job now waits for next week's nudge.
    next_run = world.job_run_at()
    assert next_run is not None and next_run > datetime.now(timezone.utc) + timedelta(days=6)


async def test_after_downtime_beyond_the_grace_window_the_nudge_is_logged_as_missed(
    world: World,
) -> None:
    due = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=10)
    world.runtime.schedule_person(world.seeker_id, due)
    world.runtime.scheduler.resume()

    await settle(lambda: bool(world.log()) and world.job_run_at() is not None)
    [row] = world.log()
    assert row.status == "missed" and as_utc(row.due_at or START) == due
    assert world.sent() == []
    assert world.job_run_at() is not None
