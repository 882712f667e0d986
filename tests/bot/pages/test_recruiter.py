"""The recruiter page in-process on both databases: login by link, the list, the buttons."""

from __future__ import annotations

import html
import random
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from bot.cli.launcher import settings_env
from bot.gateway import Gateway
from bot.pages.recruiter import COOKIE
from core.db import database_engine, session_scope
from core.paths import ROOT
from core.settings import Settings
from core.time import utcnow
from store.handovers import request_handover
from store.models import Handover, OutboxMessage
from store.profiles import record_consent, save_profile
from store.recruiters import add_recruiter, disable_recruiter, issue_login_token
from tests.support.stack import make_settings

SUMMARY_LINE = "Sterke punten: plannen, klantcontact & overzicht"


@dataclass(frozen=True)
class Case:
    """A recruiter with a login token and one handover routed to them."""

    recruiter_id: int
    token: str
    handover_id: int
    person: str  # the person's Telegram chat id


def make_recruiter(engine: Engine, *, region: str, language: str = "nl") -> tuple[int, str]:
    """A recruiter for `region` and the token of their login link."""
    with session_scope(engine) as session:
        recruiter = add_recruiter(
            session=session,
            name="Sanne de Vries",
            organisation="Werkbrug",
            regions=[region],
            languages=[language],
            email=f"sanne-{uuid.uuid4().hex[:6]}@werkbrug.example",
        )
        return recruiter.id, issue_login_token(recruiter.id, session=session)


def make_handover(engine: Engine, language: str = "nl") -> Case:
    """A person in a place of their own, so routing can only pick this test's recruiter."""
    place = f"Plaats-{uuid.uuid4().hex[:8]}"
    recruiter_id, token = make_recruiter(engine, region=place, language=language)
    person = str(random.randint(10**8, 10**9))
    with session_scope(engine) as session:
        seeker = save_profile(
            session=session,
            channel="telegram",
            channel_user_id=person,
            language="nl",
            values={
                "name": "Fatima",
                "place": place,
                "talent": ["plannen", "klantcontact & overzicht"],
                "role": ["planner"],
            },
        )
        record_consent(
            session=session, job_seeker=seeker, purpose="share_with_recruiter", given=True
        )
        requested = request_handover(
            session=session, seeker=seeker, share_support_needs=False, now=utcnow()
        )
        assert requested.recruiter is not None and requested.recruiter.id == recruiter_id
        # These tests are about the page: the summary counts as sent already, so a gateway
        # running on the same test database leaves this handover's status alone.
        for row in session.scalars(
            select(OutboxMessage).where(OutboxMessage.handover_id == requested.handover.id)
        ):
            row.status = "sent"
        return Case(recruiter_id, token, requested.handover.id, person)


def status_of(engine: Engine, handover_id: int) -> str:
    with session_scope(engine) as session:
        handover = session.get(Handover, handover_id)
        assert handover is not None
        return handover.status


@pytest.fixture
def settings(database_url: str, engine: Engine) -> Iterator[Settings]:
    settings = make_settings(database_url=database_url)
    yield settings
    # The page's pooled connections would keep the PostgreSQL test database from being dropped.
    database_engine(settings).dispose()


@pytest.fixture
def client(settings: Settings) -> TestClient:
    """The real gateway app; its lifespan (outbox worker, scheduler) is not started."""
    return TestClient(Gateway(settings).app())


def logged_in(settings: Settings, token: str) -> TestClient:
    """A browser of its own, logged in with the link holding `token`."""
    client = TestClient(Gateway(settings).app())
    response = client.get(f"/recruiter/login?token={token}", follow_redirects=False)
    assert response.status_code == 303
    return client


def test_the_routes_are_mounted_in_the_gateway(settings: Settings) -> None:
    paths = {getattr(route, "path", None) for route in Gateway(settings).app().routes}
    assert {
        "/recruiter",
        "/recruiter/login",
        "/recruiter/logout",
        "/recruiter/handovers/{handover_id:int}/{action:str}",
    } <= paths


