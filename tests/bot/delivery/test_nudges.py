"""Nudges out: sent once, claimed once across gateways, the rules, and the persistent jobs.

The job is run directly with a hand-moved clock; the scheduler wiring (ids, restarts, misfire
settings) is checked on a scheduler started paused, the misfire paths on a running one.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import subprocess
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

import pytest
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import Engine, insert, select
from telegram import Bot

from bot.channels.telegram.keyboards import keyboard
from bot.channels.telegram.sender import MessageIds, TelegramSender
from bot.cli.launcher import settings_env
from bot.delivery.handover_jobs import schedule_rerouting
from bot.delivery.nudges import (
    MAX_IN_FLIGHT,
    RERUN_SECONDS,
    SYNC_JOB_ID,
    NudgeScheduler,
    NudgeTrigger,
)
from bot.delivery.outbox import OutboxWorker
from bot.delivery.retention import schedule_retention
from core.db import make_engine, session_scope
from core.paths import PROJECT_PYTHON, ROOT
from core.settings import Settings
from core.time import AMSTERDAM, as_utc
from store.export import export_job_seeker
from store.jobs import JOBS
from store.models import ChannelIdentity, Handover, NudgeLog, NudgeSettings, OutboxMessage
from store.nudge_catalogue import load_catalogue
from store.nudge_dispatch import DONE_PREFIX, MODULE, STOP_PREFIX, id_after, record_completion
from store.nudge_sync import status_counts
from store.outbox import claim
from store.profiles import find_job_seeker, record_consent, save_profile
from tests.support.channels import outbox_channels
from tests.support.fake_telegram import FakeBotApi, callback_data_of
from tests.support.stack import make_settings

_CHATS = itertools.count(7_100_000)
START = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # Monday, 11:00 in Amsterdam
CATALOGUE = load_catalogue()


async def settle(done: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait, letting the scheduler's threads run, until `done()` holds."""
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
    outbox: OutboxWorker
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

    def real_time(self) -> None:
        """Run on the real clock, as a started scheduler does, with no quiet hours (the test
        may run at night)."""
        self.clock.now = datetime.now(timezone.utc)
        self.runtime.rules = replace(self.runtime.rules, quiet=None)
        self.outbox._rules = self.runtime.rules

    async def run(self, due: datetime) -> str:
        """Run the person's job for `due` now, then let the outbox deliver; the job's status."""
        outcome = await self.runtime.run(self.seeker_id, due)
        await self.outbox.drain()
        return outcome.status


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
        runtime = NudgeScheduler(settings, engine=fresh_engine, catalogue=CATALOGUE, clock=clock)
        outbox = OutboxWorker(
            settings, lambda: fresh_engine, outbox_channels(settings, bot), clock=clock
        )
        await runtime.start(paused=True)
        try:
            yield World(
                fresh_engine,
                settings,
                fake_telegram,
                bot,
                clock,
                runtime,
                outbox,
                chat,
                seeker_id,
            )
        finally:
            await runtime.stop()


async def test_a_due_nudge_is_sent_once_and_the_next_is_planned(world: World) -> None:
    assert await world.run(START) == "queued"
    assert await world.run(START) == "duplicate"  # the job's rerun after a cut-off run

    assert len(world.sent()) == 1
    [row] = world.log()
    assert (row.status, row.kind, as_utc(row.due_at or START)) == ("sent", "encouragement", START)
    assert world.job_run_at() == (START + timedelta(days=7)).astimezone(AMSTERDAM)


async def test_two_gateways_queueing_the_same_nudge_send_it_once(world: World) -> None:
    # Two engines, as two gateway processes would have (each its own connections).
    other = make_engine(str(world.engine.url.render_as_string(hide_password=False)))
    try:
        second = NudgeScheduler(
            world.settings, engine=other, catalogue=CATALOGUE, clock=world.clock
        )
        other_outbox = OutboxWorker(
            world.settings,
            lambda: other,
            outbox_channels(world.settings, world.bot),
            clock=world.clock,
        )
        runs = [runtime.run(world.seeker_id, START) for runtime in (world.runtime, second) * 4]
        outcomes = await asyncio.gather(*runs)
        await asyncio.gather(world.outbox.drain(), other_outbox.drain())
    finally:
        other.dispose()

    assert sorted(outcome.status for outcome in outcomes) == ["duplicate"] * 7 + ["queued"]
    assert len(world.sent()) == 1
    assert [row.status for row in world.log()] == ["sent"]


