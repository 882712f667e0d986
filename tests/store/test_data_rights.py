"""Export, deletion, consent withdrawal and redaction in the store, on SQLite and PostgreSQL.

Rasa's tracker-store table and APScheduler's job table are real here: `events` is created and
filled the way Rasa 3.6's SQLTrackerStore does it, and the nudge job is scheduled with
APScheduler's own SQLAlchemyJobStore.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, MetaData, Table, func, inspect, select

from core.db import make_engine, session_scope
from core.privacy import REDACTED, redact_health
from core.texts import phrase
from core.time import as_utc
from store.conversation import EVENTS, redact_events
from store.deletion import delete_sender, withdraw_consent
from store.export import SCHEMA, export_job_seeker
from store.jobs import nudge_job_id
from store.models import (
    ChannelIdentity,
    Consent,
    DeletionRecord,
    Handover,
    JobSeeker,
    NudgeLog,
    NudgeSettings,
    OutboxMessage,
    Profile,
    ProfileItem,
    Recruiter,
    SuccessMoment,
)
from store.profiles import find_job_seeker, get_or_create_job_seeker, has_consent
from tests.support.helpers import stored_text

# --- Rasa's tracker store ---------------------------------------------------------------


def user_event(text: str | None, timestamp: float, intent: str = "inform") -> dict[str, Any]:
    """A user message as Rasa 3.6 serialises it (`UserUttered.as_dict()`)."""
    return {
        "event": "user",
        "timestamp": timestamp,
        "metadata": {"channel": "telegram"},
        "text": text,
        "parse_data": {
            "intent": {"name": intent, "confidence": 0.93},
            "entities": [],
            "text": text,
            "message_id": uuid.uuid4().hex,
            "metadata": {},
            "intent_ranking": [{"name": intent, "confidence": 0.93}],
        },
        "input_channel": "rest",
        "message_id": uuid.uuid4().hex,
    }


def bot_event(text: str | None, timestamp: float) -> dict[str, Any]:
    """A bot reply as Rasa serialises it (`BotUttered.as_dict()`)."""
    return {
        "event": "bot",
        "timestamp": timestamp,
        "metadata": {"utter_action": "utter_something"},
        "text": text,
        "data": {"elements": None, "quick_replies": None, "buttons": None, "image": None},
    }


def slot_event(name: str, value: Any, timestamp: float) -> dict[str, Any]:
    """A slot being set (`SlotSet.as_dict()`)."""
    return {"event": "slot", "timestamp": timestamp, "name": name, "value": value}


def action_event(name: str, timestamp: float) -> dict[str, Any]:
    """An action being run (`ActionExecuted.as_dict()`)."""
    return {
        "event": "action",
        "timestamp": timestamp,
        "name": name,
        "policy": "RulePolicy",
        "confidence": 1.0,
        "action_text": None,
        "hide_rule_turn": False,
    }


def store_events(engine: Engine, sender_id: str, events: list[dict[str, Any]]) -> None:
    """Append events to `events` exactly as `SQLTrackerStore.save` writes its rows."""
    EVENTS.create(engine, checkfirst=True)  # Rasa creates its table when it starts
    rows = [
        {
            "sender_id": sender_id,
            "type_name": event["event"],
            "timestamp": event.get("timestamp"),
            "intent_name": event.get("parse_data", {}).get("intent", {}).get("name"),
            "action_name": event.get("name"),
            "data": json.dumps(event),
        }
        for event in events
    ]
    with engine.begin() as connection:
        connection.execute(EVENTS.insert(), rows)


def stored_events(engine: Engine, sender_id: str) -> list[tuple[int, str, dict[str, Any]]]:
    """(id, type_name, data) of a conversation's rows, in the order Rasa reads them."""
    EVENTS.create(engine, checkfirst=True)
    with engine.connect() as connection:
        rows = connection.execute(
            select(EVENTS.c.id, EVENTS.c.type_name, EVENTS.c.data)
            .where(EVENTS.c.sender_id == sender_id)
            .order_by(EVENTS.c.id)
        ).all()
    return [(row_id, type_name, json.loads(data)) for row_id, type_name, data in rows]


# --- APScheduler's job store ------------------------------------------------------------


# A module-level function of the project; a nudge job's row is what matters here.
JOB_FUNCTION = "store.models:utcnow"


