"""The gateway's one scheduler: the nudge jobs and the periodic ones (retention, re-routing
handovers), the periodic ones in memory and in threads of their own."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from bot.delivery.handover_jobs import JOB_ID as REROUTE_JOB_ID
from bot.delivery.handover_jobs import reroute_job, schedule_rerouting
from bot.delivery.retention import JOB_ID as RETENTION_JOB_ID
from bot.delivery.scheduler import PERIODIC, Scheduler
from bot.gateway import Gateway
from core.settings import Settings
from core.time import AMSTERDAM
from tests.support.fake_telegram import FakeBotApi
from tests.support.stack import make_settings, webhook_settings


def test_the_rerouting_check_runs_in_a_periodic_thread_and_wakes_the_outbox_from_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bot.delivery.handover_jobs.reroute_now", lambda settings: 2)
    woken: list[threading.Thread] = []
    done = threading.Event()

    def wake() -> None:
        woken.append(threading.current_thread())
        done.set()

    scheduler = Scheduler()
    schedule_rerouting(scheduler, make_settings(handover_reroute_check_minutes=5), wake)
    job = scheduler.get_job(REROUTE_JOB_ID, jobstore=PERIODIC)
    assert job is not None
    assert (job.executor, job.trigger.interval) == (PERIODIC, timedelta(minutes=5))
    assert (job.coalesce, job.misfire_grace_time, job.max_instances) == (True, 300, 1)
    scheduler.start(paused=True)
    try:
        scheduler.modify_job(
            REROUTE_JOB_ID, jobstore=PERIODIC, next_run_time=datetime.now(AMSTERDAM)
        )
        scheduler.resume()
        assert done.wait(10)
    finally:
        scheduler.stop()
    assert not scheduler.running
    assert woken[0] is not threading.main_thread()


def test_the_rerouting_check_wakes_the_outbox_only_when_something_moved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    woken: list[bool] = []
    settings = make_settings()
    monkeypatch.setattr("bot.delivery.handover_jobs.reroute_now", lambda settings: 0)
    reroute_job(settings, lambda: woken.append(True))

    def database_down(settings: Settings) -> int:
        raise OperationalError("SELECT", {}, Exception("down"))

    monkeypatch.setattr("bot.delivery.handover_jobs.reroute_now", database_down)
    reroute_job(settings, lambda: woken.append(True))  # logged; the next check tries again
    assert woken == []


def test_a_gateway_without_nudges_runs_the_periodic_jobs_on_its_scheduler() -> None:
    gateway = Gateway(make_settings(retention_enabled=True))
    assert gateway.nudges is None  # no channel that reaches people unasked
    with TestClient(gateway.app()):
        assert gateway.scheduler.running
        assert gateway.scheduler.periodic_job_ids() == [REROUTE_JOB_ID, RETENTION_JOB_ID]
    assert not gateway.scheduler.running


def test_a_gateway_with_nudges_has_them_on_the_same_scheduler() -> None:
    with FakeBotApi() as fake:
        gateway = Gateway(webhook_settings(fake, "scheduler-test-secret", retention_enabled=False))
        assert gateway.nudges is not None
        assert gateway.nudges.scheduler is gateway.scheduler
        with TestClient(gateway.app()):
            assert gateway.scheduler.running
            assert gateway.scheduler.periodic_job_ids() == [REROUTE_JOB_ID]
        assert not gateway.scheduler.running
