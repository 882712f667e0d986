"""No message text, name, phone number or health word in the logs; no request body in errors."""

from __future__ import annotations

import io
import itertools
import json
import logging
import random
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import Engine, select

from bot.channels.telegram.sender import TEXT_LIMIT
from bot.cli import launcher
from bot.rasa_client import Reply
from bot.turns import one_message_per_turn
from core.logs import LIBRARY_LEVELS, RedactingFilter, redact
from core.paths import PROJECT_PYTHON, ROOT
from core.settings import Settings
from store.conversation import EVENTS
from tests.support.actions import domain, form_step
from tests.support.environment import WEBHOOK_SECRET
from tests.support.fake_telegram import FakeBotApi
from tests.support.helpers import callback_update, text_update
from tests.support.stack import (
    Stack,
    make_settings,
    running,
    telegram_state,
    wait_until,
    webhook_settings,
)

_chat_ids = itertools.count(random.randrange(10**8, 9 * 10**8))
_update_ids = itertools.count(random.randrange(10**7, 10**8))

NAME = "Fatima"
ILLNESS = "ik heb borstkanker gehad en ben snel moe"
PHONE = "bel me op 06-12345678"
FREE = "de chemo is klaar, ik wil weer aan het werk"

# A full conversation: (message, words expected in one of its replies, or None). A message
# starting with "/" other than /start is a button press.
CONVERSATION: list[tuple[str, str | None]] = [
    ("/start", "profiel"),
    ("/affirm", "voornaam"),
    (f"ik heet {NAME}", NAME),
    ("plannen, goed luisteren", "leren"),
    ("beter worden in excel", "werk"),
    ("iets in de zorg", "uur"),
    ("24 uur", "plaats"),
    ("Utrecht", "reis"),
    ("een half uur", "werkervaringsplek"),
    ("werkervaringsplek", "beginnen"),
    ("sla over", "werkgever"),
    (ILLNESS, "gezondheid schrijf ik niets op"),
    ("korte werkdagen", "contact"),
    (PHONE, "profielschets"),
    ("ja", "klaar"),
    ('/nudges_frequency{"frequency":"weekly"}', "elke week"),  # yes to nudges
    (FREE, None),
]

# What must never reach a log: the name, the illness, the treatment, the phone number in any
# separator form ("12345678", "1234 5678", "12-34-56-78", …).
FORBIDDEN = {
    "first name": re.compile(NAME, re.IGNORECASE),
    "illness": re.compile("borstkanker", re.IGNORECASE),
    "treatment": re.compile("chemo", re.IGNORECASE),
    "phone number": re.compile(r"1[\s.()-]*2[\s.()-]*3[\s.()-]*4[\s.()-]*5[\s.()-]*6[\s.()-]*7"
                               r"[\s.()-]*8"),
}  # fmt: skip


def leaks(text: str) -> list[str]:
    """What of FORBIDDEN occurs in `text`, with the line it is on."""
    found = []
    for what, pattern in FORBIDDEN.items():
        for match in pattern.finditer(text):
            start = text.rfind("\n", 0, match.start()) + 1
            end = text.find("\n", match.end())
            found.append(f"{what}: {text[start : end if end >= 0 else None]}")
    return found


def read_logs(directories: tuple[Path, ...]) -> dict[str, str]:
    """Every log file the processes wrote in these folders, by path."""
    return {
        str(path): path.read_text("utf-8", errors="replace")
        for directory in directories
        for path in sorted(directory.glob("*.log"))
    }


# --- the filter ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "0612345678",
        "06-12345678",
        "06 1234 5678",
        "06 12 34 56 78",
        "+31 6 12345678",
        "+31612345678",
        "+31 (0)6 1234 5678",
        "0031 6 12345678",
        "020-1234567",
        "(020) 123 4567",
        "+44 20 7946 0958",
    ],
)
def test_phone_numbers_are_redacted(phone: str) -> None:
    assert redact(f"bel me op {phone} na vijf uur") == "bel me op [phone] na vijf uur"
    assert redact(f"tel:{phone}") == "tel:[phone]"


def test_e_mail_addresses_are_redacted() -> None:
    assert redact("mail fatima.el-amrani+werk@example.co.nl, graag") == "mail [e-mail], graag"


def test_health_words_are_redacted() -> None:
    assert redact(ILLNESS) == "ik heb […] gehad en ben […]"
    assert redact("na de chemokuur en een burn-out") == "na de […] en een […]"


