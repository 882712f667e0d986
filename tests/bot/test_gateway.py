"""The gateway in-process: webhook authentication, web chat input, and Rasa failing."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.gateway import Gateway
from core.settings import Settings
from tests.support.fake_telegram import FakeBotApi
from tests.support.helpers import callback_update, text_update
from tests.support.stack import make_settings

SECRET = "gateway-test-secret"


class FakeRasa:
    """Answers like Rasa's REST channel, over real HTTP on a free port, and records what
    reached it. `go` holds every answer back until it is set (a slow turn)."""

    def __init__(self, replies: list[dict[str, Any]] | None = None, status: int = 200) -> None:
        self.requests: list[dict[str, Any]] = []
        self.replies = replies if replies is not None else [{"text": "Hoi!"}]
        self.status = status
        self.go = threading.Event()
        self.go.set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                assert self.path == "/webhooks/rest/webhook"
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                fake.go.wait(timeout=30)
                if fake.status != 200:
                    answer: Any = {"error": "boom"}
                else:
                    answer = [{"recipient_id": body["sender"], **r} for r in fake.replies]
                content = json.dumps(answer).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        _RUNNING.append(self)

    @property
    def url(self) -> str:
        """Where Rasa's REST channel is served."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def serving(self, settings: Settings) -> Settings:
        """`settings` with this fake as Rasa."""
        return settings.model_copy(update={"rasa_url": self.url})

    def close(self) -> None:
        """Stop serving."""
        self.go.set()
        self._server.shutdown()
        self._server.server_close()


_RUNNING: list[FakeRasa] = []


@pytest.fixture(autouse=True)
def _stop_fake_rasas() -> Iterator[None]:
    yield
    while _RUNNING:
        _RUNNING.pop().close()


@pytest.fixture
def fake_bot_api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake


def telegram_settings(fake: FakeBotApi) -> Settings:
    return make_settings(
        telegram_bot_token=fake.token,
        telegram_api_base_url=fake.base_url.removesuffix("/bot"),
        telegram_webhook_url="https://example.invalid/telegram/webhook",
        telegram_webhook_secret=SECRET,
    )


@contextmanager
def ready_client(gateway: Gateway) -> Iterator[TestClient]:
    """A client of the running gateway, once its Telegram channel is ready."""
    telegram = gateway.telegram
    assert telegram is not None

    async def until_ready() -> None:
        await asyncio.wait_for(telegram.ready.wait(), timeout=10)

    with TestClient(gateway.app()) as client:
        client.portal.call(until_ready)  # type: ignore[union-attr]
        yield client


def test_a_webhook_call_without_the_secret_reaches_neither_rasa_nor_telegram(
    fake_bot_api: FakeBotApi,
) -> None:
    rasa = FakeRasa()
    gateway = Gateway(rasa.serving(telegram_settings(fake_bot_api)))
    with ready_client(gateway) as client:
        update = text_update(1, 42, "hoi")
        assert client.post("/telegram/webhook", json=update).status_code == 403
        wrong = {"X-Telegram-Bot-Api-Secret-Token": "not-it"}
        response = client.post("/telegram/webhook", json=update, headers=wrong)
        assert response.status_code == 403
        assert "hoi" not in response.text
        good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert client.post("/telegram/webhook", json=text_update(2, 42, "hoi"), headers=good)
        fake_bot_api.wait_for_messages(42, 1)
        assert [r["message"] for r in rasa.requests] == ["hoi"]
        assert rasa.requests[0]["sender"] == "telegram:42"
        assert rasa.requests[0]["metadata"] == {
            "channel": "telegram",
            "language_code": "nl",
            "first_name": "Sanne",
            "text_language": "nl",
        }


def test_rasa_down_gets_an_apology_in_the_users_language(fake_bot_api: FakeBotApi) -> None:
    rasa = FakeRasa(status=500)
    gateway = Gateway(rasa.serving(telegram_settings(fake_bot_api)))
    with ready_client(gateway) as client:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        update = text_update(7, 43, "hello", language_code="en")
        assert client.post("/telegram/webhook", json=update, headers=headers).status_code == 200
        (reply,) = fake_bot_api.wait_for_messages(43, 1)
        assert "can't be reached" in reply.params["text"]


