"""The outbox worker: summaries to Telegram and e-mail exactly once, retries, alerts, recovery."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from telegram import Bot

from bot.channels.telegram.keyboards import keyboard
from bot.channels.telegram.sender import MessageIds
from bot.delivery.outbox import LANES, OutboxWorker
from core.db import session_scope
from core.settings import Settings
from core.time import as_utc
from store.handovers import request_handover, tell_person
from store.models import Handover, OutboxMessage, Profile
from store.outbox import claim, renew_lease, take_inbox
from store.profiles import record_consent, save_profile
from store.recruiters import add_recruiter
from tests.support.channels import outbox_channels
from tests.support.fake_telegram import FakeBotApi
from tests.support.smtp_server import SmtpServer
from tests.support.stack import make_settings

# A chat of its own for each test: the fake Bot API server lives for the whole session.
_CHATS = itertools.count(5550001)
RECRUITER_EMAIL = "anna@werkbrug.example"
START = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # a Monday


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move on by `seconds`."""
        self.now += timedelta(seconds=seconds)


@dataclass
class World:
    """One fresh database with a person, a recruiter and a routed handover."""

    engine: Engine
    handover_id: int
    settings: Settings
    fake: FakeBotApi
    smtp: SmtpServer
    clock: Clock
    bot: Bot
    chat: int

    def worker(self, **overrides: object) -> OutboxWorker:
        """A worker on this world's database, Telegram and SMTP server."""
        settings = self.settings.model_copy(update=overrides)
        return OutboxWorker(
            settings, lambda: self.engine, outbox_channels(settings, self.bot), clock=self.clock
        )

    def rows(self) -> list[OutboxMessage]:
        """Every outbox row, oldest first."""
        with session_scope(self.engine) as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all())

    def handover(self) -> Handover:
        """The handover as stored."""
        with session_scope(self.engine) as session:
            found = session.get(Handover, self.handover_id)
            assert found is not None
            return found


def queue_status(world: World, chat: int) -> None:
    """Queue a status message to a Telegram chat."""
    with session_scope(world.engine) as session:
        session.add(
            OutboxMessage(
                idempotency_key=f"test:{chat}",
                channel="telegram",
                recipient=str(chat),
                payload={"kind": "status", "text": "Je recruiter heeft je profiel gelezen."},
            )
        )


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on a free port."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
async def world(
    fresh_engine: Engine, fake_telegram: FakeBotApi, smtp: SmtpServer
) -> AsyncIterator[World]:
    """Noor (Zwolle, zorg) asked for a recruiter; Anna covers Zwolle on Telegram and e-mail."""
    fake_telegram.reset()
    chat = next(_CHATS)
    with session_scope(fresh_engine) as session:
        add_recruiter(
            session=session,
            name="Anna de Vries",
            organisation="Werkbrug",
            regions=["Zwolle"],
            sectors=["zorg"],
            telegram_chat_id=str(chat),
            email=RECRUITER_EMAIL,
        )
        seeker = save_profile(
            session=session,
            channel="telegram",
            channel_user_id="777001",
            language="nl",
            values={
                "name": "Noor",
                "talent": ["goed met mensen"],
                "sector": ["zorg"],
                "place": "Zwolle",
                "contact_preference": "bel me: 06-12345678",
            },
        )
        profile = session.get(Profile, seeker.id)
        assert profile is not None
        profile.completed_at = START
        record_consent(
            session=session, job_seeker=seeker, purpose="share_with_recruiter", given=True
        )
        handover_id = request_handover(
            session=session, seeker=seeker, share_support_needs=False, now=START
        ).handover.id
    settings = make_settings(
        database_url=str(fresh_engine.url),
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_security="none",
        outbox_retry_seconds=10.0,
        outbox_max_attempts=3,
        outbox_lease_seconds=60.0,
    )
    async with Bot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        yield World(
            engine=fresh_engine,
            handover_id=handover_id,
            settings=settings,
            fake=fake_telegram,
            smtp=smtp,
            clock=Clock(START),
            bot=bot,
            chat=chat,
        )


