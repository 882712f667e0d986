"""The whole spine through real processes: Telegram update → gateway → Rasa → action → database."""

from __future__ import annotations

import itertools
import json
import random
import subprocess
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.cli import launcher
from bot.cli.launcher import settings_env
from bot.cli.terminal_chat import chat
from core.paths import PROJECT_PYTHON, ROOT
from store.models import ChannelIdentity, JobSeeker, Profile, ProfileItem
from tests.support.environment import WEBHOOK_SECRET
from tests.support.fake_telegram import ApiCall, FakeBotApi
from tests.support.helpers import callback_update, text_update
from tests.support.stack import Stack, make_settings, running

pytestmark = pytest.mark.e2e

# Rasa is shared by the SQLite and PostgreSQL runs, so chats must never repeat.
_chat_ids = itertools.count(random.randrange(10**8, 9 * 10**8))
_update_ids = itertools.count(random.randrange(10**6, 10**7))


def post_update(stack: Stack, update: dict[str, Any], secret: str | None = WEBHOOK_SECRET) -> int:
    """POST one update to the webhook the way Telegram does; returns the HTTP status."""
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    response = httpx.post(
        f"{stack.gateway_url}/telegram/webhook", json=update, headers=headers, timeout=10
    )
    return response.status_code


def say(stack: Stack, chat_id: int, text: str, expect: int, **kwargs: Any) -> list[ApiCall]:
    """Send a text and wait for `expect` new replies in that chat."""
    before = len(stack.telegram.sent_messages(chat_id))
    assert post_update(stack, text_update(next(_update_ids), chat_id, text, **kwargs)) == 200
    return stack.telegram.wait_for_messages(chat_id, before + expect)[before:]


def press(stack: Stack, chat_id: int, data: str, expect: int) -> list[ApiCall]:
    """Press an inline button under the bot's newest message and wait for `expect` replies."""
    sent = stack.telegram.sent_messages(chat_id)
    before = len(sent)
    message_id = sent[-1].result["message_id"] if sent else 1
    update = callback_update(next(_update_ids), chat_id, data, message_id=message_id)
    assert post_update(stack, update) == 200
    return stack.telegram.wait_for_messages(chat_id, before + expect)[before:]


def buttons(call: ApiCall) -> list[tuple[str, str]]:
    """(text, callback_data) of each inline button of a sendMessage call."""
    markup = call.params.get("reply_markup") or {}
    return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]


def seekers(stack: Stack, chat_id: int) -> int:
    """How many job seeker rows exist for a Telegram chat."""
    with stack.engine.connect() as connection:
        return int(
            connection.scalar(
                select(func.count())
                .select_from(JobSeeker)
                .join(ChannelIdentity)
                .where(
                    ChannelIdentity.channel == "telegram",
                    ChannelIdentity.channel_user_id == str(chat_id),
                )
            )
            or 0
        )


def test_the_webhook_registers_with_the_secret(stack: Stack) -> None:
    webhook = stack.telegram.webhook
    assert webhook is not None
    assert webhook["url"] == f"{stack.gateway_url}/telegram/webhook"
    assert webhook["secret_token"] == WEBHOOK_SECRET


# (message, replies expected, words in the last reply). A message starting with "/" is a
# button press; None as words means "do not check the text".
INTAKE_NL: list[tuple[str, int, str | None]] = [
    ("/start", 1, "profiel"),
    ("/affirm", 1, "voornaam"),
    ("ik heet sanne", 1, "Sanne"),
    ("plannen, goed luisteren", 1, "leren"),
    ("wat is een werkervaringsplek?", 1, "leren"),  # an FAQ, then the same question again
    ("beter worden in excel", 1, "werk"),
    ("iets in de zorg", 1, "uur"),
    ("200", 1, "uur"),  # nonsense: explained, then asked again
    ("tussen de 20 en 24 uur", 1, "plaats"),
    ("Amersfoort", 1, "reis"),
    ("een half uur", 1, "werkervaringsplek"),
    ("werkervaringsplek of proefplaatsing", 1, "beginnen"),
    ("sla over", 1, "werkgever"),
    # The illness is not stored; the practical need in the same sentence is.
    ("door mijn chemo kan ik niet vroeg beginnen", 1, "contact"),
    ("bellen", 1, "profielschets"),
    ("mijn uren kloppen niet, het is 24", 1, "24 uur per week"),
    ("ja", 1, "berichtje"),  # the profile is ready; then: may I send you a message now and then?
    ('/nudges_frequency{"frequency":"weekly"}', 1, "morgen"),  # "Ja, elke week"
]