@contextmanager
def job_store(engine: Engine) -> Iterator[tuple[BackgroundScheduler, SQLAlchemyJobStore]]:
    """APScheduler's job store on the database, in a paused scheduler, with its own engine."""
    url = engine.url.render_as_string(hide_password=False)
    store = SQLAlchemyJobStore(engine=make_engine(url))
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=timezone.utc)
    scheduler.start(paused=True)  # creates `apscheduler_jobs`; runs nothing
    try:
        yield scheduler, store
    finally:
        scheduler.shutdown(wait=False)
        # The scheduler's thread looks for due jobs once more on its way out, after the job
        # store disposed its engine: close that last connection too.
        store.engine.dispose()


def schedule_nudge(engine: Engine, job_seeker_id: int) -> None:
    """A person's nudge job, as the nudge scheduler adds it."""
    with job_store(engine) as (scheduler, store):
        scheduler.add_job(
            JOB_FUNCTION, "interval", days=7, id=nudge_job_id(job_seeker_id), replace_existing=True
        )
        assert store.lookup_job(nudge_job_id(job_seeker_id)) is not None


def nudge_job_exists(engine: Engine, job_seeker_id: int) -> bool:
    """Whether the job store still holds the person's nudge job."""
    with job_store(engine) as (_, store):
        return store.lookup_job(nudge_job_id(job_seeker_id)) is not None


# --- people -----------------------------------------------------------------------------


def at(day: int, hour: int = 12, minute: int = 0) -> datetime:
    """A fixed UTC moment in May 2025."""
    return datetime(2025, 5, day, hour, minute, tzinfo=timezone.utc)


def ts(moment: datetime) -> float:
    """A Rasa event timestamp."""
    return moment.timestamp()


def iso(moment: datetime) -> str:
    """How the export writes a moment."""
    return moment.astimezone(timezone.utc).isoformat()


@dataclass
class Person:
    """A fully populated person and the strings that identify them."""

    id: int
    telegram_id: str
    whatsapp_id: str
    name: str
    talent: str
    phone: str
    recruiter_id: int
    recruiter_chat: str
    handover_id: int
    placed_handover_id: int
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def sender_ids(self) -> list[str]:
        return [f"telegram:{self.telegram_id}", f"whatsapp:{self.whatsapp_id}"]

    @property
    def strings(self) -> list[str]:
        """Everything that would give this person away if it were left anywhere."""
        return [
            self.name,
            self.talent,
            self.phone,
            self.telegram_id,
            self.whatsapp_id,
            *self.sender_ids,
        ]


def make_recruiter(engine: Engine) -> tuple[int, str]:
    """A recruiter with a Telegram chat of their own; (id, chat id)."""
    chat = f"rc{uuid.uuid4().hex}"
    with session_scope(engine) as session:
        recruiter = Recruiter(
            name=f"Ria {chat[-6:]}",
            organisation="Werkbureau",
            regions=["Utrecht"],
            sectors=["zorg"],
            languages=["nl"],
            telegram_chat_id=chat,
        )
        session.add(recruiter)
        session.flush()
        return recruiter.id, chat


