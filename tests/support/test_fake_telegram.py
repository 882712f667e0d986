"""Tests of the fake Bot API server, driven through python-telegram-bot's real HTTP client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import http.client
import json
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlencode, urlsplit

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from tests.support.fake_telegram import FakeBotApi, SendLimits, telegram_user
from tests.support.helpers import callback_update, text_update

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


async def test_message_ids_come_from_the_bots_counter_except_in_supergroups(bot: Bot) -> None:
    # A bot account numbers the messages of all its private chats with one counter, as
    # every Telegram account does; a supergroup or channel has a counter of its own.
    first = await bot.send_message(chat_id=CHAT_ID, text="een")
    other = await bot.send_message(chat_id=CHAT_ID + 1, text="twee")
    second = await bot.send_message(chat_id=CHAT_ID, text="drie")
    group = await bot.send_message(chat_id=-1001234567890, text="vier")
    third = await bot.send_message(chat_id=CHAT_ID, text="vijf")

    assert other.message_id == first.message_id + 1
    assert second.message_id == other.message_id + 1
    assert group.message_id == 1
    assert third.message_id == second.message_id + 1


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


# --- message identity: edits and deletes only of messages Telegram holds --------------------

YES = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="yes")]])


async def test_editing_an_unknown_message_is_not_found(fake: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(chat_id=CHAT_ID, text="Doorgaan?", reply_markup=YES)

    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_reply_markup(chat_id=CHAT_ID, message_id=sent.message_id + 1)
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("Top!", chat_id=CHAT_ID, message_id=99)
    # Message ids are per chat: the same id in another chat is another (unknown) message.
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("Top!", chat_id=CHAT_ID + 1, message_id=sent.message_id)

    assert [call.status for call in fake.calls_to("editMessageReplyMarkup")] == [400]
    assert fake.calls_to("editMessageText")[0].error == "Bad Request: message to edit not found"
    assert fake.message(CHAT_ID, sent.message_id) == fake.sent_messages(CHAT_ID)[0].result


async def test_an_identical_edit_is_not_modified(fake: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(chat_id=CHAT_ID, text="Doorgaan?", reply_markup=YES)
    not_modified = "^Message is not modified: specified new message content and reply markup"

    with pytest.raises(BadRequest, match=not_modified):
        await bot.edit_message_reply_markup(
            chat_id=CHAT_ID, message_id=sent.message_id, reply_markup=YES
        )
    with pytest.raises(BadRequest, match=not_modified):
        await bot.edit_message_text(
            "Doorgaan?", chat_id=CHAT_ID, message_id=sent.message_id, reply_markup=YES
        )
    # Removing the buttons is a change once; the second removal finds nothing to remove.
    assert await bot.edit_message_reply_markup(chat_id=CHAT_ID, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=not_modified) as excinfo:
        await bot.edit_message_reply_markup(chat_id=CHAT_ID, message_id=sent.message_id)

    assert excinfo.value.message == (
        "Message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"
    )
    stored = fake.message(CHAT_ID, sent.message_id)
    assert stored is not None and "reply_markup" not in stored and "edit_date" in stored


async def test_a_users_message_cannot_be_edited_but_can_be_deleted(
    fake: FakeBotApi, bot: Bot
) -> None:
    users = fake.remember_message(CHAT_ID, text_update(1, CHAT_ID, "hoi", message_id=5)["message"])

    with pytest.raises(BadRequest, match=r"^Message can't be edited$"):
        await bot.edit_message_text("hallo", chat_id=CHAT_ID, message_id=5)
    with pytest.raises(BadRequest, match=r"^Message can't be edited$"):
        await bot.edit_message_reply_markup(chat_id=CHAT_ID, message_id=5, reply_markup=YES)
    assert await bot.delete_message(chat_id=CHAT_ID, message_id=5) is True
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(chat_id=CHAT_ID, message_id=5)
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("hallo", chat_id=CHAT_ID, message_id=5)

    assert users["from"]["is_bot"] is False
    # The chat's numbering continues after the registered message, as on Telegram.
    assert (await bot.send_message(chat_id=CHAT_ID, text="hallo")).message_id == 6


async def test_remembered_bot_message_without_sender_can_be_edited(
    fake: FakeBotApi, bot: Bot
) -> None:
    fake.remember_message(
        CHAT_ID, {"message_id": 3, "text": "Kies:", "reply_markup": YES.to_dict()}
    )

    edited = await bot.edit_message_reply_markup(chat_id=CHAT_ID, message_id=3)

    assert not isinstance(edited, bool) and edited.text == "Kies:" and edited.reply_markup is None
    with pytest.raises(ValueError, match="message_id"):
        fake.remember_message(CHAT_ID, {"text": "zonder id"})


# --- parse_mode=HTML -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<b>vet", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("é <br>", 'Unsupported start tag "br" at byte offset 3'),
        ("<script>x</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<a>x</a>", 'Tag "a" must have attribute "href" at byte offset 0'),
        ("<i hidden>x</i>", 'Expected equal sign in declaration of an attribute of the tag "i"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<a href="x>y</a>', "Unclosed start tag at byte offset 0"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;" at byte offset 1'),
    ],
)
async def test_invalid_html_cannot_be_parsed(
    fake: FakeBotApi, bot: Bot, text: str, reason: str
) -> None:
    with pytest.raises(BadRequest, match=r"^Can't parse entities: "):
        await bot.send_message(chat_id=CHAT_ID, text=text, parse_mode="HTML")

    assert fake.sent_messages() == []
    [call] = fake.calls_to("sendMessage")
    assert (call.status, call.params["text"], call.params["parse_mode"]) == (400, text, "HTML")
    # PTB rewords the description (capitalize()), so check it as it went over the wire.
    assert call.error is not None
    assert call.error.startswith(f"Bad Request: can't parse entities: {reason}")


async def test_valid_html_becomes_text_with_entities(fake: FakeBotApi, bot: Bot) -> None:
    html = (
        'Q&A: <b>vet</b> <a href="https://example.org/?a=1&amp;b=2">link</a> &amp; &lt;3 '
        "&#128512; <STRONG>ook</STRONG> <tg-spoiler>geheim</tg-spoiler> "
        '<span class="tg-spoiler">stil</span> <blockquote expandable>citaat</blockquote> '
        '<pre><code class="language-python">x = 1</code></pre> <code>y</code>'
    )

    message = await bot.send_message(chat_id=CHAT_ID, text=html, parse_mode="HTML")

    assert message.text == "Q&A: vet link & <3 😀 ook geheim stil citaat x = 1 y"
    parsed = {(entity.type, text) for entity, text in message.parse_entities().items()}
    assert parsed == {
        ("bold", "vet"),
        ("text_link", "link"),
        ("bold", "ook"),
        ("spoiler", "geheim"),
        ("spoiler", "stil"),
        ("expandable_blockquote", "citaat"),
        ("pre", "x = 1"),
        ("code", "y"),
    }
    [link] = message.parse_entities(["text_link"])
    assert link.url == "https://example.org/?a=1&b=2"
    [pre] = message.parse_entities(["pre"])
    assert pre.language == "python"
    [call] = fake.sent_messages(CHAT_ID)
    assert call.params["text"] == html and call.params["parse_mode"] == "HTML"
    assert call.result["text"] == message.text


async def test_html_edits_are_parsed_and_compared_as_rendered(fake: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(chat_id=CHAT_ID, text="Doorgaan?")

    edited = await bot.edit_message_text(
        "<b>Top</b>!", chat_id=CHAT_ID, message_id=sent.message_id, parse_mode="HTML"
    )
    assert not isinstance(edited, bool) and edited.text == "Top!"
    # Other markup for the same rendering changes nothing.
    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot.edit_message_text(
            "<strong>Top</strong>!", chat_id=CHAT_ID, message_id=sent.message_id, parse_mode="HTML"
        )
    with pytest.raises(BadRequest, match=r"(?i)^can't parse entities: unmatched end tag"):
        await bot.edit_message_text(
            "<b>Top</i>", chat_id=CHAT_ID, message_id=sent.message_id, parse_mode="HTML"
        )
    with pytest.raises(BadRequest, match=r"(?i)unsupported parse_mode"):
        await bot.send_message(chat_id=CHAT_ID, text="hoi", parse_mode="BBCode")
    with pytest.raises(BadRequest, match=r"^Message text is empty$"):
        await bot.send_message(chat_id=CHAT_ID, text="<b> </b>", parse_mode="HTML")

    stored = fake.message(CHAT_ID, sent.message_id)
    assert stored is not None and stored["text"] == "Top!"
    assert stored["entities"] == [{"type": "bold", "offset": 0, "length": 3}]
    assert [call.params["parse_mode"] for call in fake.calls_to("editMessageText")] == ["HTML"] * 3


# --- the crash hook: delivered, then no answer -----------------------------------------------


@pytest.fixture
def victim() -> Iterator[subprocess.Popen[bytes]]:
    """A process standing in for the gateway that a crash hook kills."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield process
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.e2e
async def test_crash_after_delivery_hangs_up_after_the_action(
    fake: FakeBotApi, bot: Bot, victim: subprocess.Popen[bytes]
) -> None:
    ran = threading.Event()

    def kill_victim() -> None:
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        ran.set()

    fake.crash_after_delivery(
        "sendMessage", lambda params: params.get("text") == "tweede", kill_victim
    )
    await bot.send_message(chat_id=CHAT_ID, text="eerste")
    with pytest.raises(NetworkError) as excinfo:
        await bot.send_message(chat_id=CHAT_ID, text="tweede", reply_markup=YES)

    # No Bot API answer reached the client: it only saw the connection close.
    assert type(excinfo.value) is NetworkError
    assert "RemoteProtocolError" in excinfo.value.message
    assert ran.is_set() and victim.returncode == -signal.SIGKILL
    first, second = fake.sent_messages(CHAT_ID)
    assert (first.answered, second.answered) == (True, False)
    assert second.params["text"] == "tweede" and second.status == 200
    # Telegram delivered it: the message exists and its button can be pressed.
    assert fake.message(CHAT_ID, second.result["message_id"]) == second.result
    assert fake.press_button(CHAT_ID, second.result["message_id"], "yes")
    # One-shot: the next matching call is answered normally.
    again = await bot.send_message(chat_id=CHAT_ID, text="tweede")
    assert again.message_id == second.result["message_id"] + 1


