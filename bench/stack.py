"""The real action server, Rasa server and gateway (webhook mode) in front of the fake Bot API."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.cli import launcher
from core.db import make_engine
from core.settings import Settings
from store.migrate import create_schema
from tests.support.fake_telegram import FakeBotApi
from tests.support.stack import log_dir, running, telegram_state, wait_until, webhook_settings

logger = logging.getLogger(__name__)

# A fixed secret for a throwaway gateway on loopback, like the tests' one.
WEBHOOK_SECRET = "bench-webhook-secret_123"  # noqa: S105


@dataclass
class BenchStack:
    """The running processes and the fake Bot API server they talk to."""

    settings: Settings
    telegram: FakeBotApi
    services: tuple[launcher.Service, ...]
    logs: Path

    @property
    def webhook_url(self) -> str:
        """The gateway's Telegram webhook."""
        return f"http://127.0.0.1:{self.settings.gateway_port}/telegram/webhook"

    @property
    def rasa_rest_url(self) -> str:
        """Rasa's own REST channel."""
        return f"http://127.0.0.1:{self.settings.rasa_port}/webhooks/rest/webhook"

    def log_tails(self, lines: int = 20) -> str:
        """The last lines of every process's log, for error reports."""
        return "\n".join(service.log_tail(lines) for service in self.services)


@contextmanager
def running_stack(workdir: Path, model: Path) -> Iterator[BenchStack]:
    """Start everything on free loopback ports with SQLite in `workdir`; stop it afterwards."""
    database_url = f"sqlite:///{workdir / 'werkmaatje.db'}"
    engine = make_engine(database_url)
    create_schema(engine)
    engine.dispose()
    logs = log_dir(workdir, "logs")
    with FakeBotApi() as fake:
        settings = webhook_settings(fake, WEBHOOK_SECRET, database_url=database_url)
        services = (
            launcher.action_server(settings, logs),
            launcher.rasa_server(settings, model, logs),
            launcher.gateway(settings, logs),
        )
        logger.info("Starting the action server, Rasa (about a minute) and the gateway")
        with running(*services):
            try:
                wait_until(lambda: telegram_state(settings) == "webhook", timeout=60)
            except AssertionError as error:
                tail = services[-1].log_tail()
                raise launcher.StartupError(
                    f"the gateway did not register its webhook\n{tail}"
                ) from error
            logger.info("Stack ready; logs in %s", logs)
            yield BenchStack(settings=settings, telegram=fake, services=services, logs=logs)
        logger.info("Stack stopped")
