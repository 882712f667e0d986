"""Tests of the fake Bot API server, driven through python-telegram-bot's real HTTP client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import http.client
import json
import threading
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)

from tests.fake_telegram import FakeBotApi
from tests.helpers import callback_update, text_update

CHAT_ID = 4242


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    """A running fake Bot API server."""
    with FakeBotApi() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    """An initialised PTB Bot talking to the fake."""
    async with Bot(fake.token, base_url=fake.base_url) as client:
        yield client


async def test_get_me_returns_the_bot_user(fake: FakeBotApi, bot: Bot) -> None:
    me = await bot.get_me()

    assert me.id == 123456
    assert me.is_bot is True
    assert me.first_name == "Werkmaatje"
    assert me.username == "werkmaatje_test_bot"
    assert me.can_join_groups is True
    assert [call.method for call in fake.calls] == ["getMe", "getMe"]  # initialize + explicit


async def test_send_message_with_inline_keyboard(fake: FakeBotApi, bot: Bot) -> None:
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Ja", callback_data="yes")],
            [InlineKeyboardButton("Nee", callback_data="no")],
        ]
    )

    message = await bot.send_message(chat_id=CHAT_ID, text="Doorgaan?", reply_markup=markup)

    assert message.chat.id == CHAT_ID
    assert message.chat.type == "private"
    assert message.text == "Doorgaan?"
    assert message.from_user is not None and message.from_user.id == 123456
    assert message.reply_markup == markup
    [call] = fake.sent_messages(CHAT_ID)
    assert call.params["chat_id"] == CHAT_ID
    assert call.params["text"] == "Doorgaan?"
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Ja", "callback_data": "yes"}],
            [{"text": "Nee", "callback_data": "no"}],
        ]
    }


async def test_message_ids_increase(bot: Bot) -> None:
    first = await bot.send_message(chat_id=CHAT_ID, text="een")
    second = await bot.send_message(chat_id=CHAT_ID + 1, text="twee")

    assert second.message_id == first.message_id + 1


async def test_rate_limit_surfaces_as_retry_after(
    fake: FakeBotApi, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # retry_after as timedelta, without deprecation
    fake.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 1", retry_after=1
    )

    with pytest.raises(RetryAfter) as excinfo:
        await bot.send_message(chat_id=CHAT_ID, text="hallo")
    retried = await bot.send_message(chat_id=CHAT_ID, text="hallo")

    assert excinfo.value.retry_after == dtm.timedelta(seconds=1)
    assert retried.text == "hallo"
    assert [call.status for call in fake.calls_to("sendMessage")] == [429, 200]
    assert len(fake.sent_messages(CHAT_ID)) == 1


async def test_blocked_user_surfaces_as_forbidden(fake: FakeBotApi, bot: Bot) -> None:
    fake.fail_next(
        "sendMessage", status=403, description="Forbidden: bot was blocked by the user", times=2
    )

    for _ in range(2):
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(chat_id=CHAT_ID, text="hallo")

    assert (await bot.send_message(chat_id=CHAT_ID, text="hallo")).text == "hallo"


async def test_too_long_callback_data_is_bad_request(fake: FakeBotApi, bot: Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])

    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(chat_id=CHAT_ID, text="kies", reply_markup=markup)

    assert fake.sent_messages() == []
    assert [call.status for call in fake.calls_to("sendMessage")] == [400]


async def test_text_validation(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(chat_id=CHAT_ID, text="   ")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(chat_id=CHAT_ID, text="a" * 4097)

    assert (await bot.send_message(chat_id=CHAT_ID, text="a" * 4096)).text == "a" * 4096


async def test_send_document_records_file(fake: FakeBotApi, bot: Bot) -> None:
    content = b"%PDF-1.4\r\n\x00\xff binary\r\n--"

    message = await bot.send_document(
        chat_id=CHAT_ID, document=content, filename="profiel.pdf", caption="Je profiel"
    )

    assert message.document is not None
    assert message.document.file_name == "profiel.pdf"
    assert message.caption == "Je profiel"
    [call] = fake.calls_to("sendDocument")
    assert call.params["chat_id"] == CHAT_ID
    assert call.params["document"] == {"filename": "profiel.pdf", "content": content}


async def test_edit_and_answer_callback(fake: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(
        chat_id=CHAT_ID,
        text="Doorgaan?",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="yes")]]),
    )

    assert await bot.answer_callback_query("123", text="ok") is True
    edited = await bot.edit_message_reply_markup(chat_id=CHAT_ID, message_id=sent.message_id)
    assert not isinstance(edited, bool)
    assert edited.text == "Doorgaan?"
    assert edited.reply_markup is None
    retexted = await bot.edit_message_text("Top!", chat_id=CHAT_ID, message_id=sent.message_id)
    assert not isinstance(retexted, bool) and retexted.text == "Top!"
    assert await bot.send_chat_action(chat_id=CHAT_ID, action="typing") is True
    assert await bot.delete_message(chat_id=CHAT_ID, message_id=sent.message_id) is True
    assert fake.calls_to("editMessageText")[0].params["message_id"] == sent.message_id


async def test_webhook_lifecycle(fake: FakeBotApi, bot: Bot) -> None:
    assert await bot.set_webhook(
        "https://example.org/telegram", secret_token="s3cret", allowed_updates=["message"]
    )
    assert fake.webhook is not None
    assert fake.webhook["url"] == "https://example.org/telegram"
    assert fake.webhook["secret_token"] == "s3cret"
    assert fake.webhook["allowed_updates"] == ["message"]
    info = await bot.get_webhook_info()
    assert info.url == "https://example.org/telegram"
    assert info.pending_update_count == 0
    with pytest.raises(Conflict):
        await bot.get_updates(timeout=0)

    assert await bot.delete_webhook()
    assert fake.webhook is None
    assert (await bot.get_webhook_info()).url == ""


async def test_get_updates_returns_queued_and_respects_offset(fake: FakeBotApi, bot: Bot) -> None:
    fake.queue_update(text_update(10, CHAT_ID, "/start"))
    fake.queue_update(text_update(11, CHAT_ID, "hoi"))

    first = await bot.get_updates(timeout=0)
    again = await bot.get_updates(offset=11, timeout=0)
    confirmed = await bot.get_updates(offset=12, timeout=0)

    assert [u.update_id for u in first] == [10, 11]
    assert first[0].message is not None and first[0].message.text == "/start"
    assert [u.update_id for u in again] == [11]
    assert confirmed == ()
    assert fake.calls_to("getUpdates")[1].params["offset"] == 11


async def test_get_updates_long_poll_wakes_on_new_update(fake: FakeBotApi, bot: Bot) -> None:
    def queue_when_polling() -> None:
        fake.wait_for(lambda f: len(f.calls_to("getUpdates")) >= 1, timeout=10)
        fake.queue_update(text_update(20, CHAT_ID, "daar ben ik"))

    feeder = threading.Thread(target=queue_when_polling)
    feeder.start()
    try:
        updates = await bot.get_updates(timeout=10)
    finally:
        feeder.join(timeout=10)

    assert [u.update_id for u in updates] == [20]


def test_wait_for_messages_and_timeout_summary(fake: FakeBotApi) -> None:
    async def send() -> None:
        async with Bot(fake.token, base_url=fake.base_url) as client:
            await client.send_message(chat_id=CHAT_ID, text="een")
            await client.send_message(chat_id=CHAT_ID, text="twee")

    sender = threading.Thread(target=lambda: asyncio.run(send()))
    sender.start()
    calls = fake.wait_for_messages(CHAT_ID, 2, timeout=10)
    sender.join(timeout=10)

    assert [call.params["text"] for call in calls] == ["een", "twee"]
    with pytest.raises(AssertionError, match=r"sendMessage \[200\]"):
        fake.wait_for(lambda f: len(f.sent_messages(CHAT_ID)) >= 3, timeout=0.2)


async def test_helper_updates_parse_with_ptb(bot: Bot) -> None:
    command = Update.de_json(text_update(1, CHAT_ID, "/start abc", first_name="Ahmed"), bot)
    assert command.effective_chat is not None and command.effective_chat.id == CHAT_ID
    assert command.effective_user is not None
    assert command.effective_user.first_name == "Ahmed"
    assert command.effective_user.language_code == "nl"
    assert command.effective_message is not None
    assert command.effective_message.parse_entities() == {
        command.effective_message.entities[0]: "/start"
    }

    press = Update.de_json(
        callback_update(2, CHAT_ID, "yes", message_id=7, language_code=None), bot
    )
    assert press.callback_query is not None
    assert press.callback_query.data == "yes"
    assert press.effective_chat is not None and press.effective_chat.id == CHAT_ID
    assert press.effective_user is not None and press.effective_user.id == CHAT_ID
    assert press.effective_user.language_code is None
    assert press.callback_query.message is not None
    assert press.callback_query.message.message_id == 7


async def test_wrong_token_is_invalid_token(fake: FakeBotApi) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=fake.base_url):
            pass

    assert fake.calls == []


async def test_unknown_method_is_not_recorded(fake: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound, match="noSuchMethod"):
        await bot.do_api_request("noSuchMethod")

    assert fake.calls_to("noSuchMethod") == []


def test_reset_keeps_webhook(fake: FakeBotApi) -> None:
    fake.webhook = {"url": "https://example.org/telegram"}
    fake.queue_update(text_update(1, CHAT_ID, "hoi"))
    fake.fail_next("getMe", status=500, description="Internal Server Error")

    fake.reset()

    assert fake.calls == []
    assert fake.webhook == {"url": "https://example.org/telegram"}
    with pytest.raises(AssertionError, match=r"\(none\)"):
        fake.wait_for(lambda f: bool(f.calls), timeout=0.05)
    # The injected getMe fault is gone too; a plain GET without a body works.
    url = urlsplit(fake.base_url)
    conn = http.client.HTTPConnection(url.netloc, timeout=5)
    try:
        conn.request("GET", f"{url.path}{fake.token}/getMe")
        response = conn.getresponse()
        body = json.loads(response.read())
    finally:
        conn.close()
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert body["result"]["username"] == "werkmaatje_test_bot"