def test_a_photo_gets_a_text_only_message_and_is_not_forwarded(fake_bot_api: FakeBotApi) -> None:
    rasa = FakeRasa()
    gateway = Gateway(rasa.serving(telegram_settings(fake_bot_api)))
    with ready_client(gateway) as client:
        update = text_update(9, 44, "x")
        message = update["message"]
        del message["text"]
        message["photo"] = [
            {"file_id": "f1", "file_unique_id": "u1", "width": 90, "height": 90, "file_size": 10}
        ]
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert client.post("/telegram/webhook", json=update, headers=headers).status_code == 200
        (reply,) = fake_bot_api.wait_for_messages(44, 1)
        assert "alleen tekst" in reply.params["text"]
        assert rasa.requests == []


def test_telegram_unreachable_at_start_does_not_stop_the_web_chat() -> None:
    rasa = FakeRasa()
    settings = make_settings(
        telegram_bot_token="123456:TEST-token",
        telegram_api_base_url="http://127.0.0.1:1",
        telegram_webhook_url="https://example.invalid/telegram/webhook",
        telegram_webhook_secret=SECRET,
    )
    with TestClient(Gateway(rasa.serving(settings)).app()) as client:
        assert client.get("/healthz").json()["telegram"] == "connecting"
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        update = text_update(1, 45, "hoi")
        # Telegram re-sends on a non-2xx answer, so nothing is lost while connecting.
        assert client.post("/telegram/webhook", json=update, headers=headers).status_code == 503
        reply = client.post("/chat/messages", json={"text": "hoi"})
        assert reply.json() == {
            "messages": [{"text": "Hoi!", "buttons": [], "image": None, "document": None}]
        }


@pytest.fixture
def web() -> Iterator[tuple[TestClient, FakeRasa]]:
    rasa = FakeRasa(
        replies=[{"text": "Mag ik?", "buttons": [{"title": "Ja", "payload": "/affirm"}]}]
    )
    with TestClient(Gateway(rasa.serving(make_settings())).app()) as client:
        yield client, rasa