def make_person(engine: Engine, *, with_job: bool = True) -> Person:
    """A person with data in every table that can hold some, on Telegram and WhatsApp."""
    tag = uuid.uuid4().hex
    name = f"Naam{tag[:10]}"
    talent = f"taarten bakken {tag[10:20]}"
    phone = "06-" + str(uuid.uuid4().int)[:8]
    telegram_id, whatsapp_id = f"tg{tag}", "31" + str(uuid.uuid4().int)[:12]
    recruiter_id, recruiter_chat = make_recruiter(engine)
    summary = f"{name}, {talent}, bereikbaar op {phone}"
    with session_scope(engine) as session:
        seeker = JobSeeker(language="nl", created_at=at(1, 9), updated_at=at(1, 9))
        seeker.identities = [
            ChannelIdentity(channel="telegram", channel_user_id=telegram_id, created_at=at(1, 9)),
            ChannelIdentity(channel="whatsapp", channel_user_id=whatsapp_id, created_at=at(3)),
        ]
        seeker.consents = [
            Consent(purpose="profile", given=True, text_version="v1", channel="telegram",
                    at=at(1, 9, 1)),
            Consent(purpose="share_with_recruiter", given=True, text_version="v1",
                    channel="telegram", at=at(2, 10)),
            Consent(purpose="nudges", given=True, text_version="v1", channel="whatsapp",
                    at=at(3, 11)),
        ]  # fmt: skip
        seeker.profile = Profile(
            name=name,
            place="Utrecht",
            max_travel_minutes=45,
            hours_min=20,
            hours_max=24,
            start="per direct",
            contact_preference=f"bellen op {phone}",
            updated_at=at(2, 9),
        )
        seeker.items = [
            ProfileItem(kind="talent", value=talent, position=0, created_at=at(1, 10)),
            ProfileItem(kind="talent", value="plannen", position=1, created_at=at(1, 10)),
            ProfileItem(kind="development_point", value="Excel", position=0, created_at=at(1)),
            ProfileItem(kind="role", value="kok", position=0, created_at=at(1)),
            ProfileItem(kind="sector", value="horeca", position=0, created_at=at(1)),
            ProfileItem(kind="pathway", value="trial_placement", position=0, created_at=at(1)),
            ProfileItem(kind="support_need", value="vaste werkplek", position=0, created_at=at(1)),
        ]
        seeker.success_moments = [SuccessMoment(text=f"{name} had een gesprek", at=at(4, 16))]
        placed = Handover(
            recruiter_id=recruiter_id,
            status="placed",
            summary="eerdere overdracht",
            created_at=at(1, 11),
            updated_at=at(2),
        )
        handover = Handover(
            recruiter_id=recruiter_id,
            status="delivered",
            summary=summary,
            created_at=at(5, 10),
            updated_at=at(5, 10),
        )
        seeker.handovers = [placed, handover]
        seeker.nudge_settings = NudgeSettings(frequency="weekly", updated_at=at(3, 11))
        seeker.nudges_sent = [
            NudgeLog(kind="encouragement", module_id=None, at=at(6, 10)),
            NudgeLog(kind="elearning", module_id="excel-basis", at=at(7, 10)),
        ]
        seeker.outbox = [
            OutboxMessage(
                idempotency_key=f"handover:{tag}",
                channel="telegram",
                recipient=recruiter_chat,
                payload={"kind": "handover", "text": summary},
                status="sent",
            ),
            OutboxMessage(
                idempotency_key=f"nudge:{tag}",
                channel="telegram",
                recipient=telegram_id,
                payload={"kind": "encouragement", "text": f"Hoi {name}, goed bezig!"},
            ),
        ]
        session.add(seeker)
        session.flush()
        person = Person(
            id=seeker.id,
            telegram_id=telegram_id,
            whatsapp_id=whatsapp_id,
            name=name,
            talent=talent,
            phone=phone,
            recruiter_id=recruiter_id,
            recruiter_chat=recruiter_chat,
            handover_id=handover.id,
            placed_handover_id=placed.id,
        )
    telegram, whatsapp = person.sender_ids
    person.events = {
        telegram: [
            action_event("action_session_start", ts(at(1, 9))),
            user_event("hoi", ts(at(1, 9, 1)), intent="greet"),
            action_event("utter_greet", ts(at(1, 9, 2))),
            bot_event("Hoi! Ik ben een chatbot.", ts(at(1, 9, 2))),
            bot_event(None, ts(at(1, 9, 3))),  # a reply that was only buttons
            user_event(f"ik heet {name}", ts(at(1, 9, 5))),
            slot_event("first_name", name, ts(at(1, 9, 5))),
            bot_event("Fijn! Waar ben je goed in?", ts(at(1, 9, 6))),
        ],
        whatsapp: [
            # Written later, but said in between: the export orders by time.
            user_event(f"bel me op {phone}", ts(at(3, 11))),
            bot_event("Dat heb ik genoteerd.", ts(at(3, 11, 1))),
            user_event(None, ts(at(3, 11, 2)), intent="affirm"),  # a button without text
        ],
    }
    for sender_id, events in person.events.items():
        store_events(engine, sender_id, events)
    if with_job:
        schedule_nudge(engine, person.id)
    return person


# --- looking through every table --------------------------------------------------------


def all_tables(engine: Engine) -> dict[str, Table]:
    """Every table in the database as it is, ours and Rasa's and APScheduler's."""
    metadata = MetaData()
    metadata.reflect(engine)
    return dict(metadata.tables)


def references(name: str, row: dict[str, Any], job_seeker_id: int, sender_ids: list[str]) -> bool:
    """Whether a row belongs to the person by key: their id, a conversation, their job."""
    if name == "job_seekers" and row.get("id") == job_seeker_id:
        return True
    if row.get("job_seeker_id") == job_seeker_id:
        return True
    if row.get("sender_id") in sender_ids:
        return True
    return name == "apscheduler_jobs" and row.get("id") == nudge_job_id(job_seeker_id)