async def test_the_summary_reaches_telegram_and_email_once(world: World) -> None:
    worker = world.worker()

    assert await worker.drain() == 2
    assert await worker.drain() == 0

    [telegram] = world.fake.sent_messages(world.chat)
    assert telegram.params["parse_mode"] == "HTML"
    assert "Overdracht #" in telegram.params["text"] and "Noor" in telegram.params["text"]
    titles = [row[0]["text"] for row in telegram.params["reply_markup"]["inline_keyboard"]]
    assert titles == ["Ik pak dit op", "Contact gehad", "Geplaatst", "Past niet"]
    [mail] = world.smtp.messages_to(RECRUITER_EMAIL)
    assert mail["Message-ID"] == f"<handover-{world.handover_id}-1@werkmaatje>"
    assert mail["Subject"] == f"Werkmaatje: overdracht #{world.handover_id} (Noor)"
    plain = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert plain is not None and html is not None
    assert "Sterke punten: goed met mensen" in plain.get_content()
    assert "06-12345678" in plain.get_content() and "tel:0612345678" in html.get_content()
    # The same summary in both; the e-mail's last line points to the page, not to buttons.
    mailed = plain.get_content().replace("\r\n", "\n").strip().splitlines()
    stored = world.handover().summary.strip().splitlines()
    assert mailed[:-1] == stored[:-1]
    assert "recruiterpagina" in mailed[-1] and "knoppen" in stored[-1]
    handover = world.handover()
    assert handover.status == "delivered" and handover.delivered_at is not None
    assert as_utc(handover.delivered_at) == START
    assert [(row.status, row.attempts) for row in world.rows()] == [("sent", 1), ("sent", 1)]
    assert world.rows()[0].provider_message_id == str(telegram.result["message_id"])