async def test_crash_hook_fires_once_and_only_on_success(fake: FakeBotApi, bot: Bot) -> None:
    fired: list[str] = []
    fake.crash_after_delivery("sendMessage", lambda params: True, lambda: fired.append("x"))

    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(chat_id=CHAT_ID, text="   ")
    results = await asyncio.gather(
        *(bot.send_message(chat_id=CHAT_ID, text=f"bericht {n}") for n in range(3)),
        return_exceptions=True,
    )

    failures = [result for result in results if isinstance(result, BaseException)]
    assert len(failures) == 1 and type(failures[0]) in (NetworkError, TimedOut)
    assert fired == ["x"]
    assert len(fake.sent_messages(CHAT_ID)) == 3
    assert [call.answered for call in fake.sent_messages(CHAT_ID)].count(False) == 1
    with pytest.raises(ValueError, match="sendPhoto"):
        fake.crash_after_delivery("sendPhoto", lambda params: True, lambda: None)


def test_reset_forgets_crash_hooks(fake: FakeBotApi) -> None:
    fake.crash_after_delivery("sendMessage", lambda params: True, lambda: None)

    fake.reset()

    async def send() -> str | None:
        async with Bot(fake.token, base_url=fake.base_url) as client:
            return (await client.send_message(chat_id=CHAT_ID, text="hoi")).text

    assert asyncio.run(send()) == "hoi"


