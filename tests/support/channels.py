"""The channels a test's outbox worker sends through, as the gateway builds them."""

from __future__ import annotations

from telegram import Bot

from bot.channels import Channel
from bot.channels.email.sender import EmailSender
from bot.channels.telegram.sender import TelegramSender
from bot.channels.web.sender import WebSender
from core.settings import Settings


def outbox_channels(settings: Settings, bot: Bot) -> list[Channel]:
    """Telegram through `bot` (always connected), e-mail when the settings have a server, and
    the web chat."""
    channels: list[Channel] = [TelegramSender(settings, bot)]
    if settings.email_enabled:
        channels.append(EmailSender(settings))
    channels.append(WebSender())
    return channels
