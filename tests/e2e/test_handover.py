"""Asking for a recruiter, end to end: Telegram → gateway → Rasa → actions → outbox → recruiter.

Everything real: the gateway and action server processes, Rasa with the trained model, the
fake Bot API server (for the job seeker and the recruiter chat) and an SMTP server.
"""

from __future__ import annotations

import os
import signal
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from core.db import session_scope
from core.privacy import mentions_health
from store.models import (
    ChannelIdentity,
    Handover,
    OutboxMessage,
    Profile,
)
from store.profiles import record_consent, save_profile
from store.recruiters import add_recruiter
from tests.e2e.test_spine import INTAKE_NL, _chat_ids, converse, post_update, press, say
from tests.support.stack import Stack, wait_until

pytestmark = pytest.mark.e2e


def register_recruiter(stack: Stack, place: str, sector: str) -> tuple[int, int, str]:
    """A recruiter for `place` and `sector` on Telegram and e-mail: (id, chat, address)."""
    chat = next(_chat_ids)
    email = f"anna-{uuid.uuid4().hex[:8]}@werkbrug.example"
    with session_scope(stack.engine) as session:
        recruiter = add_recruiter(
            session=session,
            name="Anna de Vries",
            organisation="Werkbrug",
            regions=[place],
            sectors=[sector],
            telegram_chat_id=str(chat),
            email=email,
            capacity_per_week=50,
        )
        return recruiter.id, chat, email


def handovers_of(engine: Engine, chat: int) -> list[Handover]:
    """The handovers of the person behind a Telegram chat."""
    with session_scope(engine) as session:
        return list(
            session.scalars(
                select(Handover)
                .join(ChannelIdentity, ChannelIdentity.job_seeker_id == Handover.job_seeker_id)
                .where(
                    ChannelIdentity.channel == "telegram",
                    ChannelIdentity.channel_user_id == str(chat),
                )
                .order_by(Handover.id)
            ).all()
        )


def recruiter_press(stack: Stack, chat: int, message_id: int, data: str) -> None:
    """The recruiter presses a button under the summary in their chat."""
    update = stack.telegram.press_button(chat, message_id, data)
    assert post_update(stack, update) == 200


def test_intake_request_summary_and_status_back(stack: Stack) -> None:
    assert stack.smtp is not None
    recruiter_id, recruiter_chat, email = register_recruiter(stack, "Amersfoort", "zorg")
    chat = next(_chat_ids)
    converse(stack, chat, INTAKE_NL, "nl")

    [question] = say(stack, chat, "kan ik met een recruiter praten?", expect=1)
    assert "delen" in question.params["text"]
    [support] = press(stack, chat, "/affirm", expect=1)
    assert "apart" in support.params["text"]
    [told] = press(stack, chat, "/deny", expect=1)
    assert "Anna van Werkbrug" in told.params["text"], told.params["text"]
    assert "3 werkdagen" in told.params["text"]

    # The recruiter's chat gets one summary with the four buttons; the mail server the same.
    [summary] = stack.telegram.wait_for_messages(recruiter_chat, 1)
    [handover] = handovers_of(stack.engine, chat)
    assert summary.params["parse_mode"] == "HTML"
    markup = summary.params["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in markup] == [
        "Ik pak dit op",
        "Contact gehad",
        "Geplaatst",
        "Past niet",
    ]
    text = str(summary.result["text"])  # as Telegram shows it, tags applied
    assert f"Overdracht #{handover.id}: Sanne" in text
    assert "plannen" in text and "excel" in text and "Amersfoort" in text
    # Sanne mentioned her chemo during the intake: it is nowhere, nor is the support need
    # she chose not to share.
    assert not mentions_health(text) and "chemo" not in text.lower()
    assert "niet vroeg beginnen" not in text
    [mail] = stack.smtp.wait_for(email, 1)
    body = mail.get_body(("plain",))
    assert body is not None
    mailed = body.get_content().replace("\r\n", "\n").strip().splitlines()
    assert mailed[:-1] == handover.summary.strip().splitlines()[:-1]  # the footer differs
    assert not mentions_health(body.get_content())
    wait_until(lambda: handovers_of(stack.engine, chat)[0].status == "delivered")

    # A second request makes no second handover: it tells the status.
    [status] = say(stack, chat, "ik wil graag een recruiter spreken", expect=1)
    assert "Anna" in status.params["text"] and "Werkbrug" in status.params["text"]
    assert len(handovers_of(stack.engine, chat)) == 1

    # The recruiter takes it on: the status changes and Sanne hears it in plain words.
    before = len(stack.telegram.sent_messages(chat))
    recruiter_press(
        stack, recruiter_chat, summary.result["message_id"], f"ho:accept:{handover.id}"
    )
    [news] = stack.telegram.wait_for_messages(chat, before + 1)[before:]
    assert news.params["text"] == (
        "Anna van Werkbrug heeft je profiel gelezen en neemt contact met je op."
    )
    assert handovers_of(stack.engine, chat)[0].status == "accepted"
    answers = [
        call.params.get("text")
        for call in stack.telegram.calls_to("answerCallbackQuery")
        if call.params.get("text")
    ]
    assert "Status: opgepakt" in answers
    # The recruiter's buttons now fit the new status.
    shown = stack.telegram.message(recruiter_chat, summary.result["message_id"])
    assert shown is not None
    left = [row[0]["text"] for row in shown["reply_markup"]["inline_keyboard"]]
    assert left == ["Contact gehad", "Geplaatst", "Past niet"]

    [asked] = say(stack, chat, "heeft de recruiter al gereageerd?", expect=1)
    assert "opgepakt" in asked.params["text"]
    # Nothing went to the recruiter twice.
    assert len(stack.telegram.sent_messages(recruiter_chat)) == 1
    assert len(stack.smtp.messages_to(email)) == 1
    assert recruiter_id