# --- pressing buttons of messages the fake really sent ---------------------------------------


async def test_press_button_on_a_sent_message(fake: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(chat_id=CHAT_ID, text="Doorgaan?", reply_markup=YES)
    fake.queue_update(text_update(10, CHAT_ID, "hoi"))

    update = fake.press_button(CHAT_ID, sent.message_id, "yes", queue=True)
    [_, polled] = await bot.get_updates(timeout=0)

    assert update["update_id"] == 11  # after the last queued update
    assert polled.to_dict() == Update.de_json(update, bot).to_dict()
    query = polled.callback_query
    assert query is not None and query.data == "yes"
    assert query.from_user.id == CHAT_ID and query.from_user.is_bot is False
    assert query.message is not None and query.message.to_dict() == sent.to_dict()
    assert query.chat_instance and query.id
    # What the gateway does with a press: answer it and remove the buttons.
    assert await query.answer() is True
    assert await query.edit_message_reply_markup(reply_markup=None)
    with pytest.raises(ValueError, match="no button with callback_data 'yes'"):
        fake.press_button(CHAT_ID, sent.message_id, "yes")
    with pytest.raises(LookupError, match="no message 99"):
        fake.press_button(CHAT_ID, 99, "yes")


async def test_press_button_in_a_group_needs_the_user(fake: FakeBotApi, bot: Bot) -> None:
    group = -100123
    sent = await bot.send_message(chat_id=group, text="Wie?", reply_markup=YES)

    with pytest.raises(ValueError, match="from_user"):
        fake.press_button(group, sent.message_id, "yes")
    update = fake.press_button(
        group, sent.message_id, "yes", from_user=telegram_user(7, "Ahmed"), update_id=500
    )

    assert update["update_id"] == 500
    assert update["callback_query"]["from"]["first_name"] == "Ahmed"
    assert update["callback_query"]["message"]["chat"]["type"] == "supergroup"


async def test_callback_update_registers_its_message_with_the_fake(
    fake: FakeBotApi, bot: Bot
) -> None:
    # With the fake passed, or found among the running ones, the pressed message exists there.
    explicit = callback_update(1, CHAT_ID, "/affirm", message_id=4, fake=fake)
    implicit = callback_update(2, CHAT_ID + 1, "/deny", message_id=2)

    for update, chat in ((explicit, CHAT_ID), (implicit, CHAT_ID + 1)):
        message = update["callback_query"]["message"]
        assert fake.message(chat, message["message_id"]) == message
        assert await bot.edit_message_reply_markup(chat_id=chat, message_id=message["message_id"])
    # A second press on the same (now buttonless) message gives it its button back.
    callback_update(3, CHAT_ID, "/affirm", message_id=4)
    assert await bot.edit_message_reply_markup(chat_id=CHAT_ID, message_id=4)


async def test_callback_update_on_a_sent_message_carries_that_message(
    fake: FakeBotApi, bot: Bot
) -> None:
    sent = await bot.send_message(chat_id=CHAT_ID, text="Doorgaan?", reply_markup=YES)

    update = callback_update(1, CHAT_ID, "yes", message_id=sent.message_id, fake=fake)

    assert update["callback_query"]["message"] == fake.sent_messages(CHAT_ID)[0].result
    assert update["callback_query"]["message"]["text"] == sent.text
    assert update == fake.press_button(CHAT_ID, sent.message_id, "yes", update_id=1)


# --- flood limits: Telegram's 429, when a test asks for it ----------------------------------


class ManualClock:
    """A clock that moves only when the test moves it."""

    def __init__(self) -> None:
        """Start somewhere that is not zero, like time.monotonic."""
        self.now = 1000.0

    def __call__(self) -> float:
        """The current time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Let time pass."""
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    """The clock for a fake whose limits a test drives."""
    return ManualClock()


def post_form(fake: FakeBotApi, method: str, fields: dict[str, object]) -> tuple[int, object]:
    """POST a form-encoded Bot API call; return the HTTP status and the decoded body."""
    url = urlsplit(fake.base_url)
    conn = http.client.HTTPConnection(url.netloc, timeout=5)
    try:
        conn.request(
            "POST",
            f"{url.path}{fake.token}/{method}",
            body=urlencode(fields),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


async def refused_for(bot: Bot, chat_id: int, text: str) -> dtm.timedelta | None:
    """Send through PTB; None if delivered, else the retry_after of the RetryAfter raised."""
    try:
        await bot.send_message(chat_id=chat_id, text=text)
    except RetryAfter as exc:
        assert isinstance(exc.retry_after, dtm.timedelta)
        return exc.retry_after
    return None


@pytest.fixture
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """RetryAfter.retry_after as a timedelta, without PTB's deprecation warning."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


async def test_limits_are_off_by_default(fake: FakeBotApi, bot: Bot) -> None:
    await asyncio.gather(*(bot.send_message(chat_id=CHAT_ID, text=f"m{n}") for n in range(40)))

    fake.wait_for(lambda f: f.delivered_count(CHAT_ID) == 40, timeout=5)
    assert fake.limits is None
    assert fake.too_many_requests == 0
    assert len(fake.sent_messages(CHAT_ID)) == 40


def test_over_the_limit_is_telegrams_429_and_nothing_is_delivered(clock: ManualClock) -> None:
    limits = SendLimits(overall_per_second=2, per_chat_per_second=1.0, per_chat_burst=5)
    with FakeBotApi(clock=clock, limits=limits) as fake:
        accepted = [post_form(fake, "sendMessage", {"chat_id": CHAT_ID, "text": t}) for t in "ab"]
        status, body = post_form(fake, "sendMessage", {"chat_id": CHAT_ID, "text": "c"})
        # Calls that send no message are neither refused nor counted.
        assert (
            post_form(fake, "sendChatAction", {"chat_id": CHAT_ID, "action": "typing"})[0] == 200
        )
        assert post_form(fake, "getMe", {})[0] == 200
        delivered = fake.sent_messages(CHAT_ID)
        refused = fake.calls_to("sendMessage")[-1]
        clock.advance(1.0)
        later_status, later = post_form(fake, "sendMessage", {"chat_id": CHAT_ID, "text": "c"})

    assert [status for status, _ in accepted] == [200, 200]
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert [call.params["text"] for call in delivered] == ["a", "b"]
    assert (refused.status, refused.result, refused.error) == (
        429,
        None,
        "Too Many Requests: retry after 1",
    )
    assert fake.too_many_requests == 1
    # The refused message took no message id: the next one gets the number after "b".
    assert later_status == 200
    assert isinstance(later, dict) and later["result"]["message_id"] == 3
    assert fake.delivered_count(CHAT_ID) == 3


@pytest.mark.usefixtures("timedelta_retry_after")
async def test_ptb_raises_retry_after_with_the_seconds_to_wait(clock: ManualClock) -> None:
    limits = SendLimits(overall_per_second=30, per_chat_per_second=0.25, per_chat_burst=1)
    with FakeBotApi(clock=clock, limits=limits) as fake:
        async with Bot(fake.token, base_url=fake.base_url) as client:
            first = await refused_for(client, CHAT_ID, "een")
            clock.advance(1.5)
            early = await refused_for(client, CHAT_ID, "twee")
            other_chat = await refused_for(client, CHAT_ID + 1, "ander")
            clock.advance(2.5)
            on_time = await refused_for(client, CHAT_ID, "twee")

    # A quarter of a token refilled in 1.5 s needs 2.5 s more: rounded up to whole seconds.
    assert early == dtm.timedelta(seconds=3)
    assert (first, other_chat, on_time) == (None, None, None)
    assert [call.params["text"] for call in fake.sent_messages(CHAT_ID)] == ["een", "twee"]


@pytest.mark.usefixtures("timedelta_retry_after")
async def test_the_overall_limit_is_a_sliding_one_second_window(clock: ManualClock) -> None:
    limits = SendLimits(overall_per_second=3, per_chat_per_second=1.0, per_chat_burst=1)
    schedule = [0.0, 0.4, 0.8, 0.9, 1.0, 1.05, 1.4]
    outcomes: list[dtm.timedelta | None] = []
    with FakeBotApi(clock=clock, limits=limits) as fake:
        async with Bot(fake.token, base_url=fake.base_url) as client:
            start = clock.now
            for n, at in enumerate(schedule):
                clock.now = start + at
                outcomes.append(await refused_for(client, CHAT_ID + n, f"m{n}"))

    one_second = dtm.timedelta(seconds=1)
    # 0.9 finds three sends in the last second; at 1.0 the one at 0.0 has left the window.
    assert outcomes == [None, None, None, one_second, None, one_second, None]
    accepted = [
        start + at for at, outcome in zip(schedule, outcomes, strict=True) if outcome is None
    ]
    assert fake.send_times() == pytest.approx(accepted)
    assert fake.too_many_requests == 2


@pytest.mark.usefixtures("timedelta_retry_after")
async def test_each_chat_has_a_token_bucket(clock: ManualClock) -> None:
    limits = SendLimits(overall_per_second=30, per_chat_per_second=0.5, per_chat_burst=2)
    outcomes: list[tuple[float, dtm.timedelta | None]] = []
    with FakeBotApi(clock=clock, limits=limits) as fake:
        async with Bot(fake.token, base_url=fake.base_url) as client:
            start = clock.now
            for at, sends in ((0, 3), (1, 1), (2, 2), (12, 3)):
                clock.now = start + at
                for _ in range(sends):
                    outcomes.append((at, await refused_for(client, CHAT_ID, "hoi")))
            other_chat = await refused_for(client, CHAT_ID + 1, "hoi")

    def seconds(n: int) -> dtm.timedelta:
        return dtm.timedelta(seconds=n)

    assert outcomes == [
        (0, None),
        (0, None),  # the burst of two
        (0, seconds(2)),  # a whole token takes 2 s at 0.5/s
        (1, seconds(1)),  # half a token refilled
        (2, None),
        (2, seconds(2)),
        (12, None),  # ten quiet seconds refill the bucket only up to the burst
        (12, None),
        (12, seconds(2)),
    ]
    assert other_chat is None
    assert fake.delivered_count(CHAT_ID) == 5
    assert fake.delivered_per_chat() == {CHAT_ID: 5, CHAT_ID + 1: 1}


@pytest.mark.usefixtures("timedelta_retry_after")
async def test_send_counters_duplicates_and_switching_limits(clock: ManualClock) -> None:
    with FakeBotApi(clock=clock) as fake:
        async with Bot(fake.token, base_url=fake.base_url) as client:
            start = clock.now
            await client.send_message(chat_id=CHAT_ID, text="hoi")
            clock.advance(1)
            await client.send_message(chat_id=CHAT_ID, text="hoi")  # the same message again
            await client.send_message(chat_id=CHAT_ID + 1, text="hoi")
            await client.send_chat_action(chat_id=CHAT_ID, action="typing")
            clock.advance(1)
            await client.send_document(chat_id=CHAT_ID, document=b"%PDF", filename="cv.pdf")
            fake.fail_next(
                "sendMessage",
                status=429,
                description="Too Many Requests: retry after 5",
                retry_after=5,
            )
            injected = await refused_for(client, CHAT_ID, "nog eens")
            stats = fake.send_stats()

            fake.enforce_limits(SendLimits(overall_per_second=1))
            limited = [await refused_for(client, CHAT_ID + 2, f"m{n}") for n in range(2)]
            limits = fake.limits
            fake.reset()
            after_reset = (fake.send_stats(), fake.limits)
            fake.enforce_limits(None)
            unlimited = [await refused_for(client, CHAT_ID + 2, f"u{n}") for n in range(3)]

    assert injected == dtm.timedelta(seconds=5)
    assert stats.count == 4
    assert (stats.first_at, stats.last_at) == (start, start + 2)
    assert stats.rate == pytest.approx(1.5)
    assert (stats.duplicates, stats.too_many_requests) == (1, 1)
    assert limited == [None, dtm.timedelta(seconds=1)]
    assert limits == SendLimits(overall_per_second=1)
    reset_stats, kept_limits = after_reset
    assert (reset_stats.count, reset_stats.too_many_requests, reset_stats.rate) == (0, 0, None)
    assert kept_limits == SendLimits(overall_per_second=1)
    assert unlimited == [None, None, None]
    assert fake.delivered_per_chat() == {CHAT_ID + 2: 3}
