"""Configuration: what is refused, and how settings reach the child processes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.cli.launcher import rasa_server, settings_env
from core.db import absolute_sqlite_url
from core.paths import ROOT
from core.settings import Settings


def settings(**values: object) -> Settings:
    return Settings.model_validate(values)


def test_defaults_are_the_embedded_set_up() -> None:
    default = settings()
    assert default.database_url == "sqlite:///var/werkmaatje.db"
    assert (default.gateway_host, default.gateway_port) == ("127.0.0.1", 8080)
    assert default.telegram_enabled is False
    assert default.rasa_token is None
    assert default.resolved_action_endpoint_url == "http://127.0.0.1:5055/webhook"


def test_a_webhook_needs_a_token_and_a_secret() -> None:
    with pytest.raises(ValidationError, match="TELEGRAM_BOT_TOKEN"):
        settings(telegram_webhook_url="https://bot.example.org/telegram/webhook")
    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET"):
        settings(
            telegram_webhook_url="https://bot.example.org/telegram/webhook",
            telegram_bot_token="1:abc",
        )


@pytest.mark.parametrize("secret", ["has space", "ümlaut", "x" * 257, "semi;colon"])
def test_a_webhook_secret_telegram_would_reject_is_refused(secret: str) -> None:
    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET"):
        settings(telegram_webhook_secret=secret)


def test_placeholders_are_refused_in_production_only() -> None:
    assert settings(rasa_token="changeme").rasa_token is not None
    with pytest.raises(ValidationError, match="RASA_TOKEN"):
        settings(werkmaatje_env="production", rasa_token="changeme")


def test_empty_variables_count_as_unset() -> None:
    empty = settings(telegram_bot_token="", rasa_token="", telegram_webhook_url="")
    assert empty.telegram_bot_token is None and empty.rasa_token is None


def test_settings_reach_children_as_variables_and_read_back_the_same() -> None:
    original = settings(
        gateway_port=9123, telegram_bot_token="1:abc", rasa_url="http://127.0.0.1:7000"
    )
    env = settings_env(original)
    assert env["GATEWAY_PORT"] == "9123"
    assert env["TELEGRAM_BOT_TOKEN"] == "1:abc"
    assert env["TELEGRAM_WEBHOOK_URL"] == ""
    lowered = {key.lower(): value for key, value in env.items()}
    assert Settings.model_validate(lowered) == original


def test_relative_sqlite_paths_are_anchored_in_the_project() -> None:
    assert absolute_sqlite_url("sqlite:///var/x.db") == f"sqlite:///{ROOT / 'var' / 'x.db'}"
    assert absolute_sqlite_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    assert absolute_sqlite_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert absolute_sqlite_url("sqlite:///:memory:") == "sqlite:///:memory:"


def test_rasas_http_api_is_only_enabled_with_a_token(tmp_path: Path) -> None:
    model = tmp_path / "model.tar.gz"
    without = rasa_server(settings(), model, tmp_path).command
    assert "--enable-api" not in without and "--auth-token" not in without
    assert without[without.index("--interface") + 1] == "127.0.0.1"
    with_token = rasa_server(settings(rasa_token="s3cret-token"), model, tmp_path).command
    assert "--enable-api" in with_token
    assert with_token[with_token.index("--auth-token") + 1] == "s3cret-token"