def traces(engine: Engine, person: Person) -> dict[str, int]:
    """Per table, how many rows refer to the person by key or hold one of their strings."""
    found: dict[str, int] = {}
    with engine.connect() as connection:
        for name, table in all_tables(engine).items():
            count = 0
            for row in connection.execute(select(table)).mappings():
                values = dict(row)
                text = "\n".join(
                    stored_text(value) for value in values.values() if value is not None
                )
                if references(name, values, person.id, person.sender_ids) or any(
                    string in text for string in person.strings
                ):
                    count += 1
            if count:
                found[name] = count
    return found


# How far the outbox got with a row: a gateway running on the same test database may be
# delivering it meanwhile, which is not a change to the person's data.
DELIVERY_STATE = frozenset(
    {
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "claimed_until",
        "provider_message_id",
        "previous_message_id",
        "sent_at",
    }
)


def owned_rows(engine: Engine, person: Person) -> dict[str, list[dict[str, Any]]]:
    """The rows that belong to a person by key, per table, in a stable order."""
    owned: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for name, table in all_tables(engine).items():
            rows = [
                {
                    key: value
                    for key, value in row.items()
                    if not (name == "outbox" and key in DELIVERY_STATE)
                }
                for row in connection.execute(select(table)).mappings()
                if references(name, dict(row), person.id, person.sender_ids)
            ]
            if rows:
                owned[name] = sorted(rows, key=repr)
    return owned


def deletion_log(engine: Engine) -> list[tuple[int, str]]:
    """(id, reason) of every deletion_log row."""
    with engine.connect() as connection:
        return [
            (row.id, row.reason)
            for row in connection.execute(
                select(DeletionRecord.__table__).order_by(DeletionRecord.__table__.c.id)
            )
        ]


def outbox_to(engine: Engine, recipient: str) -> list[OutboxMessage]:
    """The outbox rows for one recipient, oldest first."""
    with session_scope(engine) as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.recipient == recipient)
                .order_by(OutboxMessage.id)
            ).all()
        )


# --- export -----------------------------------------------------------------------------


def test_the_export_has_every_section_of_the_format(engine: Engine) -> None:
    person = make_person(engine, with_job=False)
    other = make_person(engine, with_job=False)
    with session_scope(engine) as session:
        recruiter = session.get(Recruiter, person.recruiter_id)
        assert recruiter is not None
        recruiter_name = recruiter.name

    with session_scope(engine) as session:
        exported = export_job_seeker(
            session=session, channel="whatsapp", channel_user_id=person.whatsapp_id
        )

    assert set(exported) == {
        "schema", "job_seeker", "consents", "profile", "handovers", "nudges",
        "success_moments", "conversation",
    }  # fmt: skip
    assert exported["schema"] == SCHEMA == "werkmaatje.export/1"
    assert exported["job_seeker"] == {
        "channel": "whatsapp",
        "channel_user_id": person.whatsapp_id,
        "language": "nl",
        "created_at": iso(at(1, 9)),
        "identities": [
            {"channel": "telegram", "channel_user_id": person.telegram_id},
            {"channel": "whatsapp", "channel_user_id": person.whatsapp_id},
        ],
    }
    assert exported["consents"] == [
        {"purpose": "profile", "given": True, "text_version": "v1", "at": iso(at(1, 9, 1))},
        {"purpose": "share_with_recruiter", "given": True, "text_version": "v1",
         "at": iso(at(2, 10))},
        {"purpose": "nudges", "given": True, "text_version": "v1", "at": iso(at(3, 11))},
    ]  # fmt: skip
    assert exported["profile"] == {
        "name": person.name,
        "talents": [person.talent, "plannen"],
        "development_points": ["Excel"],
        "roles": ["kok"],
        "sectors": ["horeca"],
        "place": "Utrecht",
        "max_travel_minutes": 45,
        "hours_min": 20,
        "hours_max": 24,
        "pathways": ["trial_placement"],
        "start": "per direct",
        "support_needs": ["vaste werkplek"],
        "contact_preference": f"bellen op {person.phone}",
    }
    assert exported["handovers"] == [
        {"recruiter": recruiter_name, "status": "placed", "summary": "eerdere overdracht",
         "created_at": iso(at(1, 11))},
        {"recruiter": recruiter_name, "status": "delivered",
         "summary": f"{person.name}, {person.talent}, bereikbaar op {person.phone}",
         "created_at": iso(at(5, 10))},
    ]  # fmt: skip
    assert exported["nudges"] == {
        "frequency": "weekly",
        "paused_until": None,
        "sent": [
            {"kind": "encouragement", "module_id": None, "at": iso(at(6, 10))},
            {"kind": "elearning", "module_id": "excel-basis", "at": iso(at(7, 10))},
        ],
    }
    assert exported["success_moments"] == [
        {"text": f"{person.name} had een gesprek", "at": iso(at(4, 16))}
    ]
    # Both conversations, by time; only what was said (no actions, slots or empty texts).
    assert exported["conversation"] == [
        {"from": "user", "text": "hoi", "at": iso(at(1, 9, 1))},
        {"from": "bot", "text": "Hoi! Ik ben een chatbot.", "at": iso(at(1, 9, 2))},
        {"from": "user", "text": f"ik heet {person.name}", "at": iso(at(1, 9, 5))},
        {"from": "bot", "text": "Fijn! Waar ben je goed in?", "at": iso(at(1, 9, 6))},
        {"from": "user", "text": f"bel me op {person.phone}", "at": iso(at(3, 11))},
        {"from": "bot", "text": "Dat heb ik genoteerd.", "at": iso(at(3, 11, 1))},
    ]
    # Nothing of the other person.
    assert not any(string in json.dumps(exported) for string in other.strings)
    assert json.loads(json.dumps(exported)) == exported