@pytest.mark.parametrize(
    "line",
    [
        "Telegram ready (webhook)",
        "Ignoring repeated update 733190456",
        "Rasa not reachable (attempt 2 of 3)",
        "Rasa answered HTTP 503",
        "Action validate_intake_form: request 5120 bytes, answer 200 with 311 bytes in 0.012 s",
        "sender telegram:733190456 at 2024-05-01 12:00:00,123",
        "Connection <psycopg.Connection at 0x7f3a2b1c0d90> checked out from pool",
        "took 0.1234567891 s; port 5055; version 3.6.21; id 1a2b3c4d-0123-4567-89ab-0123456789ab",
        "Registered function for 'action_store_volunteered'.",
    ],
)
def test_ordinary_lines_are_left_alone(line: str) -> None:
    assert redact(line) == line


def _capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    log = logging.getLogger(f"test_log_hygiene.{random.random()}")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    return log, stream


def test_the_filter_redacts_messages_with_arguments() -> None:
    log, stream = _capture()
    log.warning("Answer %r from %s", f"{ILLNESS}, {PHONE}", "telegram:733190456")
    written = stream.getvalue()
    assert "[…]" in written and "[phone]" in written and "telegram:733190456" in written
    assert not leaks(written)


def test_the_filter_redacts_a_traceback_that_quotes_a_message() -> None:
    log, stream = _capture()
    try:
        raise ValueError(f"could not parse {PHONE!r} after the {FREE!r}")
    except ValueError:
        log.exception("Handling failed")
    written = stream.getvalue()
    assert "Traceback" in written and "ValueError" in written and "[phone]" in written
    assert not leaks(written)


def test_the_filter_keeps_arguments_of_lines_it_does_not_change() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s of %s", (2, 3), None)
    assert RedactingFilter().filter(record)
    assert record.args == (2, 3) and record.getMessage() == "2 of 3"


def test_a_line_that_cannot_be_formatted_does_not_print_its_arguments() -> None:
    log, stream = _capture()
    log.error("two %s %s", f"only one: {PHONE}")
    assert "could not be formatted" in stream.getvalue()
    assert not leaks(stream.getvalue())