def test_web_chat_keeps_one_session_per_browser(web: tuple[TestClient, FakeRasa]) -> None:
    client, rasa = web
    first = client.post("/chat/messages", json={"text": "hoi", "language": "en-GB"})
    assert first.json()["messages"][0]["buttons"] == [{"title": "Ja", "payload": "/affirm"}]
    client.post("/chat/messages", json={"payload": "/affirm"})
    senders = {request["sender"] for request in rasa.requests}
    assert len(senders) == 1 and next(iter(senders)).startswith("web:")
    assert rasa.requests[0]["metadata"]["language_code"] == "en-GB"
    assert [request["message"] for request in rasa.requests] == ["hoi", "/affirm"]


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{not json", 400, "Send JSON"),
        (b"[1, 2]", 400, "Send JSON"),
        (b'{"text": ""}', 400, "empty"),
        (b'{"text": 5}', 400, "empty"),
        (json.dumps({"text": "geheim " * 400}).encode(), 413, "too long"),
        (b'{"text": "' + b"x" * 20_000 + b'"}', 413, "too long"),
    ],
)
def test_web_chat_rejects_bad_input_clearly_without_echoing_it(
    web: tuple[TestClient, FakeRasa], body: bytes, status: int, error: str
) -> None:
    client, rasa = web
    response = client.post(
        "/chat/messages", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status
    assert error in response.json()["error"]
    assert "geheim" not in response.text and "xxxx" not in response.text
    assert rasa.requests == []


def test_web_chat_page_and_health(web: tuple[TestClient, FakeRasa]) -> None:
    client, _ = web
    page = client.get("/chat")
    assert page.status_code == 200
    assert "chatbot" in page.text and 'id="form"' in page.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/chat"
    assert client.get("/healthz").json() == {"status": "ok", "telegram": "off", "webchat": "on"}
    disabled = client.post("/telegram/webhook", json=text_update(1, 1, "hoi"))
    assert disabled.status_code == 404


def test_a_429_from_telegram_is_waited_out_and_the_reply_still_arrives(
    fake_bot_api: FakeBotApi,
) -> None:
    rasa = FakeRasa()
    gateway = Gateway(rasa.serving(telegram_settings(fake_bot_api)))
    with ready_client(gateway) as client:
        fake_bot_api.fail_next(
            "sendMessage",
            status=429,
            description="Too Many Requests: retry after 1",
            retry_after=1,
        )
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        update = text_update(11, 46, "hoi")
        assert client.post("/telegram/webhook", json=update, headers=headers).status_code == 200
        (reply,) = fake_bot_api.wait_for_messages(46, 1)
        assert reply.params["text"] == "Hoi!"
        attempts = fake_bot_api.calls_to("sendMessage")
        assert [call.status for call in attempts] == [429, 200]
        assert attempts[1].at - attempts[0].at >= 1.0


HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


def test_the_bubbles_of_one_turn_reach_telegram_as_one_message_with_the_buttons(
    fake_bot_api: FakeBotApi,
) -> None:
    rasa = FakeRasa(
        [
            {"text": "Fijn dat je er bent, Sanne."},
            {"text": "Ik ben een chatbot, geen mens."},
            {
                "text": "Mag ik je profiel maken?",
                "buttons": [
                    {"title": "Ja", "payload": "/affirm"},
                    {"title": "Nee", "payload": "/deny"},
                ],
            },
        ]
    )
    gateway = Gateway(rasa.serving(telegram_settings(fake_bot_api)))
    with ready_client(gateway) as client:
        assert client.post("/telegram/webhook", json=text_update(21, 51, "hoi"), headers=HEADERS)
        (message,) = fake_bot_api.wait_for_messages(51, 1)
        # Nothing else follows once the answer to a second message has come.
        client.post("/telegram/webhook", json=text_update(22, 51, "hoi"), headers=HEADERS)
        fake_bot_api.wait_for_messages(51, 2)
    assert message.params["text"] == (
        "Fijn dat je er bent, Sanne.\n\nIk ben een chatbot, geen mens.\n\nMag ik je profiel maken?"
    )
    keyboard = message.params["reply_markup"]["inline_keyboard"]
    assert [[b["callback_data"] for b in row] for row in keyboard] == [["/affirm", "/deny"]]
    assert len(fake_bot_api.sent_messages(51)) == 2


def test_ten_quick_turns_are_answered_without_waiting_for_the_chats_pace(
    fake_bot_api: FakeBotApi,
) -> None:
    rasa = FakeRasa([{"text": "Genoteerd."}, {"text": "En de volgende vraag?"}])
    gateway = Gateway(rasa.serving(telegram_settings(fake_bot_api)))
    telegram = gateway.telegram
    assert telegram is not None
    with ready_client(gateway) as client:
        for turn in range(10):
            # As fast as the person can: the next message as soon as the answer is there.
            update = text_update(100 + turn, 52, f"antwoord {turn}")
            assert client.post("/telegram/webhook", json=update, headers=HEADERS)
            fake_bot_api.wait_for_messages(52, turn + 1)
    assert len(fake_bot_api.sent_messages(52)) == 10
    assert telegram.limiter.replies_held_for_chat == 0
    assert telegram.limiter.held_for_chat == 0


def slow_turn(fake_bot_api: FakeBotApi) -> tuple[FakeRasa, Gateway]:
    """A gateway whose Rasa holds its answer until `go` is set, and whose "moment" before
    showing a slow turn is short."""
    rasa = FakeRasa([{"text": "Daar ben ik weer."}])
    rasa.go.clear()
    gateway = Gateway(rasa.serving(telegram_settings(fake_bot_api)))
    assert gateway.telegram is not None
    gateway.telegram.typing_after = 0.01
    return rasa, gateway


def test_a_slow_turn_shows_typing_until_the_answer_comes(fake_bot_api: FakeBotApi) -> None:
    rasa, gateway = slow_turn(fake_bot_api)
    with ready_client(gateway) as client:
        assert client.post("/telegram/webhook", json=text_update(31, 53, "hoi"), headers=HEADERS)
        fake_bot_api.wait_for(lambda fake: bool(fake.calls_to("sendChatAction")), timeout=10)
        assert fake_bot_api.sent_messages(53) == []
        rasa.go.set()
        (reply,) = fake_bot_api.wait_for_messages(53, 1)
    (typing, *_) = fake_bot_api.calls_to("sendChatAction")
    assert typing.params["chat_id"] in (53, "53")
    assert typing.params["action"] == "typing"
    assert typing.at < reply.at
    assert reply.params["text"] == "Daar ben ik weer."


def test_a_quick_turn_shows_no_typing(fake_bot_api: FakeBotApi) -> None:
    rasa = FakeRasa()
    gateway = Gateway(rasa.serving(telegram_settings(fake_bot_api)))
    telegram = gateway.telegram
    assert telegram is not None
    telegram.typing_after = 60.0  # longer than any turn here: the answer comes first
    with ready_client(gateway) as client:
        assert client.post("/telegram/webhook", json=text_update(41, 54, "hoi"), headers=HEADERS)
        fake_bot_api.wait_for_messages(54, 1)
        # The cancelled indicator sends nothing, even after the next turn.
        client.post("/telegram/webhook", json=text_update(42, 54, "hoi"), headers=HEADERS)
        fake_bot_api.wait_for_messages(54, 2)
    assert fake_bot_api.calls_to("sendChatAction") == []


def test_a_button_press_is_answered_and_its_buttons_removed_after_the_reply(
    fake_bot_api: FakeBotApi,
) -> None:
    rasa = FakeRasa([{"text": "Top, dan gaan we verder."}])
    gateway = Gateway(rasa.serving(telegram_settings(fake_bot_api)))
    with ready_client(gateway) as client:
        update = callback_update(61, 56, "/affirm", fake=fake_bot_api)
        assert client.post("/telegram/webhook", json=update, headers=HEADERS)
        (reply,) = fake_bot_api.wait_for_messages(56, 1)
        fake_bot_api.wait_for(
            lambda fake: (
                bool(fake.calls_to("answerCallbackQuery"))
                and bool(fake.calls_to("editMessageReplyMarkup"))
            ),
            timeout=10,
        )
    (answer,) = fake_bot_api.calls_to("answerCallbackQuery")
    (edit,) = fake_bot_api.calls_to("editMessageReplyMarkup")
    assert reply.params["text"] == "Top, dan gaan we verder."
    assert rasa.requests[-1]["message"] == "/affirm"
    # The turn's own work went first; the press's housekeeping followed its reply.
    assert reply.at <= answer.at and reply.at <= edit.at
    assert edit.status == 200 and "reply_markup" not in (edit.result or {})


def test_a_slow_button_turn_answers_the_press_before_the_reply(
    fake_bot_api: FakeBotApi,
) -> None:
    rasa, gateway = slow_turn(fake_bot_api)
    with ready_client(gateway) as client:
        update = callback_update(71, 57, "/affirm", fake=fake_bot_api)
        assert client.post("/telegram/webhook", json=update, headers=HEADERS)
        # Rasa has not answered: the spinner on the button stops and the buttons go anyway.
        fake_bot_api.wait_for(
            lambda fake: (
                bool(fake.calls_to("answerCallbackQuery"))
                and bool(fake.calls_to("editMessageReplyMarkup"))
            ),
            timeout=10,
        )
        assert fake_bot_api.sent_messages(57) == []
        rasa.go.set()
        (reply,) = fake_bot_api.wait_for_messages(57, 1)
    assert reply.params["text"] == "Daar ben ik weer."
    assert len(fake_bot_api.calls_to("answerCallbackQuery")) == 1