INTAKE_EN: list[tuple[str, int, str | None]] = [
    ("hello", 1, "profile"),
    ("/affirm", 1, "first name"),
    ("my name is Tom", 1, "Tom"),
    ("I'm good with people", 1, "learn"),
    ("driving a forklift", 1, "work"),
    ("warehouse worker in logistics", 1, "hours"),
    ("32 hours", 1, "town"),
    ("Tilburg", 1, "journey"),
    ("max 20 km", 1, "regular job"),
    ("a regular job or temp work", 1, "start"),
    ("next month", 1, "employer"),
    ("no", 1, "contact"),
    ("by e-mail", 1, "profile sketch"),
    ("I live in Breda now", 1, "Breda"),
    ("yes", 1, "message"),  # the profile is ready; then: may I send you a message now and then?
    ("no thanks", 1, "won't send"),
]


def converse(
    stack: Stack, chat: int, script: list[tuple[str, int, str | None]], language: str
) -> list[ApiCall]:
    """Run a scripted conversation, checking the number of replies and the last one's words."""
    for message, expect, words in script:
        if message.startswith("/") and message != "/start":
            replies = press(stack, chat, message, expect=expect)
        else:
            replies = say(stack, chat, message, expect=expect, language_code=language)
        texts = [reply.params["text"] for reply in replies]
        assert words is None or words in texts[-1], (message, texts)
    # No reply beyond the expected ones arrived in the meantime.
    total = sum(expect for _, expect, _ in script)
    return stack.telegram.sent_messages(chat)[:total]