async def test_without_consent_nothing_is_sent_and_the_job_goes(world: World) -> None:
    world.runtime.schedule_person(world.seeker_id, START + timedelta(days=1))
    world.consent(False)

    assert await world.run(START) == "stopped"

    assert world.sent() == [] and world.log() == []
    assert world.job_run_at() is None


async def test_frequency_off_sends_nothing(world: World) -> None:
    world.set_nudges(frequency="off")
    assert await world.run(START) == "stopped"
    assert world.sent() == [] and world.job_run_at() is None


async def test_a_pause_moves_the_job_to_its_end(world: World) -> None:
    pause_end = datetime(2026, 12, 7, 0, 0, tzinfo=AMSTERDAM)
    world.set_nudges(paused_until=pause_end)

    assert await world.run(START) == "paused" and world.sent() == []
    # Midnight is quiet: the first nudge after the pause comes at nine.
    assert world.job_run_at() == datetime(2026, 12, 7, 9, 0, tzinfo=AMSTERDAM)

    world.set_nudges(paused_until=None)  # resumed
    assert await world.run(START) == "queued"
    assert len(world.sent()) == 1


async def test_a_stop_between_queueing_and_sending_cancels_the_nudge(world: World) -> None:
    assert (await world.runtime.run(world.seeker_id, START)).status == "queued"
    world.consent(False)  # "STOP" arrives before the outbox got to it

    await world.outbox.drain()

    assert world.sent() == []
    assert [row.status for row in world.log()] == ["cancelled"]
    world.consent(True)
    world.clock.now = START + timedelta(days=7)
    assert await world.run(world.clock.now) == "queued"
    with session_scope(world.engine) as session:
        export = export_job_seeker(
            session=session, channel="telegram", channel_user_id=str(world.chat)
        )
    # The export lists what reached the person, not what was stopped on the way.
    [sent] = export["nudges"]["sent"]
    assert sent["kind"] == "encouragement" and sent["at"].startswith("2026-11-30")


async def test_a_pause_between_queueing_and_sending_cancels_the_nudge(world: World) -> None:
    assert (await world.runtime.run(world.seeker_id, START)).status == "queued"
    world.set_nudges(paused_until=START + timedelta(days=14))  # "even niet" came first

    await world.outbox.drain()

    assert world.sent() == []
    assert [row.status for row in world.log()] == ["cancelled"]


async def test_a_person_at_work_gets_no_more_nudges_whenever_the_placement_comes(
    world: World,
) -> None:
    assert (await world.runtime.run(world.seeker_id, START)).status == "queued"
    with session_scope(world.engine) as session:
        session.add(Handover(job_seeker_id=world.seeker_id, status="placed"))

    await world.outbox.drain()  # placed after the nudge was queued, before it went out

    assert world.sent() == []
    assert [row.status for row in world.log()] == ["cancelled"]
    with session_scope(world.engine) as session:
        settings = session.get(NudgeSettings, world.seeker_id)
        assert settings is not None and settings.frequency == "off"
    assert world.job_run_at() is None
    # A job left over elsewhere (another gateway's) finds the same and queues nothing.
    world.clock.now = START + timedelta(days=7)
    assert await world.run(world.clock.now) == "stopped"
    assert world.sent() == []


async def test_a_late_run_in_quiet_hours_waits_for_the_morning_and_keeps_its_due(
    world: World,
) -> None:
    due = datetime(2026, 11, 23, 20, 59, 50, tzinfo=AMSTERDAM)
    world.clock.now = datetime(2026, 11, 23, 21, 0, 20, tzinfo=AMSTERDAM)  # 30 s late

    assert await world.run(due) == "deferred" and world.sent() == []
    morning = datetime(2026, 11, 24, 9, 0, tzinfo=AMSTERDAM)
    assert world.job_run_at() == morning
    job = world.runtime.scheduler.get_job(f"nudge:{world.seeker_id}")
    assert job is not None
    due_iso = due.astimezone(timezone.utc).isoformat()
    assert job.args == (world.seeker_id, due_iso, morning.astimezone(timezone.utc).isoformat())

    # At nine it runs 12 hours after its due moment, yet in time for its (deferred) run.
    world.clock.now = morning
    job_seeker_id, due_iso, run_iso = job.args
    outcome = await world.runtime.run(
        job_seeker_id, datetime.fromisoformat(due_iso), run_at=datetime.fromisoformat(run_iso)
    )
    await world.outbox.drain()
    assert outcome.status == "queued" and len(world.sent()) == 1
    [row] = world.log()
    assert as_utc(row.due_at or START) == due


