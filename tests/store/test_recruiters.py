"""Recruiters: the store functions on both databases, their load for routing, and the CLI."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine

from core.db import session_scope
from store.models import Handover
from store.profiles import get_or_create_job_seeker
from store.recruiters import add_recruiter, candidates, disable_recruiter
from store.routing import route
from tests.support.cli import CliResult, run_cli, use_settings
from tests.support.stack import make_settings


def test_a_recruiter_needs_a_way_to_be_reached_and_sane_values(engine: Engine) -> None:
    with session_scope(engine) as session:
        for kwargs, message in [
            ({}, "Telegram chat id or an e-mail"),
            ({"email": "nope"}, "not an e-mail address"),
            ({"telegram_chat_id": "abc"}, "is a number"),
            ({"email": "a@b.nl", "languages": ["de"]}, "languages are"),
            ({"email": "a@b.nl", "capacity_per_week": 0}, "at least 1"),
        ]:
            with pytest.raises(ValueError, match=message):
                add_recruiter(session=session, name="Ann", organisation="Org", **kwargs)  # type: ignore[arg-type]


def test_the_load_reaches_routing(engine: Engine) -> None:
    tag = uuid.uuid4().hex[:8]
    place = f"Plaats-{tag}"
    now = datetime.now(timezone.utc)
    with session_scope(engine) as session:
        busy = add_recruiter(
            session=session, name="Busy", organisation=tag, regions=[place], email="b@x.nl",
            capacity_per_week=2,
        )  # fmt: skip
        free = add_recruiter(
            session=session, name="Free", organisation=tag, regions=[place], email="f@x.nl"
        )
        off = add_recruiter(
            session=session, name="Off", organisation=tag, regions=[place], email="o@x.nl"
        )
        disable_recruiter(off.id, session=session)
        seeker = get_or_create_job_seeker(
            session=session, channel="routing", channel_user_id=tag, language="nl"
        )
        session.add(Handover(job_seeker_id=seeker.id, recruiter_id=busy.id, status="accepted"))
        session.add(
            Handover(
                job_seeker_id=seeker.id,
                recruiter_id=free.id,
                status="closed",
                created_at=now - timedelta(days=10),
            )
        )
        session.flush()
        team = [c for c in candidates(now, session=session) if c.id in (busy.id, free.id, off.id)]
    loads = {c.id: (c.open_handovers, c.handovers_this_week) for c in team}
    assert loads == {busy.id: (1, 1), free.id: (0, 0)}
    chosen = route(team, place=place.lower(), sectors=[])
    assert chosen is not None and chosen.id == free.id


def test_the_recruiters_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_settings(monkeypatch, make_settings(database_url=f"sqlite:///{tmp_path / 'r.db'}"))

    def werkmaatje(*args: str) -> CliResult:
        return run_cli(capsys, "recruiters", *args)

    assert "No recruiters yet" in werkmaatje("list").stdout
    added = werkmaatje(
        "add", "--name", "Sanne", "--organisation", "Werkbrug",
        "--regions", "Utrecht, provincie Gelderland", "--sectors", "Zorg",
        "--telegram-chat-id", "12345",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "Added recruiter 1: Sanne, Werkbrug."
    refused = werkmaatje("add", "--name", "X", "--organisation", "Y")
    assert refused.returncode == 2
    assert "Telegram chat id or an e-mail" in refused.stderr
    listing = werkmaatje("list").stdout
    assert "Sanne (Werkbrug)" in listing
    assert "regions: Utrecht, provincie Gelderland" in listing
    assert "sectors: zorg" in listing
    assert werkmaatje("disable", "1").returncode == 0
    assert "[disabled]" in werkmaatje("list").stdout
    missing = werkmaatje("disable", "9")
    assert missing.returncode == 2
    assert "there is no recruiter 9" in missing.stderr