def stored_profile(stack: Stack, chat: int) -> dict[str, Any]:
    """The export of a Telegram chat, through the CLI as an admin would run it."""
    env = {**settings_env(stack.settings), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [str(PROJECT_PYTHON), "-m", "bot.cli", "export", f"telegram:{chat}"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return dict(json.loads(result.stdout))


def test_the_whole_intake_in_dutch_through_telegram(stack: Stack) -> None:
    chat = next(_chat_ids)
    converse(stack, chat, INTAKE_NL, "nl")
    sent = [call.params["text"] for call in stack.telegram.sent_messages(chat)]
    assert len(sent) == sum(n for _, n, _ in INTAKE_NL)
    # The illness was acknowledged, and the next question followed.
    # One message: the acknowledgement first, then the next question.
    (told,) = [t for t in sent if "gezondheid schrijf ik niets op" in t]
    assert "contact" in told.split("\n\n", 1)[1]

    export = stored_profile(stack, chat)
    assert set(export) >= {
        "schema", "job_seeker", "consents", "profile", "handovers", "nudges",
        "success_moments", "conversation",
    }  # fmt: skip
    assert export["schema"] == "werkmaatje.export/1"
    assert export["job_seeker"]["channel_user_id"] == str(chat)
    assert [(c["purpose"], c["given"], c["text_version"]) for c in export["consents"]] == [
        ("profile", True, "v1"),
        ("nudges", True, "v1"),
    ]
    assert export["nudges"]["frequency"] == "weekly"
    assert export["nudges"]["paused_until"] is None
    assert export["profile"] == {
        "name": "Sanne",
        "talents": ["plannen", "goed luisteren"],
        "development_points": ["beter worden in excel"],
        "roles": [],
        "sectors": ["zorg"],
        "place": "Amersfoort",
        "max_travel_minutes": 30,
        "hours_min": 24,
        "hours_max": 24,
        "pathways": ["work_experience_place", "trial_placement"],
        "start": None,
        "support_needs": ["kan ik niet vroeg beginnen"],
        "contact_preference": "bellen",
    }
    with stack.engine.connect() as connection:
        seeker = connection.execute(
            select(JobSeeker)
            .join(ChannelIdentity)
            .where(
                ChannelIdentity.channel == "telegram", ChannelIdentity.channel_user_id == str(chat)
            )
        ).one()
        assert connection.scalar(
            select(Profile.confirmed_at).where(Profile.job_seeker_id == seeker.id)
        )
        texts = connection.scalars(
            select(ProfileItem.value).where(ProfileItem.job_seeker_id == seeker.id)
        ).all()
    assert not any("chemo" in text for text in texts)
    assert "chemo" not in json.dumps(export["profile"])
    # The nudge buttons' payloads (/nudges_frequency{"frequency":...}) are no placeholders.
    rasa_logs = [path for folder in stack.log_dirs for path in folder.glob("rasa.log")]
    assert rasa_logs
    assert not any("interpolator" in path.read_text("utf-8") for path in rasa_logs)


def test_the_whole_intake_in_english_through_telegram(stack: Stack) -> None:
    chat = next(_chat_ids)
    converse(stack, chat, INTAKE_EN, "en")
    question = stack.telegram.sent_messages(chat)[-2]
    assert [title for title, _ in buttons(question)] == [
        "Yes, every week",
        "Every day",
        "Every other week",
        "No, thanks",
    ]
    export = stored_profile(stack, chat)
    assert [(c["purpose"], c["given"]) for c in export["consents"]] == [
        ("profile", True),
        ("nudges", False),
    ]
    assert export["nudges"]["frequency"] == "off"
    profile = export["profile"]
    assert profile["name"] == "Tom"
    assert profile["talents"] == ["I'm good with people"]
    assert profile["development_points"] == ["driving a forklift"]
    assert profile["sectors"] == ["logistiek"]
    assert profile["roles"] == ["warehouse worker"]
    assert (profile["hours_min"], profile["hours_max"]) == (32, 32)
    assert profile["place"] == "Breda"  # corrected from Tilburg
    assert profile["max_travel_minutes"] == 40  # 20 km at 2 minutes a km
    assert profile["pathways"] == ["regular_job", "temp_work"]
    assert profile["start"] == "next month"
    assert profile["support_needs"] == []
    assert profile["contact_preference"] == "by e-mail"


def test_stop_in_the_middle_and_come_back_to_the_same_question(stack: Stack) -> None:
    chat = next(_chat_ids)
    converse(stack, chat, INTAKE_NL[:4], "nl")
    (paused,) = say(stack, chat, "stop", expect=1)
    assert "verder" in paused.params["text"]
    (again,) = say(stack, chat, "ik wil verder met mijn profiel", expect=1)
    assert "leren" in again.params["text"]


def test_switching_language_in_the_middle_of_the_intake(stack: Stack) -> None:
    chat = next(_chat_ids)
    converse(stack, chat, INTAKE_NL[:3], "nl")
    (switched,) = say(stack, chat, "can we talk in English please?", expect=1)
    told, asked = switched.params["text"].split("\n\n", 1)
    assert "English" in told
    assert "good at" in asked
    (back,) = say(stack, chat, "Nederlands graag", expect=1)
    told, asked_again = back.params["text"].split("\n\n", 1)
    assert "Nederlands" in told
    assert "goed in" in asked_again


def test_english_speakers_are_answered_in_english(stack: Stack) -> None:
    chat = next(_chat_ids)
    (welcome,) = say(stack, chat, "hello", expect=1, language_code="en")
    assert "not a person" in welcome.params["text"]
    assert buttons(welcome) == [("Yes", "/affirm"), ("No", "/deny")]


def test_declining_consent_stores_nothing(stack: Stack) -> None:
    chat = next(_chat_ids)
    say(stack, chat, "hoi", expect=1)
    (reply,) = press(stack, chat, "/deny", expect=1)
    assert "bewaar niets" in reply.params["text"]
    assert seekers(stack, chat) == 0


def test_a_request_without_the_secret_is_refused_and_goes_nowhere(stack: Stack) -> None:
    chat = next(_chat_ids)
    assert post_update(stack, text_update(next(_update_ids), chat, "hoi"), secret=None) == 403
    assert post_update(stack, text_update(next(_update_ids), chat, "hoi"), secret="wrong") == 403
    # A correct request afterwards is answered, so the refused ones were not queued behind it.
    say(stack, chat, "hoi", expect=1)
    assert len(stack.telegram.sent_messages(chat)) == 1
    # Nothing else reached this chat ("typing…" aside, which a slow turn may show). Calls of
    # other chats are not counted: an earlier test's button housekeeping follows its reply.
    to_this_chat = [
        call.method
        for call in stack.telegram.calls
        if call.params.get("chat_id") == chat and call.method != "sendChatAction"
    ]
    assert to_this_chat == ["sendMessage"]
    assert seekers(stack, chat) == 0


def test_the_same_update_twice_gets_one_reply(stack: Stack) -> None:
    chat = next(_chat_ids)
    update = text_update(next(_update_ids), chat, "hoi")
    assert post_update(stack, update) == 200
    assert post_update(stack, update) == 200
    stack.telegram.wait_for_messages(chat, 1)
    # Let a later message through and wait for it, so a duplicate reply would be seen.
    say(stack, chat, "ben jij een bot?", expect=1)
    texts = [call.params["text"] for call in stack.telegram.sent_messages(chat)]
    assert len(texts) == 2
    assert sum("Mag ik" in text for text in texts) == 1


def test_bad_webhook_bodies_get_a_clear_error(stack: Stack) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    url = f"{stack.gateway_url}/telegram/webhook"
    response = httpx.post(url, content=b"{not json", headers=headers)
    assert response.status_code == 400
    assert response.json() == {"error": "Not a Telegram update."}
    assert httpx.post(url, json={"message": {}}, headers=headers).status_code == 400


def test_the_web_chat_answers_hoi_with_the_welcome(stack: Stack) -> None:
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        page = client.get("/chat")
        assert page.status_code == 200 and "<form" in page.text
        reply = client.post("/chat/messages", json={"text": "hoi"})
        assert reply.status_code == 200
        welcome, consent = reply.json()["messages"]
        assert "chatbot" in welcome["text"]
        assert [b["payload"] for b in consent["buttons"]] == ["/affirm", "/deny"]
        assert "werkmaatje_session" in reply.cookies
        answer = client.post("/chat/messages", json={"payload": "/affirm"})
        assert "voornaam" in answer.json()["messages"][0]["text"]
        assert client.post("/chat/messages", json={"text": "  "}).status_code == 400


def test_health(stack: Stack) -> None:
    health = httpx.get(f"{stack.gateway_url}/healthz").json()
    assert health == {"status": "ok", "telegram": "webhook", "webchat": "on"}


def test_without_a_webhook_url_the_gateway_polls(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with FakeBotApi() as polled:
        settings = make_settings(
            database_url=stack.settings.database_url,
            rasa_port=stack.settings.rasa_port,
            rasa_url=stack.settings.rasa_url,
            action_server_port=stack.settings.action_server_port,
            telegram_bot_token=polled.token,
            telegram_api_base_url=polled.base_url.removesuffix("/bot"),
        )
        logs = tmp_path_factory.mktemp("polling-logs")
        with running(launcher.gateway(settings, logs)):
            chat = next(_chat_ids)
            polled.queue_update(text_update(next(_update_ids), chat, "hoi"))
            (welcome,) = polled.wait_for_messages(chat, 1)
            assert "chatbot" in welcome.params["text"]
            assert buttons(welcome) == [("Ja", "/affirm"), ("Nee", "/deny")]
            assert polled.calls_to("getUpdates")
            assert polled.webhook is None


def test_the_terminal_chat_talks_through_the_gateway(stack: Stack) -> None:
    lines = iter(["hoi", "1", "/quit"])
    written: list[str] = []
    code = chat(stack.gateway_url, read=lambda prompt: next(lines), write=written.append)
    assert code == 0
    assert any("chatbot" in line for line in written)
    assert "   [1] Ja" in written and "   [2] Nee" in written
    assert any("voornaam" in line for line in written)
