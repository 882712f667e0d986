"""Telegram: updates in through the webhook or polling, messages out through the Bot API."""
