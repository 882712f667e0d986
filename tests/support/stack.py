"""Running the real processes for end-to-end tests and benchmarks, on free loopback ports."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from bot.cli import launcher
from core.db import make_engine
from core.settings import Settings
from tests.support.environment import require
from tests.support.fake_telegram import FakeBotApi

if TYPE_CHECKING:  # smtp_server takes free_port from here
    from tests.support.smtp_server import SmtpServer

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_settings(**overrides: object) -> Settings:
    """Settings for a test stack, ignoring any .env file and the environment's ports."""
    values: dict[str, object] = {
        "database_url": "sqlite:///:memory:",
        "gateway_host": "127.0.0.1",
        "gateway_port": free_port(),
        "rasa_host": "127.0.0.1",
        "rasa_port": free_port(),
        "action_server_host": "127.0.0.1",
        "action_server_port": free_port(),
        "rasa_token": None,
        "telegram_bot_token": None,
        "telegram_webhook_url": None,
        "telegram_webhook_secret": None,
        "telegram_api_base_url": None,
        "log_level": "INFO",
        # Tests share databases with a running gateway: retention runs only when a test asks.
        "retention_enabled": False,
    }
    values.update(overrides)
    if "rasa_url" not in overrides:
        values["rasa_url"] = f"http://127.0.0.1:{values['rasa_port']}"
    # model_validate skips the environment and .env sources: a test stack is what it says.
    return Settings.model_validate(values)


def webhook_settings(fake: FakeBotApi, secret: str, **overrides: object) -> Settings:
    """Settings for a gateway in webhook mode in front of the fake Bot API server."""
    settings = make_settings(
        telegram_bot_token=fake.token,
        telegram_api_base_url=fake.base_url.removesuffix("/bot"),
        telegram_webhook_secret=secret,
        **overrides,
    )
    webhook_url = f"http://127.0.0.1:{settings.gateway_port}/telegram/webhook"
    return settings.model_copy(update={"telegram_webhook_url": webhook_url})


def telegram_state(settings: Settings) -> str:
    """The gateway's Telegram state from /healthz."""
    url = f"http://127.0.0.1:{settings.gateway_port}/healthz"
    return str(httpx.get(url, timeout=5).json()["telegram"])


@contextmanager
def running(*services: launcher.Service) -> Iterator[None]:
    """Start services, wait until each is healthy, stop them afterwards."""
    launcher.start_all(services)
    try:
        yield
    finally:
        launcher.stop_all(services)


def postgres_available() -> str | None:
    """None when PostgreSQL on 127.0.0.1:5432 answers, else the reason."""
    engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:
        return f"PostgreSQL on 127.0.0.1:5432 (database test) is not reachable: {error}"
    finally:
        engine.dispose()
    return None


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test session, dropped afterwards."""
    name = f"werkmaatje_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def wait_until(
    predicate: Callable[[], object], timeout: float = 30.0, interval: float = 0.05
) -> None:
    """Poll a condition that has no notification of its own (a file, a database row)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def log_dir(base: Path, name: str) -> Path:
    """A per-stack folder for the processes' logs."""
    path = base / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def own_database(kind: str, folder: Path) -> Iterator[Engine]:
    """An engine on a new, empty database for one test: a SQLite file or a PostgreSQL database."""
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{folder / 'own.db'}")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    require(postgres_available())
    with postgres_database() as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@dataclass
class Stack:
    """The running processes of one end-to-end session and the fake Bot API they talk to."""

    settings: Settings
    telegram: FakeBotApi
    engine: Engine
    log_dirs: tuple[Path, ...] = ()  # where the action server, gateway and Rasa write logs
    smtp: SmtpServer | None = None
    gateway: launcher.Service | None = None

    def restart_gateway(self) -> None:
        """Start the gateway again (after a test killed it) and wait until it is connected."""
        assert self.gateway is not None
        self.gateway.stop()
        self.gateway.start()
        self.gateway.wait_healthy(time.monotonic() + self.gateway.startup_timeout)
        wait_until(lambda: telegram_state(self.settings) == "webhook")

    @property
    def gateway_url(self) -> str:
        """Base URL of the gateway."""
        return f"http://127.0.0.1:{self.settings.gateway_port}"