async def test_a_nudge_queued_before_the_quiet_hours_waits_in_the_outbox(world: World) -> None:
    world.clock.now = datetime(2026, 11, 23, 20, 59, tzinfo=AMSTERDAM)
    assert (await world.runtime.run(world.seeker_id, world.clock.now)).status == "queued"
    world.clock.now = datetime(2026, 11, 23, 21, 1, tzinfo=AMSTERDAM)  # a backlog ran late

    await world.outbox.drain()
    assert world.sent() == []
    with session_scope(world.engine) as session:
        [row] = session.scalars(select(OutboxMessage)).all()
        assert (row.status, row.attempts) == ("pending", 0)
        assert as_utc(row.next_attempt_at) == datetime(2026, 11, 24, 9, 0, tzinfo=AMSTERDAM)

    world.clock.now = datetime(2026, 11, 24, 9, 0, tzinfo=AMSTERDAM)
    await world.outbox.drain()
    assert len(world.sent()) == 1 and [row.status for row in world.log()] == ["sent"]


async def test_a_blocked_bot_stops_the_nudges_and_removes_the_job(world: World) -> None:
    world.fake.fail_next(
        "sendMessage", status=403, description="Forbidden: bot was blocked by the user"
    )

    assert await world.run(START) == "queued"

    assert [row.status for row in world.log()] == ["blocked"]
    with session_scope(world.engine) as session:
        settings = session.get(NudgeSettings, world.seeker_id)
        assert settings is not None and settings.frequency == "off"
        [identity] = session.scalars(select(ChannelIdentity)).all()
        assert identity.blocked_at is not None
    assert world.job_run_at() is None
    # The sync does not bring the job back, even with the frequency set again.
    world.set_nudges(frequency="weekly")
    assert await world.runtime.sync(START) == (0, 0)


class OutOfReach(TelegramSender):
    """Telegram as WhatsApp would be a day after the person's last message."""

    async def can_reach(self, recipient: str) -> bool:
        return False


async def test_a_nudge_goes_only_where_the_channel_can_reach_the_person_now(world: World) -> None:
    outbox = OutboxWorker(
        world.settings, lambda: world.engine, [OutOfReach(world.settings, world.bot)],
        clock=world.clock,
    )  # fmt: skip
    assert (await world.runtime.run(world.seeker_id, START)).status == "queued"
    with session_scope(world.engine) as session:
        session.add(OutboxMessage(idempotency_key=f"status:{world.chat}", channel="telegram",
                                  recipient=str(world.chat), payload={"kind": "status",
                                  "text": "Je recruiter heeft je profiel gelezen."}))  # fmt: skip

    await outbox.drain()

    # The nudge is cancelled; what the person is waiting for (a status message) still goes.
    assert [message["text"] for message in world.sent()] == [
        "Je recruiter heeft je profiel gelezen."
    ]
    assert [row.status for row in world.log()] == ["cancelled"]
    assert world.job_run_at() == (START + timedelta(days=7)).astimezone(AMSTERDAM)


async def test_modules_alternate_with_encouragement_and_carry_their_own_buttons(
    world: World,
) -> None:
    for week in range(4):
        due = START + timedelta(days=7 * week)
        world.clock.now = due
        assert await world.run(due) == "queued"

    log = world.log()
    assert [row.kind for row in log] == ["encouragement", MODULE, "encouragement", MODULE]
    assert [row.status for row in log] == ["sent"] * 4
    modules = [row.module_id for row in log if row.kind == MODULE]
    assert len(set(modules)) == 2 and modules[0] == "excel-voor-beginners"
    sent = world.fake.sent_messages(world.chat)
    assert callback_data_of(sent[0].result) == [f"{STOP_PREFIX}{log[0].id}"]
    assert callback_data_of(sent[1].result) == [
        f"{DONE_PREFIX}{log[1].id}",
        f"{STOP_PREFIX}{log[1].id}",
    ]
    titles = [row[0]["text"] for row in sent[1].params["reply_markup"]["inline_keyboard"]]
    assert titles == ["Ik heb hem gedaan", "Stop de berichtjes"]
    assert id_after(f"{DONE_PREFIX}{log[1].id}", DONE_PREFIX) == log[1].id

    with session_scope(world.engine) as session:
        assert record_completion(
            session=session, nudge_log_id=log[1].id, channel="telegram",
            channel_user_id="1", now=START,
        ) is False  # fmt: skip
        chat = str(world.chat)
        assert record_completion(
            session=session, nudge_log_id=log[0].id, channel="telegram",
            channel_user_id=chat, now=START,
        ) is False  # fmt: skip
        assert record_completion(
            session=session,
            nudge_log_id=log[1].id,
            channel="telegram",
            channel_user_id=str(world.chat),
            now=START,
        )
    assert world.log()[1].completed_at is not None