def person_ready_for_a_recruiter(stack: Stack, chat: int, place: str, sector: str) -> None:
    """A person whose intake is done, stored as the actions store it."""
    with session_scope(stack.engine) as session:
        seeker = save_profile(
            session=session,
            channel="telegram",
            channel_user_id=str(chat),
            language="nl",
            values={
                "name": "Daan",
                "talent": ["nauwkeurig", "doorzetter"],
                "role": ["magazijnmedewerker"],
                "sector": [sector],
                "place": place,
                "contact_preference": "bellen: 06-11112222",
            },
        )
        profile = session.get(Profile, seeker.id)
        assert profile is not None
        profile.completed_at = profile.updated_at
        record_consent(session=session, job_seeker=seeker, purpose="profile", given=True)


def test_a_gateway_killed_between_sending_and_recording_delivers_once(stack: Stack) -> None:
    assert stack.gateway is not None and stack.gateway.process is not None
    _, recruiter_chat, _ = register_recruiter(stack, "Venlo", "logistiek")
    chat = next(_chat_ids)
    person_ready_for_a_recruiter(stack, chat, "Venlo", "logistiek")
    gateway = stack.gateway.process

    def kill_gateway() -> None:
        os.killpg(gateway.pid, signal.SIGKILL)
        gateway.wait(timeout=10)

    # Telegram takes the summary, then the gateway dies before it hears back.
    stack.telegram.crash_after_delivery(
        "sendMessage", lambda params: params.get("chat_id") == recruiter_chat, kill_gateway
    )
    [question] = say(stack, chat, "ik wil met een recruiter praten", expect=1)
    assert "delen" in question.params["text"]
    post_update(stack, _affirm(stack, chat))
    wait_until(lambda: gateway.poll() is not None)
    assert len(stack.telegram.sent_messages(recruiter_chat)) == 1
    [handover] = handovers_of(stack.engine, chat)
    with session_scope(stack.engine) as session:
        row = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.handover_id == handover.id, OutboxMessage.channel == "telegram"
            )
        ).one()
        assert (row.status, row.provider_message_id) == ("sending", None)

    stack.restart_gateway()

    def recorded() -> bool:
        with session_scope(stack.engine) as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(
                        OutboxMessage.handover_id == handover.id,
                        OutboxMessage.channel == "telegram",
                        OutboxMessage.status == "sent",
                    )
                )
                == 1
            )

    wait_until(recorded, timeout=60)
    [delivered] = stack.telegram.sent_messages(recruiter_chat)
    with session_scope(stack.engine) as session:
        row = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.handover_id == handover.id, OutboxMessage.channel == "telegram"
            )
        ).one()
        assert row.provider_message_id == str(delivered.result["message_id"])
    assert handovers_of(stack.engine, chat)[0].status == "delivered"
    # The recruiter can act on the one message they have.
    recruiter_press(
        stack, recruiter_chat, delivered.result["message_id"], f"ho:accept:{handover.id}"
    )
    wait_until(lambda: handovers_of(stack.engine, chat)[0].status == "accepted")
    assert len(stack.telegram.sent_messages(recruiter_chat)) == 1


def _affirm(stack: Stack, chat: int) -> dict[str, Any]:
    """The update of pressing "Ja" under the bot's last message in a chat."""
    last = stack.telegram.sent_messages(chat)[-1]
    return stack.telegram.press_button(chat, last.result["message_id"], "/affirm")