def test_the_export_by_either_channel_is_the_same_person(engine: Engine) -> None:
    person = make_person(engine, with_job=False)
    with session_scope(engine) as session:
        by_telegram = export_job_seeker(
            session=session, channel="telegram", channel_user_id=person.telegram_id
        )
        by_whatsapp = export_job_seeker(
            session=session, channel="whatsapp", channel_user_id=person.whatsapp_id
        )
    assert by_telegram["job_seeker"]["channel"] == "telegram"
    assert by_telegram["job_seeker"]["channel_user_id"] == person.telegram_id
    for key in ("consents", "profile", "handovers", "nudges", "success_moments", "conversation"):
        assert by_telegram[key] == by_whatsapp[key], key


def test_the_export_of_someone_with_a_paused_nudge_setting(engine: Engine) -> None:
    person = make_person(engine, with_job=False)
    with session_scope(engine) as session:
        settings = session.get(NudgeSettings, person.id)
        assert settings is not None
        settings.frequency = "biweekly"
        settings.paused_until = at(20, 9)
    with session_scope(engine) as session:
        nudges = export_job_seeker(
            session=session, channel="telegram", channel_user_id=person.telegram_id
        )["nudges"]
    assert (nudges["frequency"], nudges["paused_until"]) == ("biweekly", iso(at(20, 9)))


# --- deletion ---------------------------------------------------------------------------


def test_deleting_a_person_leaves_nothing_of_them_anywhere(engine: Engine) -> None:
    person = make_person(engine)
    other = make_person(engine)
    # The scan does find the person's rows, in every kind of table, before the deletion.
    assert set(traces(engine, person)) == {
        "job_seekers", "channel_identities", "consents", "profiles", "profile_items",
        "success_moments", "handovers", "nudge_settings", "nudge_log", "outbox", "events",
        "apscheduler_jobs",
    }  # fmt: skip
    others_rows = owned_rows(engine, other)
    assert len(others_rows) == 12
    with engine.connect() as connection:
        recruiters = connection.execute(select(Recruiter.__table__)).mappings().all()
    log_before = deletion_log(engine)
    assert outbox_to(engine, person.recruiter_chat)[0].payload["kind"] == "handover"

    with session_scope(engine) as session:
        deleted = delete_sender(f"telegram:{person.telegram_id}", session=session)

    assert (deleted.job_seekers, deleted.jobs, deleted.recruiters_told) == (1, 1, 1)
    assert deleted.events == sum(len(events) for events in person.events.values())
    assert traces(engine, person) == {}
    assert not nudge_job_exists(engine, person.id)
    # One anonymous line that a deletion happened, and nothing else about it.
    log_after = deletion_log(engine)
    assert log_after[: len(log_before)] == log_before
    assert [reason for _, reason in log_after[len(log_before) :]] == ["request"]
    assert {column.name for column in all_tables(engine)["deletion_log"].columns} == {
        "id",
        "reason",
        "at",
    }
    # The recruiter was told, once, without anything personal.
    notices = outbox_to(engine, person.recruiter_chat)
    assert len(notices) == 1
    notice = notices[0]
    # (Its status is the outbox's business: a gateway running on this database may send it.)
    assert (notice.job_seeker_id, notice.channel) == (None, "telegram")
    assert notice.payload == {
        "kind": "handover_withdrawn",
        "text": phrase("recruiter.notice.withdrawn", "nl", id=person.handover_id),
    }
    assert not any(string in json.dumps(notice.payload) for string in person.strings)
    # The other person, their job and the recruiters are as they were.
    assert owned_rows(engine, other) == others_rows
    assert nudge_job_exists(engine, other.id)
    with engine.connect() as connection:
        assert connection.execute(select(Recruiter.__table__)).mappings().all() == recruiters
    with session_scope(engine) as session:
        for channel, user_id in (
            ("telegram", person.telegram_id),
            ("whatsapp", person.whatsapp_id),
        ):
            with pytest.raises(LookupError):
                export_job_seeker(session=session, channel=channel, channel_user_id=user_id)
        assert (
            export_job_seeker(
                session=session, channel="telegram", channel_user_id=other.telegram_id
            )["profile"]["name"]
            == other.name
        )


