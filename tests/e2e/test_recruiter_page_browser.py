"""The recruiter page in a real browser (headless Chromium) against the real gateway process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, expect
from sqlalchemy import Engine

from bot.cli import launcher
from tests.bot.pages.test_recruiter import SUMMARY_LINE, make_handover, status_of
from tests.support.stack import make_settings, running

pytestmark = pytest.mark.e2e


@pytest.fixture
def gateway_url(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[str]:
    """The gateway as `werkmaatje run` starts it, on the session's database (Rasa not needed)."""
    settings = make_settings(database_url=database_url)
    with running(launcher.gateway(settings, tmp_path)):
        yield f"http://127.0.0.1:{settings.gateway_port}"


def test_a_recruiter_logs_in_by_link_and_takes_on_a_handover(
    gateway_url: str, engine: Engine, browser: Browser
) -> None:
    case = make_handover(engine)
    page = browser.new_page(locale="nl-NL")
    console: list[ConsoleMessage] = []
    page.on("console", lambda message: console.append(message))
    try:
        page.goto(f"{gateway_url}/recruiter/login?token={case.token}")
        # The token left the address bar, and scripts cannot read the cookie that replaced it.
        expect(page).to_have_url(f"{gateway_url}/recruiter")
        assert "werkmaatje_recruiter" not in page.evaluate("document.cookie")
        expect(page.get_by_role("heading", level=1)).to_have_text("Jouw overdrachten")

        handover = page.locator(f"#handover-{case.handover_id}")
        expect(handover.get_by_role("heading", level=3)).to_have_text(
            f"Overdracht #{case.handover_id}"
        )
        summary = handover.locator(".summary")
        expect(summary).to_contain_text(SUMMARY_LINE)
        # The stylesheet passed the Content-Security-Policy: the summary keeps its line breaks.
        expect(summary).to_have_css("white-space", "pre-wrap")

        handover.get_by_role("button", name="Ik pak dit op").click()
        expect(page.get_by_role("status")).to_have_text("Status bijgewerkt: opgepakt.")
        expect(handover.locator(".status")).to_have_text("opgepakt")
        expect(handover.get_by_role("button", name="Ik pak dit op")).to_have_count(0)
        expect(handover.get_by_role("button", name="Contact gehad")).to_be_visible()
        assert status_of(engine, case.handover_id) == "accepted"
        assert not [m.text for m in console if "Content Security Policy" in m.text]
    finally:
        page.close()