@pytest.mark.e2e
def test_at_debug_the_libraries_stay_at_info_or_above() -> None:
    # In a subprocess: configure_logging changes the process's root logger.
    texts = f"{PHONE}, {ILLNESS}"
    script = f"""
import logging
from core.logs import configure_logging
configure_logging("DEBUG")
for name in ("httpx", "httpcore", "hpack", "aiohttp.client", "telegram.ext.ExtBot",
             "sqlalchemy.engine.Engine", "apscheduler.scheduler", "rasa_sdk.executor", "asyncio",
             "uvicorn.access"):
    logging.getLogger(name).debug("LIBRARY-DEBUG %s", name)
logging.getLogger("sqlalchemy.engine.Engine").info("LIBRARY-INFO parameters")
logging.getLogger("httpx").info("LIBRARY-INFO https://api.telegram.org/bot123:abc/getMe")
logging.getLogger("aiohttp.client").info("LIBRARY-INFO https://api.telegram.org/bot123:abc/getMe")
logging.getLogger("bot.gateway").debug("OWN-DEBUG message of %d characters", 42)
logging.getLogger("bot.gateway").info("OWN-INFO %s", {texts!r})
"""
    result = subprocess.run(
        [str(PROJECT_PYTHON), "-c", script],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert "LIBRARY-" not in result.stderr, result.stderr
    assert "OWN-DEBUG message of 42 characters" in result.stderr
    assert "OWN-INFO" in result.stderr and "[phone]" in result.stderr
    assert not leaks(result.stderr), result.stderr
    assert all(level >= logging.INFO for level in LIBRARY_LEVELS.values())


@pytest.mark.e2e
def test_uvicorn_s_own_handlers_write_redacted_tracebacks_too() -> None:
    # uvicorn configures its loggers (with handlers of their own) after configure_logging.
    script = f"""
import logging, uvicorn
from core.logs import configure_logging
configure_logging("INFO")
uvicorn.Config(app=lambda *args: None, log_level="warning").configure_logging()
try:
    raise RuntimeError({FREE + ", " + PHONE!r})
except RuntimeError:
    logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
"""
    result = subprocess.run(
        [str(PROJECT_PYTHON), "-c", script],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert "RuntimeError: de […] is klaar" in result.stderr, result.stderr
    assert not leaks(result.stderr), result.stderr


# --- Rasa ---------------------------------------------------------------------------------
# Rasa reads LOG_LEVEL from its environment (rasa.utils.common.configure_logging_and_warnings)
# and logs each message's text at DEBUG ("processor.message.parse"); at ERROR its REST channel
# logs the text of a message whose client went away before the answer
# ("rest.message.received.timeout"). launcher.rasa_server keeps Rasa at INFO and quiets that
# one logger with rasa-logging.yml.


def test_rasa_runs_at_info_even_when_log_level_is_debug(tmp_path: Path) -> None:
    service = launcher.rasa_server(make_settings(log_level="DEBUG"), tmp_path / "m.tar.gz")
    assert not {"--debug", "-vv", "--verbose", "-v"} & set(service.command)
    assert service.env["LOG_LEVEL"] in ("INFO", "WARNING", "ERROR")


def test_rasa_gets_a_logging_config_that_quiets_the_rest_channel(tmp_path: Path) -> None:
    service = launcher.rasa_server(make_settings(), tmp_path / "m.tar.gz")
    config_path = Path(service.command[service.command.index("--logging-config-file") + 1])
    config = yaml.safe_load(config_path.read_text("utf-8"))
    assert config["loggers"]["rasa.core.channels.rest"]["level"] == "CRITICAL"


# --- the action server --------------------------------------------------------------------


@pytest.fixture(scope="module")
def debug_actions(
    database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """An action server of our own at LOG_LEVEL=DEBUG: (its URL, its log file)."""
    settings = make_settings(database_url=database_url, log_level="DEBUG")
    logs = tmp_path_factory.mktemp("debug-actions-logs")
    service = launcher.action_server(settings, logs)
    assert service.command[1:3] == ["-m", "actions.server"]
    with running(service):
        yield f"http://127.0.0.1:{settings.action_server_port}", service.log_path


SECRET = "SECRET-d41d8cd9 bel me op 06-12345678, ik heb borstkanker"


def _action_call(next_action: str, tracker: dict[str, Any]) -> dict[str, Any]:
    return {
        "next_action": next_action,
        "tracker": tracker,
        "domain": domain(),
        "version": "3.6.21",
    }


def _logged(log_path: Path, marker: str) -> str:
    """The log once `marker` is in it (the server writes the line after answering)."""
    wait_until(lambda: marker in log_path.read_text("utf-8"), timeout=10)
    return log_path.read_text("utf-8")


def test_an_error_answer_holds_no_request_body(debug_actions: tuple[str, Path]) -> None:
    url, log_path = debug_actions
    tracker = form_step("support_needs", SECRET).current_state()
    # An action that fails: slots of the wrong shape make action_session_start raise.
    broken = {**tracker, "slots": [SECRET]}
    failing = httpx.post(f"{url}/webhook", json=_action_call("action_session_start", broken))
    assert failing.status_code == 500
    assert set(failing.json()) == {"error"}
    assert "SECRET" not in failing.text and "12345678" not in failing.text

    missing = httpx.post(f"{url}/webhook", json=_action_call("action_does_not_exist", tracker))
    assert missing.status_code == 404
    assert "SECRET" not in missing.text and "borstkanker" not in missing.text

    bad_json = httpx.post(f"{url}/webhook", content=f"{{{SECRET}".encode())
    assert bad_json.status_code == 400
    assert bad_json.json() == {"error": "Bad Request"}

    log = _logged(log_path, "action_does_not_exist")
    assert "Action action_session_start failed: AttributeError" in log
    assert "SECRET" not in log
    assert not leaks(log), leaks(log)


def test_the_debug_action_server_logs_calls_but_no_texts(debug_actions: tuple[str, Path]) -> None:
    url, log_path = debug_actions
    steps = [
        ("first_name", f"ik heet {NAME}", None),
        ("support_needs", ILLNESS, "utter_health_not_stored"),
        ("contact_preference", PHONE, None),
    ]
    for slot, text, response in steps:
        tracker = form_step(slot, text, slots={"consent_profile": True}).current_state()
        answer = httpx.post(
            f"{url}/webhook", json=_action_call("validate_intake_form", tracker), timeout=30
        )
        assert answer.status_code == 200, answer.text
        sent = [message.get("response") for message in answer.json()["responses"]]
        assert response is None or response in sent, sent
    marker = "DEBUG   actions.server: Action validate_intake_form: request"
    wait_until(lambda: log_path.read_text("utf-8").count(marker) >= len(steps), timeout=10)
    log = log_path.read_text("utf-8")
    assert not leaks(log), leaks(log)


# --- whole conversations through the real processes ----------------------------------------


def replies_to_turn(engine: Engine, sender: str, turn: int) -> int | None:
    """How many Telegram messages Rasa's replies to the person's `turn`-th message make, once
    that turn is over (the bot listens again); None before. A turn's replies go out as one
    message where their meaning allows (bot/turns.py)."""
    with engine.connect() as connection:
        events = connection.execute(
            select(EVENTS.c.type_name, EVENTS.c.action_name, EVENTS.c.data)
            .where(EVENTS.c.sender_id == sender)
            .order_by(EVENTS.c.id)
        ).all()
    users = [index for index, (kind, _, _) in enumerate(events) if kind == "user"]
    if len(users) < turn:
        return None
    after = events[users[turn - 1] + 1 :]
    if not after or (after[-1][0], after[-1][1]) != ("action", "action_listen"):
        return None
    replies = []
    for kind, _, data in after:
        if kind == "bot":
            event = json.loads(data)
            replies.append(
                Reply.from_rasa({"text": event.get("text"), **(event.get("data") or {})})
            )
    messages = one_message_per_turn(replies, TEXT_LIMIT)
    return sum(1 for m in messages if m.text and m.image is None and m.document is None)


def _say(
    gateway_url: str, fake: FakeBotApi, engine: Engine, chat: int, turn: int, message: str
) -> list[str]:
    """Send a text or press a button; the replies, all of them: as many messages as Rasa's
    stored replies to the turn make."""
    before = len(fake.sent_messages(chat))
    if message.startswith("/") and message != "/start":
        pressed = fake.sent_messages(chat)[-1].result["message_id"]
        update = callback_update(
            next(_update_ids), chat, message, message_id=pressed, first_name=NAME
        )
    else:
        update = text_update(next(_update_ids), chat, message, first_name=NAME)
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    posted = httpx.post(f"{gateway_url}/telegram/webhook", json=update, headers=headers)
    assert posted.status_code == 200

    def stored_replies() -> int | None:
        return replies_to_turn(engine, f"telegram:{chat}", turn)

    wait_until(lambda: stored_replies() is not None)
    expected = stored_replies()
    assert expected is not None
    fake.wait_for_messages(chat, before + expected)
    return [call.params["text"] for call in fake.sent_messages(chat)[before:]]


def converse(gateway_url: str, fake: FakeBotApi, engine: Engine) -> None:
    """The whole CONVERSATION in a new chat, checking that it went where it should."""
    chat = next(_chat_ids)
    for turn, (message, words) in enumerate(CONVERSATION, start=1):
        replies = _say(gateway_url, fake, engine, chat, turn, message)
        assert words is None or any(words in reply for reply in replies), (message, replies)


def assert_clean(directories: tuple[Path, ...]) -> dict[str, str]:
    """The logs in these folders: non-empty, and none holds anything of FORBIDDEN."""
    logs = read_logs(directories)
    assert logs and all(text.strip() for text in logs.values()), list(logs)
    found = {path: leaks(text) for path, text in logs.items() if leaks(text)}
    assert not found, found
    return logs


@pytest.mark.e2e
def test_a_whole_conversation_leaves_no_trace_in_the_logs(stack: Stack) -> None:
    converse(stack.gateway_url, stack.telegram, stack.engine)
    logs = assert_clean(stack.log_dirs)
    names = {Path(path).name for path in logs}
    assert {"actions.log", "gateway.log", "rasa.log"} <= names
    # The scan can fail: the logs are the real ones, and the conversation passed through.
    assert any("Registered function for 'validate_intake_form'" in t for t in logs.values())
    assert any("Telegram ready" in text for text in logs.values())


@pytest.mark.e2e
def test_at_debug_the_gateway_logs_no_texts_either(
    stack: Stack, rasa: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # A second gateway at DEBUG, on its own fake Bot API, in front of the running Rasa (which
    # calls the stack's action server; the action server at DEBUG is tested above).
    with FakeBotApi() as fake:
        settings = webhook_settings(
            fake,
            WEBHOOK_SECRET,
            database_url=stack.settings.database_url,
            rasa_port=rasa.rasa_port,
            rasa_url=rasa.rasa_url,
            action_server_port=rasa.action_server_port,
            log_level="DEBUG",
        )
        logs = tmp_path_factory.mktemp("debug-gateway-logs")
        with running(launcher.gateway(settings, logs)):
            wait_until(lambda: telegram_state(settings) == "webhook")
            converse(f"http://127.0.0.1:{settings.gateway_port}", fake, stack.engine)
    written = assert_clean((logs,))
    assert any(" DEBUG " in text for text in written.values()), written