def test_after_a_deletion_the_same_channel_id_starts_afresh(engine: Engine) -> None:
    person = make_person(engine)
    with session_scope(engine) as session:
        delete_sender(f"whatsapp:{person.whatsapp_id}", session=session)

    with session_scope(engine) as session:
        seeker = get_or_create_job_seeker(
            session=session, channel="telegram", channel_user_id=person.telegram_id, language="en"
        )
        new_id = seeker.id
    with session_scope(engine) as session:
        exported = export_job_seeker(
            session=session, channel="telegram", channel_user_id=person.telegram_id
        )
        assert (
            find_job_seeker(
                session=session, channel="whatsapp", channel_user_id=person.whatsapp_id
            )
            is None
        )

    assert exported["job_seeker"]["language"] == "en"
    assert exported["job_seeker"]["identities"] == [
        {"channel": "telegram", "channel_user_id": person.telegram_id}
    ]
    assert exported["consents"] == []
    assert all(value in (None, []) for value in exported["profile"].values())
    assert exported["handovers"] == []
    assert exported["nudges"] == {"frequency": None, "paused_until": None, "sent": []}
    assert exported["success_moments"] == []
    assert exported["conversation"] == []
    assert not nudge_job_exists(engine, new_id)
    # Only the new identity refers to the person now.
    fresh = Person(**{**person.__dict__, "id": new_id})
    assert owned_rows(engine, fresh).keys() == {"job_seekers", "channel_identities"}


def test_deleting_someone_without_a_profile_deletes_their_conversation(engine: Engine) -> None:
    stranger = f"web:{uuid.uuid4().hex}"  # said no to a profile: no row of ours at all
    declined = f"telegram:{uuid.uuid4().hex}"  # a job seeker row with only a "no"
    bystander = f"web:{uuid.uuid4().hex}"
    now = ts(datetime.now(timezone.utc))
    for sender in (stranger, declined, bystander):
        store_events(
            engine,
            sender,
            [user_event("hoi", now), bot_event("Mag ik een profiel bijhouden?", now + 1)],
        )
    with session_scope(engine) as session:
        seeker = get_or_create_job_seeker(
            session=session, channel="telegram", channel_user_id=declined[9:], language="nl"
        )
        session.add(
            Consent(
                job_seeker_id=seeker.id,
                purpose="profile",
                given=False,
                text_version="v1",
                channel="telegram",
            )
        )
    log_before = deletion_log(engine)

    with session_scope(engine) as session:
        first = delete_sender(stranger, session=session)
    with session_scope(engine) as session:
        second = delete_sender(declined, session=session)
    with session_scope(engine) as session:
        nothing = delete_sender(f"web:{uuid.uuid4().hex}", session=session)

    assert (first.job_seekers, first.events) == (0, 2)
    assert (second.job_seekers, second.events) == (1, 2)
    assert (nothing.job_seekers, nothing.events) == (0, 0)
    assert stored_events(engine, stranger) == []
    assert stored_events(engine, declined) == []
    assert len(stored_events(engine, bystander)) == 2
    with session_scope(engine) as session:
        assert (
            find_job_seeker(session=session, channel="telegram", channel_user_id=declined[9:])
            is None
        )
    # A deletion is logged when something was deleted, never for nothing.
    assert [reason for _, reason in deletion_log(engine)[len(log_before) :]] == [
        "request",
        "request",
    ]


