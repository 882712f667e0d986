"""The channel registry: the one module of store/ that knows the channels by name.

A channel's name is what `ChannelIdentity.channel`, `OutboxMessage.channel` and a Rasa sender
id (`telegram:123`) hold. The rest of store/ asks this module what a channel can do (reach a
person unasked, number its messages, be opened from a summary) instead of naming one, so a
new channel is added here and in its folder under bot/channels/, not in the table code.
"""

from __future__ import annotations

TELEGRAM = "telegram"
EMAIL = "email"
WEB = "web"

# Where a person can be reached without writing first: nudges go out there.
NUDGE_CHANNELS: tuple[str, ...] = (TELEGRAM,)
# Channels whose provider message ids are one increasing number per chat (Telegram's
# message_id): the outbox keeps the newest one to find a send cut off by a restart.
NUMBERED_MESSAGES: tuple[str, ...] = (TELEGRAM,)


def can_address(channel: str, user_id: str) -> bool:
    """Whether `user_id` is a recipient the channel's sender can take (a Telegram chat id is a
    number; a private chat's id is the user's id)."""
    if channel == TELEGRAM:
        return user_id.lstrip("-").isdigit()
    return bool(user_id)


def unblocks_on_message(channel: str) -> bool:
    """Whether a person writing on `channel` shows they no longer block the bot there."""
    return channel in NUDGE_CHANNELS


def profile_link(channel: str, user_id: str) -> tuple[str, str] | None:
    """(label, URL) that opens a person's chat on `channel` for a recruiter, when there is one."""
    if channel == TELEGRAM and can_address(channel, user_id):
        return "Telegram", f"tg://user?id={user_id}"
    return None