async def test_a_send_cut_off_by_a_crash_is_found_and_not_sent_again(world: World) -> None:
    assert (await world.runtime.run(world.seeker_id, START)).status == "queued"
    # What a gateway killed mid-send leaves: the row claimed, the message at Telegram, no record.
    lease = timedelta(seconds=60)
    killed = MessageIds()  # what the killed gateway had seen: its own last message, say
    earlier = await world.bot.send_message(next(_CHATS), "een antwoord aan iemand anders")
    killed.note(earlier.message_id, sent=True)
    with session_scope(world.engine) as session:
        [row], _ = claim(
            session=session,
            now=START,
            lease=lease,
            channels=("telegram",),
            floors={"telegram": killed.floor},
        )
    await world.bot.send_message(
        world.chat, row.payload["text"], reply_markup=keyboard(row.payload)
    )
    assert len(world.sent()) == 1

    world.clock.now = START + lease + timedelta(seconds=1)  # the lease ran out
    await world.outbox.drain()

    assert len(world.sent()) == 1
    assert [entry.status for entry in world.log()] == ["sent"]
    with session_scope(world.engine) as session:
        stored = session.get(OutboxMessage, row.id)
        assert stored is not None and stored.status == "sent"
        [call] = world.fake.sent_messages(world.chat)
        assert stored.provider_message_id == str(call.result["message_id"])