def test_delete_sender_rejects_an_unknown_reason(engine: Engine) -> None:
    person = make_person(engine, with_job=False)
    with session_scope(engine) as session, pytest.raises(ValueError, match="reason"):
        delete_sender(f"telegram:{person.telegram_id}", session=session, reason="because")
    with session_scope(engine) as session:
        assert (
            find_job_seeker(
                session=session, channel="telegram", channel_user_id=person.telegram_id
            )
            is not None
        )


# --- withdrawing a consent --------------------------------------------------------------


def latest_consent(engine: Engine, job_seeker_id: int, purpose: str) -> Consent:
    """The newest consent row for a purpose."""
    with session_scope(engine) as session:
        return session.scalars(
            select(Consent)
            .where(Consent.job_seeker_id == job_seeker_id, Consent.purpose == purpose)
            .order_by(Consent.id.desc())
            .limit(1)
        ).one()


def test_withdrawing_the_nudges_consent_stops_the_nudges(engine: Engine) -> None:
    person = make_person(engine)
    other = make_person(engine)
    assert nudge_job_exists(engine, person.id)

    with session_scope(engine) as session:
        seeker = session.get(JobSeeker, person.id)
        assert seeker is not None
        withdraw_consent(seeker, "nudges", "whatsapp", session=session)

    with session_scope(engine) as session:
        settings = session.get(NudgeSettings, person.id)
        assert settings is not None and settings.frequency == "off"
        seeker = session.get(JobSeeker, person.id)
        assert seeker is not None
        assert has_consent(session=session, job_seeker=seeker, purpose="nudges") is False
        # The other consents and the open handover are left alone.
        assert has_consent(session=session, job_seeker=seeker, purpose="share_with_recruiter")
        handover = session.get(Handover, person.handover_id)
        assert handover is not None and handover.status == "delivered"
    consent = latest_consent(engine, person.id, "nudges")
    assert (consent.given, consent.channel, consent.text_version) == (False, "whatsapp", "v1")
    assert not nudge_job_exists(engine, person.id)
    assert nudge_job_exists(engine, other.id)
    assert outbox_to(engine, person.recruiter_chat)[-1].payload["kind"] == "handover"


def test_withdrawing_nudges_without_settings_creates_them_switched_off(engine: Engine) -> None:
    with session_scope(engine) as session:
        seeker = get_or_create_job_seeker(
            session=session, channel="web", channel_user_id=uuid.uuid4().hex, language="nl"
        )
        withdraw_consent(seeker, "nudges", "web", session=session)
        seeker_id = seeker.id
    with session_scope(engine) as session:
        settings = session.get(NudgeSettings, seeker_id)
        assert settings is not None and settings.frequency == "off"


def test_withdrawing_the_sharing_consent_closes_open_handovers(engine: Engine) -> None:
    person = make_person(engine, with_job=False)
    email = f"{uuid.uuid4().hex}@example.org"
    with session_scope(engine) as session:
        # A second recruiter, reachable on Telegram and by e-mail, with another open handover.
        second = Recruiter(
            name="Sem",
            organisation="Werkbureau",
            languages=["en"],
            telegram_chat_id=f"rc{uuid.uuid4().hex}",
            email=email,
        )
        session.add(second)
        session.flush()
        second_chat = second.telegram_chat_id
        assert second_chat is not None
        # A person has one open handover at most: the first recruiter's is over already.
        earlier = session.get(Handover, person.handover_id)
        assert earlier is not None
        earlier.status, earlier.closed_at = "closed", datetime(2026, 1, 5, tzinfo=timezone.utc)
        session.flush()
        accepted = Handover(
            job_seeker_id=person.id, recruiter_id=second.id, status="accepted", summary="x"
        )
        session.add(accepted)
        session.flush()
        accepted_id = accepted.id
    before = datetime.now(timezone.utc) - timedelta(seconds=5)

    with session_scope(engine) as session:
        seeker = session.get(JobSeeker, person.id)
        assert seeker is not None
        withdraw_consent(seeker, "share_with_recruiter", "telegram", session=session)

    with session_scope(engine) as session:
        handover = session.get(Handover, person.handover_id)
        assert handover is not None and handover.status == "closed"
        assert handover.closed_at is not None
        assert as_utc(handover.closed_at) == datetime(2026, 1, 5, tzinfo=timezone.utc)
        accepted_now = session.get(Handover, accepted_id)
        assert accepted_now is not None and accepted_now.status == "closed"
        assert accepted_now.closed_at is not None
        assert as_utc(accepted_now.closed_at) >= before
        placed = session.get(Handover, person.placed_handover_id)
        assert placed is not None and (placed.status, placed.closed_at) == ("placed", None)
        seeker = session.get(JobSeeker, person.id)
        assert seeker is not None
        assert not has_consent(session=session, job_seeker=seeker, purpose="share_with_recruiter")
        assert has_consent(session=session, job_seeker=seeker, purpose="nudges")
    assert latest_consent(engine, person.id, "share_with_recruiter").given is False

    # The recruiter of the handover that was already over hears nothing.
    notices = [m for m in outbox_to(engine, person.recruiter_chat) if m.job_seeker_id is None]
    assert notices == []
    # In the recruiter's language, on each of their channels, nothing personal.
    expected = {
        "kind": "handover_withdrawn",
        "text": phrase("recruiter.notice.withdrawn", "en", id=accepted_id),
    }
    for recipient, channel in ((second_chat, "telegram"), (email, "email")):
        sent = outbox_to(engine, recipient)
        assert [(m.channel, m.payload, m.job_seeker_id) for m in sent] == [
            (channel, expected, None)
        ]
    # The person's data stays: only the sharing stopped.
    with session_scope(engine) as session:
        assert (
            export_job_seeker(
                session=session, channel="telegram", channel_user_id=person.telegram_id
            )["profile"]["name"]
            == person.name
        )


