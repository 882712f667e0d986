"""The web chat as a Channel: it has no way to a browser but the answer to its next request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.channels import ButtonRules, PermanentError, WithoutConversation
from store.channels import WEB
from store.outbox import Claimed


class WebSender(WithoutConversation):
    """The web chat as a Channel: it answers each message in the response to it
    (bot/channels/web/chat.py), and what the bot has to say unasked (a recruiter's news) waits
    in the outbox until the person's next message (store.outbox.take_inbox)."""

    name = WEB
    buttons = ButtonRules()  # the page shows whatever Rasa sends

    async def can_reach(self, recipient: str) -> bool:
        """Never: the browser asks, the bot answers."""
        return False

    async def ready(self) -> bool:
        """Never: its rows wait for the person's next message, which takes them."""
        return False

    async def send(self, row: Claimed, still_mine: Callable[[], Awaitable[bool]]) -> str | None:
        """Not sent: the outbox leaves the web chat's rows alone (see ready)."""
        raise PermanentError("the web chat cannot be sent to")
