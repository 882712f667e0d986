"""Nudges end to end: the intake over Telegram, a yes to nudges, the first nudge at its time,
then STOP, and no nudge after it.

Real processes: a gateway of this test's own with nudges on (the session's gateway has them
off), the shared Rasa and action server, the fake Bot API server, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.cli import launcher
from bot.delivery.nudges import NudgeScheduler
from core.db import session_scope
from core.time import utcnow
from store.jobs import JOBS, nudge_job_id
from store.models import ChannelIdentity, NudgeLog, NudgeSettings
from store.nudge_dispatch import STOP_PREFIX
from tests.e2e.test_spine import INTAKE_NL, _chat_ids, buttons, converse, say
from tests.support.environment import WEBHOOK_SECRET
from tests.support.stack import Stack, free_port, telegram_state, wait_until

pytestmark = pytest.mark.e2e

FIRST_AFTER_SECONDS = 6.0


@pytest.fixture
def nudging(stack: Stack, tmp_path: Path) -> Iterator[Stack]:
    """The stack, answered by a gateway that sends nudges: the first 6 s after the yes."""
    port = free_port()
    settings = stack.settings.model_copy(
        update={
            "gateway_port": port,
            "telegram_webhook_url": f"http://127.0.0.1:{port}/telegram/webhook",
            "nudges_enabled": True,
            "nudge_first_after_minutes": FIRST_AFTER_SECONDS / 60,
            "nudge_quiet_hours": "off",  # the test may run at night
            "nudge_sync_seconds": 1.0,
        }
    )
    gateway = launcher.gateway(settings, tmp_path)
    try:
        gateway.start()
        gateway.wait_healthy(time.monotonic() + gateway.startup_timeout)
        wait_until(lambda: telegram_state(settings) == "webhook")
        yield dataclasses.replace(stack, settings=settings, gateway=gateway)
    finally:
        gateway.stop()
        # Give the webhook back to the session's gateway.
        httpx.post(
            f"{stack.telegram.base_url}{stack.telegram.token}/setWebhook",
            data={"url": stack.settings.telegram_webhook_url, "secret_token": WEBHOOK_SECRET},
            timeout=10,
        ).raise_for_status()


def seeker_of(stack: Stack, chat: int) -> int:
    with session_scope(stack.engine) as session:
        seeker = session.scalar(
            select(ChannelIdentity.job_seeker_id).where(
                ChannelIdentity.channel == "telegram", ChannelIdentity.channel_user_id == str(chat)
            )
        )
    assert seeker is not None
    return seeker


def has_job(stack: Stack, seeker: int) -> bool:
    with session_scope(stack.engine) as session:
        found = session.scalar(select(JOBS.c.id).where(JOBS.c.id == nudge_job_id(seeker)))
    return found is not None


def test_the_first_nudge_arrives_at_its_time_and_stop_prevents_the_next(
    nudging: Stack,
) -> None:
    stack = nudging
    chat = next(_chat_ids)
    converse(stack, chat, INTAKE_NL[:-1], "nl")
    said_yes = time.monotonic()
    converse(stack, chat, INTAKE_NL[-1:], "nl")  # "Ja, elke week"
    seeker = seeker_of(stack, chat)
    count = sum(expect for _, expect, _ in INTAKE_NL)

    [nudge] = stack.telegram.wait_for_messages(chat, count + 1, timeout=60)[count:]
    assert nudge.at >= said_yes + FIRST_AFTER_SECONDS  # at its time, not before
    assert buttons(nudge) == [("Stop de berichtjes", f"{STOP_PREFIX}{_log_id(stack, seeker)}")]
    # The gateway records the send once Telegram has answered it.
    wait_until(lambda: _log(stack, seeker) == [("sent", "encouragement")])
    # The next one is planned a week on.
    assert has_job(stack, seeker)

    [answer] = say(stack, chat, "STOP", expect=1, language_code="nl")
    assert "ik stuur je geen berichtjes en tips meer" in answer.params["text"]
    with session_scope(stack.engine) as session:
        settings = session.get(NudgeSettings, seeker)
        assert settings is not None and settings.frequency == "off"
    wait_until(lambda: not has_job(stack, seeker))

    # Even a job that a second gateway still held, due right now, sends nothing.
    stale = NudgeScheduler(stack.settings, engine=stack.engine)

    async def plant() -> None:
        await stale.start(paused=True)
        stale.schedule_person(seeker, utcnow() - timedelta(seconds=1))
        await stale.stop()

    asyncio.run(plant())
    assert has_job(stack, seeker)
    wait_until(lambda: not has_job(stack, seeker))  # the gateway ran it and dropped it
    assert len(stack.telegram.sent_messages(chat)) == count + 2  # the nudge and the STOP answer
    assert _log(stack, seeker) == [("sent", "encouragement")]


def _log(stack: Stack, seeker: int) -> list[tuple[str, str]]:
    with session_scope(stack.engine) as session:
        rows = session.execute(
            select(NudgeLog.status, NudgeLog.kind).where(NudgeLog.job_seeker_id == seeker)
        ).all()
    return [(status, kind) for status, kind in rows]


def _log_id(stack: Stack, seeker: int) -> int:
    with session_scope(stack.engine) as session:
        log_id = session.scalar(select(NudgeLog.id).where(NudgeLog.job_seeker_id == seeker))
    assert log_id is not None
    return log_id