async def test_a_mail_server_that_is_down_is_retried_with_backoff_then_alerted(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.smtp.refuse_with = "451 Try again later"
    worker = world.worker()

    await worker.drain()
    mail = next(row for row in world.rows() if row.channel == "email")
    assert (mail.status, mail.attempts, mail.last_error) == ("pending", 1, "SMTP 451")
    assert as_utc(mail.next_attempt_at) == START + timedelta(seconds=10)
    assert await worker.drain() == 0  # not due yet

    world.clock.advance(10)
    await worker.drain()
    mail = next(row for row in world.rows() if row.channel == "email")
    assert (mail.status, mail.attempts) == ("pending", 2)
    assert as_utc(mail.next_attempt_at) == world.clock.now + timedelta(seconds=20)

    world.clock.advance(20)
    with caplog.at_level(logging.ERROR, logger="bot.delivery.outbox"):
        await worker.drain()
    mail = next(row for row in world.rows() if row.channel == "email")
    assert (mail.status, mail.attempts) == ("failed", 3)
    assert any("ALERT" in record.getMessage() for record in caplog.records)
    assert world.smtp.messages_to(RECRUITER_EMAIL) == []


async def test_mail_comes_through_once_the_server_is_back(world: World) -> None:
    world.smtp.refuse_with = "421 Service not available"
    worker = world.worker()
    await worker.drain()
    world.smtp.refuse_with = None
    world.clock.advance(10)

    await worker.drain()

    assert len(world.smtp.messages_to(RECRUITER_EMAIL)) == 1
    assert {row.status for row in world.rows()} == {"sent"}


async def test_a_blocked_bot_fails_at_once_with_an_alert(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.fake.fail_next(
        "sendMessage", status=403, description="Forbidden: bot was blocked by the user"
    )
    with caplog.at_level(logging.ERROR, logger="bot.delivery.outbox"):
        await world.worker().drain()

    telegram = next(row for row in world.rows() if row.channel == "telegram")
    assert (telegram.status, telegram.attempts) == ("failed", 1)
    assert any("ALERT" in record.getMessage() for record in caplog.records)


async def test_telegram_asking_to_slow_down_is_honoured(world: World) -> None:
    world.fake.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 7", retry_after=7
    )
    worker = world.worker()
    await worker.drain()
    telegram = next(row for row in world.rows() if row.channel == "telegram")
    assert telegram.status == "pending"
    assert as_utc(telegram.next_attempt_at) == START + timedelta(seconds=7)

    world.clock.advance(7)
    await worker.drain()

    assert len(world.fake.sent_messages(world.chat)) == 1


async def test_a_send_cut_off_after_delivery_is_found_not_repeated(world: World) -> None:
    # An earlier attempt delivered the summary and the process died before recording it:
    # the row is still `sending`, its lease ran out.
    row = next(row for row in world.rows() if row.channel == "telegram")
    await world.bot.send_message(
        world.chat,
        row.payload["text"],
        parse_mode="HTML",
        reply_markup=keyboard(row.payload),
    )
    delivered = world.fake.sent_messages(world.chat)[-1].result["message_id"]
    with session_scope(world.engine) as session:
        stored = session.get(OutboxMessage, row.id)
        assert stored is not None
        stored.status, stored.attempts = "sending", 1
        stored.claimed_until = START - timedelta(seconds=1)
        # As the gateway records it: the newest message id it knew just before the send.
        stored.previous_message_id = delivered - 1

    await world.worker().drain()

    assert len(world.fake.sent_messages(world.chat)) == 1
    recovered = next(row for row in world.rows() if row.channel == "telegram")
    assert (recovered.status, recovered.provider_message_id) == ("sent", str(delivered))
    assert world.handover().status == "delivered"
    # The message the recruiter sees was not changed by looking for it.
    message = world.fake.message(world.chat, delivered)
    assert message is not None and "edit_date" not in message


async def test_a_send_cut_off_before_delivery_is_sent_once(world: World) -> None:
    row = next(row for row in world.rows() if row.channel == "telegram")
    # Another chat's message between: the search must skip ids that are not this chat's.
    await world.bot.send_message(999, "iets anders")
    with session_scope(world.engine) as session:
        stored = session.get(OutboxMessage, row.id)
        assert stored is not None
        stored.status, stored.attempts = "sending", 1
        stored.claimed_until = START - timedelta(seconds=1)

    await world.worker().drain()

    assert len(world.fake.sent_messages(world.chat)) == 1
    assert next(r for r in world.rows() if r.channel == "telegram").status == "sent"


async def test_nothing_is_sent_once_the_sharing_consent_is_withdrawn(world: World) -> None:
    with session_scope(world.engine) as session:
        handover = session.get(Handover, world.handover_id)
        assert handover is not None
        record_consent(
            session=session,
            job_seeker=handover.job_seeker,
            purpose="share_with_recruiter",
            given=False,
        )

    await world.worker().drain()

    assert world.fake.sent_messages(world.chat) == []
    assert world.smtp.messages_to(RECRUITER_EMAIL) == []
    assert {row.status for row in world.rows()} == {"cancelled"}


async def test_two_gateways_draining_together_send_each_message_once(world: World) -> None:
    import asyncio

    first, second = world.worker(), world.worker()

    await asyncio.gather(first.drain(), second.drain())

    assert len(world.fake.sent_messages(world.chat)) == 1
    assert len(world.smtp.messages_to(RECRUITER_EMAIL)) == 1


async def test_a_message_queued_while_another_send_hangs_goes_out_meanwhile(
    world: World,
) -> None:
    """Each of the running worker's lanes goes on by itself: one send that takes long (here the
    summary, whose answer the server holds back) keeps no other message waiting."""
    release = threading.Event()
    world.fake.crash_after_delivery(
        "sendMessage", lambda params: int(params["chat_id"]) == world.chat, release.wait
    )
    worker = world.worker(smtp_host=None)  # Telegram only: the summary is all there is to send
    worker.start()
    try:
        await asyncio.to_thread(
            world.fake.wait_for, lambda fake: fake.delivered_count(world.chat) > 0
        )
        other_chat = next(_CHATS)
        queue_status(world, other_chat)
        worker.wake()

        await asyncio.to_thread(
            world.fake.wait_for, lambda fake: fake.delivered_count(other_chat) > 0, 10.0
        )

        # The summary's send still hangs: not timed out (PTB gives up after 5 s), not retried.
        summary = next(row for row in world.rows() if row.recipient == str(world.chat))
        assert (summary.status, summary.attempts, summary.last_error) == ("sending", 1, None)
        assert [call.params["text"] for call in world.fake.sent_messages(other_chat)] == [
            "Je recruiter heeft je profiel gelezen."
        ]
    finally:
        release.set()
        await worker.stop()


def _is_chat(chat: int, params: dict[str, Any]) -> bool:
    return int(params["chat_id"]) == chat


async def test_a_backlog_woken_with_one_lane_soon_has_every_lane_sending(world: World) -> None:
    """One wake for many rows: each lane that finds a row calls the next one in, until all
    lanes send side by side (here every send hangs until released, so none finishes)."""
    release = threading.Event()
    chats = [next(_CHATS) for _ in range(LANES + 2)]
    for chat in chats:  # a hook holds back one answer
        world.fake.crash_after_delivery("sendMessage", partial(_is_chat, chat), release.wait)
    worker = world.worker(smtp_host=None, outbox_poll_seconds=3600.0)  # no polls meanwhile
    worker.start()
    try:
        await until(lambda: world.fake.delivered_count(world.chat) == 1)
        await until(lambda: worker.idle_lanes == LANES)
        for chat in chats:
            queue_status(world, chat)
        worker.wake_one()
        await asyncio.to_thread(
            world.fake.wait_for,
            lambda fake: sum(fake.delivered_count(chat) for chat in chats) == LANES,
            10.0,
        )
        assert worker.idle_lanes == 0
    finally:
        release.set()
        await worker.stop()


async def test_status_messages_for_the_web_chat_wait_for_the_next_reply(world: World) -> None:
    with session_scope(world.engine) as session:
        handover = session.get(Handover, world.handover_id)
        assert handover is not None
        handover.job_seeker.identities[0].channel = "web"
        session.flush()
        tell_person(handover, "accept", session=session)

    await world.worker().drain()  # the outbox cannot push to a browser: it leaves the row be
    with session_scope(world.engine) as session:
        texts = take_inbox(session=session, channel="web", recipient="777001", now=START)
    with session_scope(world.engine) as session:
        again = take_inbox(session=session, channel="web", recipient="777001", now=START)

    assert texts == ["Anna van Werkbrug heeft je profiel gelezen en neemt contact met je op."]
    assert again == []


def test_the_ids_a_cut_off_send_can_have_are_bounded_by_what_was_seen() -> None:
    restarted = MessageIds()
    assert restarted.ceiling(101) is None  # nothing seen yet: the probe limit bounds it
    restarted.note(120)  # an update: it may be one Telegram delivers again, older than the send
    assert restarted.ceiling(101) is None
    restarted.note(140, sent=True)  # the first send after a restart: the cut-off one came before
    restarted.note(180, sent=True)
    assert restarted.ceiling(101) == 139
    assert restarted.ceiling(140) == 139  # nothing can be in 140..139: it never arrived
    # In one process (a timeout, no restart) every id seen later is an upper bound.
    assert restarted.ceiling(150) == 180
    assert restarted.ceiling(181) is None


async def test_a_worker_whose_claim_was_taken_over_does_not_send(world: World) -> None:
    lease = timedelta(seconds=60)
    with session_scope(world.engine) as session:
        first, _ = claim(session=session, now=START, lease=lease, channels=("telegram",), most=1)
    later = START + lease + timedelta(seconds=1)
    with session_scope(world.engine) as session:
        second, more = claim(
            session=session, now=later, lease=lease, channels=("telegram",), most=1
        )
    assert [row.id for row in first] == [row.id for row in second]
    assert not more  # the one row there was
    assert second[0].recovered and second[0].attempts == first[0].attempts + 1
    with session_scope(world.engine) as session:
        assert not renew_lease(session=session, row=first[0], until=later + lease)
        assert renew_lease(session=session, row=second[0], until=later + lease)


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait on the event loop until `condition` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def count_claims(worker: OutboxWorker) -> list[None]:
    """A list that grows by one at each of the worker's claim queries."""
    claims: list[None] = []
    claim_one = worker._claim_one

    def counting(session: Session, **kwargs: Any) -> Any:
        claims.append(None)
        return claim_one(session, **kwargs)

    worker._claim_one = counting  # type: ignore[method-assign]
    return claims


@asynccontextmanager
async def idle_worker(world: World) -> AsyncIterator[tuple[OutboxWorker, list[None]]]:
    """A running worker that has sent the world's summary and idles on every lane, without
    polls, and the list `count_claims` keeps of its claim queries from then on."""
    worker = world.worker(smtp_host=None, outbox_poll_seconds=3600.0)
    claims = count_claims(worker)
    worker.start()
    try:
        await until(lambda: world.fake.delivered_count(world.chat) == 1)
        await until(lambda: worker.idle_lanes == LANES)
        claims.clear()
        yield worker, claims
    finally:
        await worker.stop()


async def test_a_wake_for_one_row_costs_one_look_not_one_per_lane(
    world: World,
) -> None:
    """One lane looks, and calls more in only when it saw more due than it took: a single
    row costs a single claim query."""
    async with idle_worker(world) as (worker, claims):
        worker.wake_one()
        await until(lambda: len(claims) >= 1 and worker.idle_lanes == LANES)
        assert len(claims) == 1

        other_chat = next(_CHATS)
        queue_status(world, other_chat)
        claims.clear()
        worker.wake_one()
        await until(lambda: world.fake.delivered_count(other_chat) == 1)
        await until(lambda: worker.idle_lanes == LANES)
        assert len(claims) == 1


async def test_the_turns_of_one_moment_share_one_look_and_what_they_queued_still_goes_out(
    world: World,
) -> None:
    """Ten quick turns: one claim a moment later, not ten beside the next replies."""
    async with idle_worker(world) as (worker, claims):
        worker.soon_seconds = 1.0  # far longer than the ten turns below take
        for _ in range(10):
            worker.wake_soon()
            await asyncio.sleep(0.01)  # a lane woken at once would look in this time
        await until(lambda: len(claims) >= 1 and worker.idle_lanes == LANES)
        assert len(claims) == 1

        # A turn that queued a message: it goes out after the moment.
        other_chat = next(_CHATS)
        queue_status(world, other_chat)
        worker.wake_soon()
        await until(lambda: world.fake.delivered_count(other_chat) == 1)
