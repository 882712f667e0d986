"""The channels as the gateway sends on them: what each says of its buttons, its limits and
reaching a person unasked (the Channel protocol, bot/channels/__init__.py)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from telegram import Bot

from bot.channels import ButtonRules, Channel, RetryLater
from bot.channels.email.sender import EmailSender
from bot.channels.telegram.keyboards import BUTTONS, CallbackPayloads, reply_keyboard
from bot.channels.telegram.sender import TelegramSender
from bot.channels.web.sender import WebSender
from bot.rasa_client import Button, Reply
from store.channels import EMAIL, NUDGE_CHANNELS, TELEGRAM, WEB
from store.outbox import Claimed
from tests.support.fake_telegram import DEFAULT_TOKEN
from tests.support.stack import make_settings


def channels(connected: asyncio.Event | None = None) -> dict[str, Channel]:
    settings = make_settings(smtp_host="mail.example.invalid")
    found: list[Channel] = [
        TelegramSender(settings, Bot(DEFAULT_TOKEN), connected=connected),
        EmailSender(settings),
        WebSender(),
    ]
    return {channel.name: channel for channel in found}


async def test_each_channel_says_whether_it_reaches_people_unasked() -> None:
    found = channels()
    assert set(found) == {TELEGRAM, EMAIL, WEB}
    reach = {name: await channel.can_reach("42") for name, channel in found.items()}
    assert reach == {TELEGRAM: True, EMAIL: True, WEB: False}
    # Nudges are chosen among the channels that reach people unasked (e-mail: recruiters only).
    assert set(NUDGE_CHANNELS) == {name for name, can in reach.items() if can} - {EMAIL}
    # The web chat's rows wait for the person's next message: the outbox leaves them alone.
    assert [await found[name].ready() for name in (TELEGRAM, EMAIL, WEB)] == [True, True, False]


async def test_only_telegram_sends_a_conversation_reply() -> None:
    found = channels()
    for name in (EMAIL, WEB):
        with pytest.raises(NotImplementedError):
            await found[name].reply("someone", Reply(text="Hoi"))


def test_each_channel_says_what_its_messages_may_hold() -> None:
    found = channels()
    assert found[TELEGRAM].buttons == BUTTONS == ButtonRules(data=64)
    assert (found[TELEGRAM].text_limit, found[TELEGRAM].caption_limit) == (4096, 1024)
    assert found[EMAIL].buttons.most == 0
    assert found[WEB].buttons == ButtonRules()
    assert found[WEB].text_limit is None
    # WhatsApp's reply buttons can be said as well; the rules are values.
    whatsapp = ButtonRules(most=3, title=20)
    with pytest.raises(dataclasses.FrozenInstanceError):
        whatsapp.most = 4  # type: ignore[misc]


def test_a_payload_longer_than_telegrams_callback_data_goes_as_a_token() -> None:
    payloads = CallbackPayloads()
    short = "/inform" + "x" * (64 - len("/inform"))
    long = short + "y"
    markup = reply_keyboard(
        Reply(text="?", buttons=(Button("Ja", short), Button("Nee", long))), payloads
    )
    assert markup is not None
    [[first, second]] = markup.inline_keyboard  # short titles, side by side
    assert first.callback_data == short
    assert isinstance(second.callback_data, str) and second.callback_data.startswith("#")
    assert len(second.callback_data.encode()) <= 64
    assert payloads.decode(second.callback_data) == long


async def test_telegram_sends_nothing_before_it_is_connected() -> None:
    connected = asyncio.Event()
    telegram = channels(connected)[TELEGRAM]
    row = Claimed(
        id=1,
        channel=TELEGRAM,
        recipient="42",
        payload={"kind": "status", "text": "Hoi"},
        attempts=1,
        handover_id=None,
        recovered=False,
        previous_message_id=None,
    )

    async def still_mine() -> bool:
        return True

    assert await telegram.ready() is False
    with pytest.raises(RetryLater):
        await telegram.send(row, still_mine)
    connected.set()
    assert await telegram.ready() is True
