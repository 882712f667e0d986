"""All configuration, read from environment variables (and `.env` when present)."""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.time import QuietHours

_PLACEHOLDER = re.compile(r"^(change-?me|changeme|secret|x+|<.*>)$", re.IGNORECASE)
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class Settings(BaseSettings):
    """One settings object for the gateway and the launcher; see .env.example for each one."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    werkmaatje_env: Literal["development", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    database_url: str = "sqlite:///var/werkmaatje.db"

    gateway_host: str = "127.0.0.1"
    gateway_port: int = Field(default=8080, ge=1, le=65535)

    rasa_url: str = "http://127.0.0.1:5005"
    rasa_host: str = "127.0.0.1"
    rasa_port: int = Field(default=5005, ge=1, le=65535)
    rasa_token: SecretStr | None = None
    rasa_timeout_seconds: float = Field(default=30.0, gt=0)
    rasa_model: str | None = None

    action_server_host: str = "127.0.0.1"
    action_server_port: int = Field(default=5055, ge=1, le=65535)
    action_endpoint_url: str | None = None

    retention_enabled: bool = True
    retention_inactive_days: int = Field(default=365, ge=1)
    retention_after_handover_days: int = Field(default=28, ge=1)
    retention_no_consent_hours: int = Field(default=24, ge=1)
    retention_run_at: str = Field(default="03:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")

    # Where people reach the gateway from outside: the recruiter login links start with it.
    public_base_url: str = "http://127.0.0.1:8080"

    # Handovers: what the person is told, and when a waiting handover goes to the next recruiter.
    handover_contact_working_days: int = Field(default=3, ge=1, le=30)
    handover_accept_working_days: int = Field(default=2, ge=1, le=30)
    handover_reroute_check_minutes: int = Field(default=15, ge=1)

    # The outbox: messages to recruiters and status messages to people, retried with backoff.
    outbox_poll_seconds: float = Field(default=2.0, gt=0)
    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_retry_seconds: float = Field(default=10.0, gt=0)
    outbox_lease_seconds: float = Field(default=60.0, gt=0)
    outbox_probe_limit: int = Field(default=200, ge=0)

    # Nudges: sent by the gateway's scheduler; a nudge missed while the gateway was down goes
    # out late within the grace window, later than that it is logged as missed.
    nudges_enabled: bool = True
    nudge_misfire_grace_minutes: int = Field(default=180, ge=1, le=24 * 60)
    nudge_sync_seconds: float = Field(default=60.0, gt=0)
    # The first nudge comes this long after the person said yes; then their own rhythm.
    nudge_first_after_minutes: float = Field(default=24 * 60, ge=0)
    # No nudge goes out in these hours (Amsterdam clock); `off` for none.
    nudge_quiet_hours: str = "21:00-09:00"

    # Telegram allows a bot about 30 messages a second in all: a little under that leaves
    # room for jitter, so Telegram never has to answer 429.
    telegram_messages_per_second: float = Field(default=29.0, gt=0, le=1000)

    # E-mail to recruiters; off while SMTP_HOST is empty.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Werkmaatje <werkmaatje@localhost>"
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)

    telegram_bot_token: SecretStr | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_base_url: str | None = None

    @field_validator(
        "rasa_token",
        "telegram_bot_token",
        "telegram_webhook_secret",
        "telegram_webhook_url",
        "telegram_api_base_url",
        "rasa_model",
        "action_endpoint_url",
        "smtp_host",
        "smtp_username",
        "smtp_password",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("nudge_quiet_hours")
    @classmethod
    def _check_quiet_hours(cls, value: str) -> str:
        QuietHours.parse(value)  # a ValueError says what is wrong
        return value

    @property
    def quiet_hours(self) -> QuietHours | None:
        """The nudges' quiet hours; None when switched off."""
        return QuietHours.parse(self.nudge_quiet_hours)

    @model_validator(mode="after")
    def _check_secrets(self) -> Settings:
        if self.telegram_webhook_url:
            if self.telegram_bot_token is None:
                raise ValueError("TELEGRAM_WEBHOOK_URL needs TELEGRAM_BOT_TOKEN")
            if self.telegram_webhook_secret is None:
                raise ValueError(
                    "TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET "
                    "(1-256 characters: letters, digits, _ and -)"
                )
        secret = self.telegram_webhook_secret
        if secret is not None and not _WEBHOOK_SECRET.match(secret.get_secret_value()):
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET may hold 1-256 letters, digits, _ and - only"
            )
        if self.werkmaatje_env == "production":
            for name in (
                "rasa_token",
                "telegram_bot_token",
                "telegram_webhook_secret",
                "smtp_password",
            ):
                value = getattr(self, name)
                if value is not None and _PLACEHOLDER.match(value.get_secret_value()):
                    raise ValueError(f"{name.upper()} still has a placeholder value")
        return self

    @property
    def telegram_enabled(self) -> bool:
        """Whether a Telegram bot token is configured."""
        return self.telegram_bot_token is not None

    @property
    def email_enabled(self) -> bool:
        """Whether an SMTP server is configured for e-mail to recruiters."""
        return self.smtp_host is not None

    @property
    def resolved_action_endpoint_url(self) -> str:
        """Where Rasa calls the action server."""
        return (
            self.action_endpoint_url
            or f"http://{self.action_server_host}:{self.action_server_port}/webhook"
        )


def load_settings() -> Settings:
    """The settings at a process's start, or a clear message and exit when they are wrong (the
    message names what is wrong, never a value)."""
    try:
        return Settings()
    except ValidationError as error:
        messages = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        sys.exit(f"Configuration error: {messages}")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
