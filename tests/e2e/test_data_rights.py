"""Data rights through the real processes: the conversation in the tracker store, export,
deletion (CLI and chat) and health words kept out of the stored history."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.cli.launcher import settings_env
from core.paths import PROJECT_PYTHON, ROOT
from store.conversation import EVENTS
from tests.e2e.test_spine import INTAKE_NL, _chat_ids, buttons, converse, press, say, seekers
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `werkmaatje ARGS` against the stack's database, as an admin would."""
    env = {**settings_env(stack.settings), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [str(PROJECT_PYTHON), "-m", "bot.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def stored_events(engine: Engine, sender: str) -> list[dict[str, Any]]:
    """The events Rasa's tracker store holds for one conversation."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(EVENTS.c.data).where(EVENTS.c.sender_id == sender).order_by(EVENTS.c.id)
        )
        return [json.loads(row[0]) for row in rows]


def test_the_conversation_is_stored_exported_and_deleted_with_the_cli(stack: Stack) -> None:
    chat = next(_chat_ids)
    sender = f"telegram:{chat}"
    converse(stack, chat, INTAKE_NL, "nl")

    events = stored_events(stack.engine, sender)
    said = [event.get("text") for event in events if event["event"] == "user"]
    assert "Amersfoort" in said
    # The diagnosis was needed to answer, then removed from the stored history.
    assert "chemo" not in json.dumps(events).lower()
    assert "door mijn […] kan ik niet vroeg beginnen" in said

    export = json.loads(cli(stack, "export", sender).stdout)
    conversation = export["conversation"]
    assert {"user", "bot"} == {line["from"] for line in conversation}
    assert any(line["text"] == "Amersfoort" for line in conversation)
    assert all(line["at"] and line["text"] for line in conversation)

    result = cli(stack, "delete", sender, "--yes")
    assert result.returncode == 0, result.stderr
    assert f"Deleted {sender}: 1 profile(s)" in result.stdout
    assert stored_events(stack.engine, sender) == []
    assert seekers(stack, chat) == 0
    missing = cli(stack, "export", sender)
    assert missing.returncode == 1
    assert "Nothing is stored" in missing.stderr

    # A fresh start: the welcome and the consent question again.
    (welcome,) = say(stack, chat, "hoi", expect=1)
    assert "chatbot" in welcome.params["text"].lower()
    assert buttons(welcome)


def test_the_cli_asks_before_deleting(stack: Stack) -> None:
    result = cli(stack, "delete", "telegram:1")
    assert result.returncode == 2
    assert "--yes" in result.stderr
    assert cli(stack, "delete", "nonsense").returncode == 2


def quick_intake(stack: Stack, chat: int) -> None:
    """The consent and the first intake answers: a stored person, the intake still going."""
    say(stack, chat, "hoi", expect=1, language_code="nl")
    press_consent = stack.telegram.sent_messages(chat)[-1]
    assert buttons(press_consent)
    press(stack, chat, "/affirm", expect=1)
    say(stack, chat, "ik heet Fatima", expect=1, language_code="nl")
    say(stack, chat, "ik kan goed plannen", expect=1, language_code="nl")


def test_deletion_in_the_chat_asks_first_and_then_removes_everything(stack: Stack) -> None:
    chat = next(_chat_ids)
    sender = f"telegram:{chat}"
    quick_intake(stack, chat)
    assert seekers(stack, chat) == 1

    (question,) = say(stack, chat, "verwijder al mijn gegevens", expect=1, language_code="nl")
    assert [payload for _, payload in buttons(question)] == ["/affirm", "/deny"]
    # Asked during the intake: "nee" keeps everything and goes back to the same question.
    (kept,) = press(stack, chat, "/deny", expect=1)
    told, again = kept.params["text"].split("\n\n", 1)
    assert "niets gewist" in told
    assert "leren" in again
    assert seekers(stack, chat) == 1

    say(stack, chat, "verwijder al mijn gegevens", expect=1, language_code="nl")
    (done,) = press(stack, chat, "/affirm", expect=1)
    assert "verwijderd" in done.params["text"]
    assert seekers(stack, chat) == 0
    assert stored_events(stack.engine, sender) == []
    assert cli(stack, "export", sender).returncode == 1

    (welcome,) = say(stack, chat, "hoi", expect=1, language_code="nl")
    assert "chatbot" in welcome.params["text"].lower()


def test_an_export_in_the_chat_arrives_as_a_document(stack: Stack) -> None:
    chat = next(_chat_ids)
    quick_intake(stack, chat)
    before = len(stack.telegram.calls_to("sendDocument"))
    # During the intake: the file, then the same intake question again.
    text, again = say(stack, chat, "stuur me al mijn gegevens", expect=2, language_code="nl")
    assert "kopie" in text.params["text"]
    assert "leren" in again.params["text"]
    stack.telegram.wait_for(lambda api: len(api.calls_to("sendDocument")) > before)
    (call,) = [c for c in stack.telegram.calls_to("sendDocument") if c.params["chat_id"] == chat]
    data = json.loads(call.params["document"]["content"])
    assert data["job_seeker"]["channel_user_id"] == str(chat)
    assert [(c["purpose"], c["given"]) for c in data["consents"]] == [("profile", True)]
    # The intake is still going: its answers so far are in the conversation, not yet saved.
    assert any(line["text"] == "ik kan goed plannen" for line in data["conversation"])


def test_withdrawing_the_nudge_consent_in_words(stack: Stack) -> None:
    chat = next(_chat_ids)
    quick_intake(stack, chat)
    (reply,) = say(
        stack, chat, "ik trek mijn toestemming voor de berichtjes in", expect=1, language_code="nl"
    )
    told, again = reply.params["text"].split("\n\n", 1)
    assert "geen berichtjes" in told
    assert "leren" in again
    export = json.loads(cli(stack, "export", f"telegram:{chat}").stdout)
    assert export["nudges"]["frequency"] == "off"
    assert ("nudges", False) in [(c["purpose"], c["given"]) for c in export["consents"]]