# --- removing health words from the stored conversation ---------------------------------


def test_redact_events_rewrites_only_the_health_words(engine: Engine) -> None:
    sender = f"telegram:{uuid.uuid4().hex}"
    bystander = f"telegram:{uuid.uuid4().hex}"
    now = datetime.now(timezone.utc)
    since = ts(now - timedelta(seconds=5))
    earlier = [user_event("ik heb chemo gehad", ts(now - timedelta(hours=1)))]
    turn = [
        user_event("Anna, ik heb borstkanker gehad", ts(now)),
        action_event("intake_form", ts(now)),
        slot_event("first_name", "Anna, ik heb borstkanker gehad", ts(now)),
        slot_event("requested_slot", "first_name", ts(now)),
        bot_event("Over je gezondheid schrijf ik niets op.", ts(now) + 0.1),
    ]
    store_events(engine, sender, earlier + turn)
    store_events(engine, bystander, [user_event("borstkanker", ts(now))])
    before = stored_events(engine, sender)

    with session_scope(engine) as session:
        changed = redact_events(sender, since, redact_health, session=session)

    after = stored_events(engine, sender)
    assert changed == 2
    assert [(row_id, type_name) for row_id, type_name, _ in after] == [
        (row_id, type_name) for row_id, type_name, _ in before
    ]
    rewritten = {
        index for index, (old, new) in enumerate(zip(before, after, strict=True)) if old != new
    }
    assert rewritten == {1, 3}  # the user message and the slot, nothing else
    user, slot = after[1][2], after[3][2]
    assert user["text"] == f"Anna, ik heb {REDACTED} gehad"
    assert user["parse_data"]["text"] == f"Anna, ik heb {REDACTED} gehad"
    assert user["parse_data"]["intent"] == before[1][2]["parse_data"]["intent"]
    assert user["timestamp"] == before[1][2]["timestamp"]
    assert slot == {**before[3][2], "value": f"Anna, ik heb {REDACTED} gehad"}
    assert "borstkanker" not in json.dumps([data for _, _, data in after])
    # Before `since` and in other conversations nothing changes.
    assert after[0] == before[0]
    assert stored_events(engine, bystander)[0][2]["text"] == "borstkanker"
    with engine.connect() as connection:
        count = connection.scalar(
            select(func.count()).select_from(EVENTS).where(EVENTS.c.sender_id == sender)
        )
    assert count == len(earlier + turn)

    with session_scope(engine) as session:
        assert redact_events(sender, since, redact_health, session=session) == 0
    assert stored_events(engine, sender) == after


def test_the_events_table_is_the_one_rasa_creates(engine: Engine) -> None:
    EVENTS.create(engine, checkfirst=True)
    inspector = inspect(engine)
    columns = {c["name"]: c for c in inspector.get_columns("events")}
    assert list(columns) == [
        "id", "sender_id", "type_name", "timestamp", "intent_name", "action_name", "data",
    ]  # fmt: skip
    assert not columns["sender_id"]["nullable"] and not columns["type_name"]["nullable"]
    assert any(index["column_names"] == ["sender_id"] for index in inspector.get_indexes("events"))
