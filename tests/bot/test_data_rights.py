"""The gateway carries out export and deletion after Rasa's turn, and cleans health words.

Rasa is replaced by a fake that answers in the REST channel's format, with the custom payload
the actions send; the databases (SQLite and PostgreSQL) and the Bot API client are real.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from sqlalchemy import Engine, func, select
from starlette.testclient import TestClient

from bot.gateway import Gateway
from core.db import session_scope
from store.conversation import EVENTS
from store.models import DeletionRecord
from store.profiles import (
    find_job_seeker,
    get_or_create_job_seeker,
    record_consent,
    save_profile,
)
from tests.bot.test_gateway import SECRET, FakeRasa, ready_client, telegram_settings
from tests.support.fake_telegram import ApiCall, FakeBotApi
from tests.support.helpers import text_update
from tests.support.stack import make_settings


def command(name: str, language: str = "nl") -> dict[str, Any]:
    """A reply carrying a command for the gateway, as the actions send it."""
    return {"custom": {"werkmaatje": {"command": name, "language": language}}}


def add_person(engine: Engine, sender: str) -> None:
    """A consented person with a profile and two stored conversation events."""
    channel, _, user_id = sender.partition(":")
    with session_scope(engine) as session:
        seeker = get_or_create_job_seeker(
            session=session, channel=channel, channel_user_id=user_id, language="nl"
        )
        record_consent(session=session, job_seeker=seeker, purpose="profile", given=True)
        save_profile(
            session=session,
            channel=channel,
            channel_user_id=user_id,
            language="nl",
            values={"name": "Noor", "talent": ["plannen"], "place": "Utrecht"},
        )
    add_events(engine, sender, [("user", "ik ben Noor"), ("bot", "Fijn, Noor!")])


def add_events(engine: Engine, sender: str, said: list[tuple[str, str]]) -> None:
    """Rows in Rasa's `events` table, in the shape Rasa 3.6's SQLTrackerStore writes."""
    with engine.begin() as connection:
        EVENTS.create(connection, checkfirst=True)
        for type_name, text in said:
            now = time.time()
            data = {"event": type_name, "text": text, "timestamp": now}
            if type_name == "user":
                data["parse_data"] = {"text": text, "intent": {"name": "inform"}, "entities": []}
            connection.execute(
                EVENTS.insert().values(
                    sender_id=sender, type_name=type_name, timestamp=now, data=json.dumps(data)
                )
            )


def event_texts(engine: Engine, sender: str) -> list[str]:
    with engine.connect() as connection:
        rows = connection.execute(select(EVENTS.c.data).where(EVENTS.c.sender_id == sender))
        return [row[0] for row in rows]


def web_client(database_url: str, rasa: FakeRasa) -> TestClient:
    settings = make_settings(database_url=database_url)
    return TestClient(Gateway(rasa.serving(settings)).app())


def web_sender(client: TestClient) -> str:
    """The web chat's conversation id for the client's cookie session."""
    return f"web:{client.cookies['werkmaatje_session']}"


def test_an_export_arrives_as_a_document_in_the_web_chat(
    database_url: str, engine: Engine
) -> None:
    rasa = FakeRasa([{"text": "Hier is een kopie."}])
    with web_client(database_url, rasa) as client:
        assert client.post("/chat/messages", json={"text": "hoi"}).status_code == 200
        sender = web_sender(client)
        add_person(engine, sender)
        rasa.replies = [{"text": "Hier is een kopie."}, command("export")]
        response = client.post("/chat/messages", json={"text": "stuur mijn gegevens"})
    assert response.status_code == 200
    first, second = response.json()["messages"]
    assert first["text"] == "Hier is een kopie."
    document = second["document"]
    assert document["filename"] == "werkmaatje-gegevens.json"
    data = json.loads(document["content"])
    assert data["schema"] == "werkmaatje.export/1"
    assert data["job_seeker"]["channel_user_id"] == sender.partition(":")[2]
    assert data["profile"]["name"] == "Noor"
    assert data["profile"]["talents"] == ["plannen"]
    assert [(line["from"], line["text"]) for line in data["conversation"]] == [
        ("user", "ik ben Noor"),
        ("bot", "Fijn, Noor!"),
    ]
    assert "command" not in json.dumps(response.json()["messages"])


def test_an_export_without_a_profile_says_so(database_url: str) -> None:
    rasa = FakeRasa([command("export", "en")])
    with web_client(database_url, rasa) as client:
        response = client.post("/chat/messages", json={"text": "send my data"})
    (reply,) = response.json()["messages"]
    assert reply["document"] is None
    assert "haven't stored a profile" in reply["text"]


def test_a_deletion_removes_the_person_and_the_conversation_after_the_turn(
    database_url: str, engine: Engine
) -> None:
    rasa = FakeRasa([{"text": "Hoi!"}])
    with web_client(database_url, rasa) as client:
        client.post("/chat/messages", json={"text": "hoi"})
        sender = web_sender(client)
        add_person(engine, sender)
        channel, _, user_id = sender.partition(":")
        with session_scope(engine) as session:
            before = session.scalar(select(func.count()).select_from(DeletionRecord)) or 0
        rasa.replies = [command("delete")]
        response = client.post("/chat/messages", json={"text": "ja"})
    (reply,) = response.json()["messages"]
    assert "verwijderd" in reply["text"]
    assert event_texts(engine, sender) == []
    with session_scope(engine) as session:
        assert find_job_seeker(session=session, channel=channel, channel_user_id=user_id) is None
        after = session.scalar(select(func.count()).select_from(DeletionRecord))
    assert after == before + 1


def test_a_deletion_with_the_database_down_says_nothing_was_deleted(engine: Engine) -> None:
    rasa = FakeRasa([command("delete", "en")])
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2"
    with web_client(unreachable, rasa) as client:
        response = client.post("/chat/messages", json={"text": "yes"})
    assert response.status_code == 200
    (reply,) = response.json()["messages"]
    assert "nothing was deleted" in reply["text"]


def test_health_words_are_removed_from_the_stored_turn(database_url: str, engine: Engine) -> None:
    rasa = FakeRasa([{"text": "Dank je dat je dat vertelt."}])
    with web_client(database_url, rasa) as client:
        client.post("/chat/messages", json={"text": "hoi"})
        sender = web_sender(client)
        # What Rasa would have written for the turn before answering.
        add_events(engine, sender, [("user", "ik heb borstkanker gehad, nu gaat het goed")])
        client.post("/chat/messages", json={"text": "ik heb borstkanker gehad, nu gaat het goed"})
    stored = " ".join(event_texts(engine, sender))
    assert "borstkanker" not in stored
    assert "nu gaat het goed" in stored


def telegram_export(
    database_url: str, engine: Engine, replies: list[dict[str, Any]]
) -> tuple[int, list[ApiCall]]:
    """A person with a profile asks for their data on Telegram and Rasa answers `replies`:
    their chat id and the messages the fake Bot API received for that chat, in order."""
    chat_id = 700_000 + uuid.uuid4().int % 100_000
    add_person(engine, f"telegram:{chat_id}")
    with FakeBotApi() as fake:
        settings = telegram_settings(fake).model_copy(update={"database_url": database_url})
        gateway = Gateway(FakeRasa(replies).serving(settings))
        with ready_client(gateway) as client:
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            update = text_update(1, chat_id, "stuur mijn gegevens")
            assert (
                client.post("/telegram/webhook", json=update, headers=headers).status_code == 200
            )
            fake.wait_for(lambda api: bool(api.calls_to("sendDocument")))
        sent = [call for call in fake.calls if call.method in ("sendMessage", "sendDocument")]
    return chat_id, sent


def test_a_telegram_export_goes_as_a_document_to_that_chat_only(
    database_url: str, engine: Engine
) -> None:
    replies = [{"text": "Hier is een kopie."}, command("export")]
    chat_id, sent = telegram_export(database_url, engine, replies)
    (call,) = [call for call in sent if call.method == "sendDocument"]
    assert call.params["chat_id"] == chat_id
    assert call.params["document"]["filename"] == "werkmaatje-gegevens.json"
    data = json.loads(call.params["document"]["content"])
    assert data["job_seeker"]["channel_user_id"] == str(chat_id)
    assert data["profile"]["name"] == "Noor"


def test_an_export_whose_text_is_too_long_for_a_caption_still_arrives(
    database_url: str, engine: Engine
) -> None:
    """Telegram refuses a caption over 1,024 characters: the text goes first, then the file."""
    text = ("Hier is een kopie van alles wat we van je bewaren. " * 25).strip()
    chat_id, sent = telegram_export(database_url, engine, [{"text": text, **command("export")}])
    assert len(text) > 1024
    assert [(call.method, call.status, call.params["chat_id"]) for call in sent] == [
        ("sendMessage", 200, chat_id),
        ("sendDocument", 200, chat_id),
    ]
    assert sent[0].params["text"] == text
    assert "caption" not in sent[1].params
    assert sent[1].params["document"]["filename"] == "werkmaatje-gegevens.json"