def test_a_bad_or_disabled_link_is_refused(client: TestClient, engine: Engine) -> None:
    bad = client.get("/recruiter/login?token=not-a-token", follow_redirects=False)
    assert bad.status_code == 403
    assert "Deze link werkt niet (meer)" in bad.text
    assert "werkmaatje recruiters link &lt;nummer&gt;" in bad.text
    assert COOKIE not in bad.headers.get("set-cookie", "")
    english = client.get("/recruiter/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert english.status_code == 403
    assert 'lang="en"' in english.text and "This link does not work" in english.text

    recruiter_id, token = make_recruiter(engine, region="Nergens")
    with session_scope(engine) as session:
        disable_recruiter(recruiter_id, session=session)
    disabled = client.get(f"/recruiter/login?token={token}", follow_redirects=False)
    assert disabled.status_code == 403


def test_without_a_login_the_page_explains_how_to_log_in(client: TestClient) -> None:
    response = client.get("/recruiter")
    assert response.status_code == 401
    assert "inloglink" in response.text
    assert response.headers["cache-control"] == "no-store"
    assert client.post("/recruiter/handovers/1/accept").status_code == 401


def test_the_login_sets_a_strict_cookie_and_drops_the_token_from_the_address(
    settings: Settings, engine: Engine
) -> None:
    _, token = make_recruiter(engine, region="Ergens")
    client = TestClient(Gateway(settings).app())
    response = client.get(f"/recruiter/login?token={token}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/recruiter"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={token};")
    for part in ("HttpOnly", "Max-Age=2592000", "Path=/recruiter", "SameSite=strict"):
        assert part in cookie
    assert "Secure" not in cookie  # the test gateway is plain http
    for header, value in {
        "cache-control": "no-store",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
    }.items():
        assert response.headers[header] == value
    assert client.get("/recruiter").status_code == 200

    https = settings.model_copy(update={"public_base_url": "https://werk.example"})
    secure = TestClient(Gateway(https).app()).get(
        f"/recruiter/login?token={token}", follow_redirects=False
    )
    assert "Secure" in secure.headers["set-cookie"]


def test_the_page_lists_the_handover_with_its_summary_and_buttons(
    settings: Settings, engine: Engine
) -> None:
    case = make_handover(engine)
    page = logged_in(settings, case.token).get("/recruiter")
    assert page.status_code == 200
    assert '<html lang="nl">' in page.text
    assert "Sanne de Vries, Werkbrug" in page.text
    assert f"Overdracht #{case.handover_id}" in page.text
    assert html.escape(SUMMARY_LINE) in page.text
    with session_scope(engine) as session:
        handover = session.get(Handover, case.handover_id)
        assert handover is not None
        summary = handover.summary
    # The stored summary, escaped, with its line breaks (the page shows them with pre-wrap).
    assert "\n" in summary and html.escape(summary) in page.text
    for action, title in [
        ("accept", "Ik pak dit op"),
        ("contacted", "Contact gehad"),
        ("placed", "Geplaatst"),
        ("decline", "Past niet"),
    ]:
        assert f'action="/recruiter/handovers/{case.handover_id}/{action}"' in page.text
        assert f">{title}</button>" in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script" not in csp and "unsafe" not in csp
    assert "<script" not in page.text


def test_the_stylesheet_is_served_by_the_page_and_allowed_by_its_policy(
    client: TestClient,
) -> None:
    page = client.get("/recruiter")
    assert '<link rel="stylesheet" href="/recruiter/page.css">' in page.text
    assert "style-src 'self'" in page.headers["content-security-policy"]
    sheet = client.get("/recruiter/page.css")
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/css")
    assert sheet.headers["x-content-type-options"] == "nosniff"
    assert ".summary{white-space:pre-wrap" in sheet.text


def test_the_summary_is_plain_text_never_markup(settings: Settings, engine: Engine) -> None:
    case = make_handover(engine)
    with session_scope(engine) as session:
        handover = session.get(Handover, case.handover_id)
        assert handover is not None
        handover.summary = "<script>alert(1)</script>\nTweede regel"
    page = logged_in(settings, case.token).get("/recruiter")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\nTweede regel" in page.text
    assert "<script>" not in page.text


def test_an_english_recruiter_gets_the_page_in_english(settings: Settings, engine: Engine) -> None:
    case = make_handover(engine, language="en")
    page = logged_in(settings, case.token).get("/recruiter")
    assert '<html lang="en">' in page.text
    assert "Your handovers" in page.text and ">I&#39;ll take this</button>" in page.text


def test_another_recruiter_neither_sees_nor_changes_the_handover(
    settings: Settings, engine: Engine
) -> None:
    case = make_handover(engine)
    _, other_token = make_recruiter(engine, region="Elders")
    other = logged_in(settings, other_token)
    assert f"Overdracht #{case.handover_id}" not in other.get("/recruiter").text
    response = other.post(
        f"/recruiter/handovers/{case.handover_id}/accept", follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/recruiter?msg=not-yours")
    assert (
        "Deze overdracht is niet (meer) van jou." in other.get(response.headers["location"]).text
    )
    assert status_of(engine, case.handover_id) == "requested"


def test_taking_it_on_changes_the_status_and_tells_the_person(
    settings: Settings, engine: Engine
) -> None:
    case = make_handover(engine)
    client = logged_in(settings, case.token)
    response = client.post(
        f"/recruiter/handovers/{case.handover_id}/accept",
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/recruiter?msg=status-accepted#handover-{case.handover_id}"
    )
    page = client.get(response.headers["location"])
    assert "Status bijgewerkt: opgepakt." in page.text
    assert '<dd class="status">opgepakt</dd>' in page.text
    assert status_of(engine, case.handover_id) == "accepted"
    with session_scope(engine) as session:
        told = session.scalars(
            select(OutboxMessage).where(OutboxMessage.handover_id == case.handover_id)
        ).all()
        to_person = [m for m in told if m.payload.get("kind") == "handover_status"]
        assert [(m.channel, m.recipient) for m in to_person] == [("telegram", case.person)]
        assert "neemt contact met je op" in to_person[0].payload["text"]

    # A second press of the same button does not fit the status any more.
    again = client.post(f"/recruiter/handovers/{case.handover_id}/accept")
    assert "Dat kan niet (meer)" in again.text
    placed = client.post(f"/recruiter/handovers/{case.handover_id}/placed")
    assert "Status bijgewerkt: geplaatst." in placed.text
    finished = placed.text.split('id="done-heading"')[1]
    assert f"Overdracht #{case.handover_id}" in finished
    late = client.post(f"/recruiter/handovers/{case.handover_id}/contacted")
    assert "Deze overdracht is al afgesloten." in late.text
    assert status_of(engine, case.handover_id) == "placed"


def test_not_a_fit_before_taking_it_on_passes_it_on(settings: Settings, engine: Engine) -> None:
    case = make_handover(engine)
    client = logged_in(settings, case.token)
    page = client.post(f"/recruiter/handovers/{case.handover_id}/decline")
    assert "Doorgegeven: een collega krijgt deze overdracht." in page.text
    assert f"Overdracht #{case.handover_id}" not in page.text
    with session_scope(engine) as session:
        handover = session.get(Handover, case.handover_id)
        assert handover is not None
        assert handover.recruiter_id != case.recruiter_id
        assert handover.status == "requested"


def test_a_post_from_another_site_is_refused(settings: Settings, engine: Engine) -> None:
    case = make_handover(engine)
    client = logged_in(settings, case.token)
    url = f"/recruiter/handovers/{case.handover_id}/accept"
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://www.testserver"},
    ):
        response = client.post(url, headers=headers, follow_redirects=False)
        assert response.status_code == 403, headers
    evil = {"Origin": "https://evil.example"}
    assert client.post("/recruiter/logout", headers=evil).status_code == 403
    assert status_of(engine, case.handover_id) == "requested"
    assert client.post(f"/recruiter/handovers/{case.handover_id}/hire").status_code == 404
    # What Chromium sends for the page's own form under Referrer-Policy: no-referrer.
    own_form = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    assert client.post(url, headers=own_form, follow_redirects=False).status_code == 303
    assert status_of(engine, case.handover_id) == "accepted"


def test_logging_out_forgets_the_cookie(settings: Settings, engine: Engine) -> None:
    _, token = make_recruiter(engine, region="Ergens")
    client = logged_in(settings, token)
    response = client.post("/recruiter/logout", follow_redirects=False)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "Max-Age=0" in cookie
    page = client.get(response.headers["location"])
    assert page.status_code == 401
    assert "Je bent uitgelogd." in page.text


def test_a_database_error_gives_a_friendly_503(tmp_path: Path) -> None:
    # An empty SQLite file: every query fails with "no such table".
    settings = make_settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    client = TestClient(Gateway(settings).app())
    client.cookies.set(COOKIE, "some-token")
    for response in (client.get("/recruiter/login?token=abc"), client.get("/recruiter")):
        assert response.status_code == 503
        assert "even niet bereikbaar, probeer het zo opnieuw" in response.text
        assert "Traceback" not in response.text and "sqlite" not in response.text.lower()
    database_engine(settings).dispose()


def werkmaatje(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**settings_env(settings), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "werkmaatje"), "recruiters", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.e2e
def test_the_link_command_prints_a_working_link_and_retires_the_old_one(
    settings: Settings, engine: Engine
) -> None:
    recruiter_id, _ = make_recruiter(engine, region="Ergens")
    cli = settings.model_copy(update={"public_base_url": "https://werk.example/"})
    first = werkmaatje(cli, "link", str(recruiter_id))
    assert first.returncode == 0, first.stderr
    assert "Login link to the recruiter page for Sanne de Vries (Werkbrug)" in first.stdout
    prefix = "https://werk.example/recruiter/login?token="
    old_link = first.stdout.strip().splitlines()[-1]
    assert old_link.startswith(prefix)
    new_link = werkmaatje(cli, "link", str(recruiter_id)).stdout.strip().splitlines()[-1]
    assert new_link.startswith(prefix) and new_link != old_link

    client = TestClient(Gateway(settings).app())
    old = client.get(old_link.removeprefix("https://werk.example"), follow_redirects=False)
    assert old.status_code == 403
    new = client.get(new_link.removeprefix("https://werk.example"), follow_redirects=False)
    assert new.status_code == 303
    assert "Sanne de Vries, Werkbrug" in client.get("/recruiter").text

    missing = werkmaatje(cli, "link", "987654")
    assert missing.returncode == 2
    assert "there is no recruiter 987654" in missing.stderr
    with session_scope(engine) as session:
        disable_recruiter(recruiter_id, session=session)
    disabled = werkmaatje(cli, "link", str(recruiter_id))
    assert disabled.returncode == 2 and "disabled" in disabled.stderr
    help_text = " ".join(werkmaatje(cli, "link", "--help").stdout.split())
    assert "previous link stops working" in help_text
