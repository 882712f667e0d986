"""The web chat in a real browser (headless Chromium), against the real running stack."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


def test_hoi_in_the_web_chat_gets_the_welcome_and_the_consent_buttons(
    stack: Stack, browser: Browser
) -> None:
    page = browser.new_page(locale="nl-NL")
    try:
        page.goto(f"{stack.gateway_url}/chat")
        page.fill("#text", "hoi")
        page.press("#text", "Enter")
        expect(page.locator(".msg.bot").first).to_contain_text("chatbot")
        expect(page.locator(".msg.bot").nth(1)).to_contain_text("profiel")
        page.get_by_role("button", name="Ja").click()
        expect(page.locator(".msg.bot").nth(2)).to_contain_text("voornaam")
        # The pressed button is gone, so it cannot be pressed twice.
        expect(page.get_by_role("button", name="Nee")).to_have_count(0)
        expect(page.locator(".msg.user")).to_have_text(["hoi", "Ja"])
    finally:
        page.close()