async def test_the_sync_adds_missing_jobs_removes_withdrawn_ones_and_survives_a_restart(
    world: World,
) -> None:
    assert await world.runtime.sync(START) == (1, 0)
    assert world.runtime.job_ids() == [f"nudge:{world.seeker_id}"]
    job = world.runtime.scheduler.get_job(f"nudge:{world.seeker_id}")
    assert job is not None
    assert (job.coalesce, job.misfire_grace_time, job.max_instances) == (True, None, 1)
    assert job.func_ref == "bot.delivery.nudges:send_nudge"
    assert isinstance(job.trigger, NudgeTrigger)

    # A restart: a new scheduler on the same job store finds the job and adds none.
    await world.runtime.stop()
    restarted = NudgeScheduler(
        world.settings, engine=world.engine, catalogue=CATALOGUE, clock=world.clock
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


async def test_the_sync_acts_on_every_kind_of_difference_between_people_and_jobs(
    world: World,
) -> None:
    """Each person below differs from Noor (who wants nudges and has no job yet) in one way."""

    def person(*decisions: bool, channel: str = "telegram", blocked: bool = False,
               frequency: str = "weekly") -> int:  # fmt: skip
        with session_scope(world.engine) as session:
            seeker = save_profile(session=session, channel=channel,
                                  channel_user_id=str(next(_CHATS)), language="nl",
                                  values={"name": "Test"})  # fmt: skip
            for given in decisions:
                record_consent(session=session, job_seeker=seeker, purpose="nudges", given=given)
            session.add(NudgeSettings(job_seeker_id=seeker.id, frequency=frequency))
            if blocked:
                for identity in seeker.identities:
                    identity.blocked_at = START
            return seeker.id

    yes = person(True)
    changed_mind = person(False, True)
    withdrew = person(True, False)
    turned_off = person(True, frequency="off")
    blocked = person(True, blocked=True)
    web_only = person(True, channel="web")
    settled = person(True)
    deleted = 9_999_999
    for has_job in (withdrew, turned_off, settled, deleted):
        world.runtime.schedule_person(has_job, START + timedelta(days=3))

    assert await world.runtime.sync(START) == (3, 3)
    assert world.runtime.job_ids() == sorted(
        f"nudge:{seeker}" for seeker in (world.seeker_id, yes, changed_mind, settled)
    )
    # The job that was right was left alone.
    job = world.runtime.scheduler.get_job(f"nudge:{settled}")
    assert job is not None and job.trigger.run_date == START + timedelta(days=3)
    assert {blocked, web_only}.isdisjoint(int(job_id[6:]) for job_id in world.runtime.job_ids())
    assert await world.runtime.sync(START) == (0, 0)


async def test_the_periodic_jobs_share_the_scheduler_and_stay_out_of_the_nudge_figures(
    world: World,
) -> None:
    scheduler = world.runtime.scheduler
    settings = world.settings.model_copy(update={"retention_enabled": True})
    schedule_retention(scheduler, settings)
    schedule_rerouting(scheduler, settings, lambda: None)
    running = threading.Event()
    release = threading.Event()

    def long_run() -> None:  # a retention run on a large database, say
        running.set()
        release.wait(10)

    scheduler.add_periodic(long_run, DateTrigger(datetime.now(AMSTERDAM)), job_id="long-run")
    scheduler.remove_job(SYNC_JOB_ID, jobstore="memory")  # the test syncs by hand
    scheduler.resume()
    try:
        assert await asyncio.to_thread(running.wait, 10)
        scheduler.pause()
        # Its thread is not a nudge thread: the nudges have all their room.
        assert world.runtime._room() == MAX_IN_FLIGHT
        assert await world.runtime.sync(START) == (1, 0)
        assert await world.runtime.sync(START) == (0, 0)  # the periodic jobs are no one's
    finally:
        release.set()
    assert scheduler.periodic_job_ids() == ["handover-reroute", "retention"]
    assert world.runtime.job_ids() == [f"nudge:{world.seeker_id}"]
    with session_scope(world.engine) as session:
        assert status_counts(START, session=session)["scheduled"] == 1
        assert session.scalars(select(JOBS.c.id)).all() == [f"nudge:{world.seeker_id}"]


async def test_the_first_nudge_comes_the_configured_time_after_the_yes(
    fresh_engine: Engine,
) -> None:
    with session_scope(fresh_engine) as session:
        seeker = save_profile(
            session=session, channel="telegram", channel_user_id="42", language="nl", values={}
        )
        record_consent(session=session, job_seeker=seeker, purpose="nudges", given=True)
    settings = make_settings(
        database_url=str(fresh_engine.url), nudge_first_after_minutes=90, nudge_quiet_hours="off"
    )
    runtime = NudgeScheduler(settings, engine=fresh_engine, catalogue=CATALOGUE)
    await runtime.start(paused=True)
    try:
        assert await runtime.sync(START) == (1, 0)
        [job] = runtime.scheduler.get_jobs(jobstore="default")
        assert job.trigger.run_date == START + timedelta(minutes=90)
    finally:
        await runtime.stop()


def test_a_job_that_did_not_replace_itself_fires_again() -> None:
    trigger = NudgeTrigger(START)
    assert trigger.get_next_fire_time(None, START) == START
    assert trigger.get_next_fire_time(START, START) == START + timedelta(seconds=RERUN_SECONDS)


async def test_after_downtime_a_nudge_within_the_grace_window_is_sent_once(
    world: World,
) -> None:
    # The job store holds a job that fell due 30 s ago (grace: 1 minute); then the gateway starts.
    world.real_time()
    world.runtime.schedule_person(world.seeker_id, world.clock.now - timedelta(seconds=30))
    world.runtime.scheduler.resume()

    await settle(lambda: bool(world.log()) and world.job_run_at() is not None)
    await world.outbox.drain()
    assert len(world.sent()) == 1
    assert [row.status for row in world.log()] == ["sent"]
    # No second run can come: the job now waits for next week's nudge.
    next_run = world.job_run_at()
    assert next_run is not None and next_run > datetime.now(timezone.utc) + timedelta(days=6)


async def test_a_due_job_is_handed_out_once_and_again_only_if_its_run_never_moved_it(
    world: World,
) -> None:
    world.runtime.schedule_person(world.seeker_id, START)
    store = world.runtime.scheduler._lookup_jobstore("default")
    [job] = store.get_due_jobs(START)
    # Leased: neither this gateway nor another one gets it while it runs.
    other = NudgeScheduler(world.settings, engine=world.engine, catalogue=CATALOGUE)
    assert store.get_due_jobs(START) == []
    assert other._store.get_due_jobs(START + timedelta(seconds=RERUN_SECONDS - 1)) == []
    # Never moved on (its gateway was killed): handed out again when the lease is over.
    later = START + timedelta(seconds=RERUN_SECONDS)
    assert [again.id for again in other._store.get_due_jobs(later)] == [job.id]
    # Moved on by its run: not handed out again.
    assert await world.run(START) == "queued"
    assert store.get_due_jobs(later + timedelta(seconds=RERUN_SECONDS)) == []
    assert world.job_run_at() == (START + timedelta(days=7)).astimezone(AMSTERDAM)


async def test_unreadable_jobs_ahead_in_the_store_are_replaced_and_do_not_hold_up_due_ones(
    world: World,
) -> None:
    # More people than the scheduler takes jobs at a time, whose jobs cannot be read (written
    # by another version, say) and fell due before Noor's.
    world.real_time()
    others = []
    with session_scope(world.engine) as session:
        for _ in range(MAX_IN_FLIGHT + 3):
            person = save_profile(
                session=session,
                channel="telegram",
                channel_user_id=str(next(_CHATS)),
                language="nl",
                values={"name": "Sem"},
            )
            record_consent(session=session, job_seeker=person, purpose="nudges", given=True)
            session.add(NudgeSettings(job_seeker_id=person.id, frequency="weekly"))
            session.flush()
            others.append(person.id)
    due = world.clock.now - timedelta(seconds=5)
    store = world.runtime.scheduler._lookup_jobstore("default")
    with world.engine.begin() as connection:
        connection.execute(
            insert(store.jobs_t),
            [
                {
                    "id": f"nudge:{other}",
                    "next_run_time": (due - timedelta(minutes=1)).timestamp(),
                    "job_state": b"not a pickled job",
                }
                for other in others
            ],
        )
    world.runtime.schedule_person(world.seeker_id, due)
    world.runtime.scheduler.resume()

    await settle(lambda: bool(world.log()))
    await world.outbox.drain()
    assert len(world.sent()) == 1
    # The sync gave the others readable jobs again.
    await world.runtime.sync()
    for other in others:
        assert store.lookup_job(f"nudge:{other}") is not None


async def test_after_downtime_beyond_the_grace_window_the_nudge_is_logged_as_missed(
    world: World,
) -> None:
    world.real_time()
    due = world.clock.now.replace(microsecond=0) - timedelta(minutes=10)
    world.runtime.schedule_person(world.seeker_id, due)
    world.runtime.scheduler.resume()

    await settle(lambda: bool(world.log()) and world.job_run_at() not in (None, due))
    await world.outbox.drain()
    [row] = world.log()
    assert row.status == "missed" and as_utc(row.due_at or START) == due
    assert world.sent() == []
    next_run = world.job_run_at()
    assert next_run is not None and next_run > world.clock.now


async def test_the_status_counts(world: World) -> None:
    world.clock.now = datetime(2026, 11, 23, 12, 0, tzinfo=AMSTERDAM)
    assert await world.run(world.clock.now) == "queued"
    with session_scope(world.engine) as session:
        counts = status_counts(world.clock.now, session=session)
    assert counts["scheduled"] == 1 and counts["sent_today"] == 1
    assert counts["due"] == 0 and counts["queued"] == 0
    with session_scope(world.engine) as session:
        later = status_counts(world.clock.now + timedelta(days=8), session=session)
    assert later["due"] == 1 and later["sent_today"] == 0


@pytest.mark.e2e
async def test_the_status_command(world: World) -> None:
    world.real_time()
    assert await world.run(world.clock.now) == "queued"
    env = {
        **settings_env(make_settings(database_url=world.engine.url.render_as_string(False))),
        "PATH": "/usr/bin:/bin",
    }

    def status(*extra: str) -> str:
        return subprocess.run(
            [str(PROJECT_PYTHON), "-m", "bot.cli", "nudges", "status", *extra],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip

    table = await asyncio.to_thread(status)
    assert re.search(r"^scheduled\s+1\s", table, re.MULTILINE)
    assert re.search(r"^sent today\s+1\s*$", table, re.MULTILINE)
    counts = json.loads(await asyncio.to_thread(status, "--json"))
    assert counts == counts | {"sent_today": 1, "scheduled": 1, "queued": 0, "failed_today": 0}
