"""Fixtures: databases, the trained model, the real processes and the fake Bot API server."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import Engine

from bot.cli import launcher
from bot.cli.model import model_path
from core.db import make_engine
from core.settings import Settings
from store.migrate import create_schema
from tests.support.actions import UNREACHABLE_DATABASE_URL, actions_database
from tests.support.environment import WEBHOOK_SECRET, require
from tests.support.fake_telegram import FakeBotApi
from tests.support.smtp_server import SmtpServer
from tests.support.stack import (
    Stack,
    make_settings,
    own_database,
    postgres_available,
    postgres_database,
    running,
    telegram_state,
    wait_until,
    webhook_settings,
)


@pytest.fixture(autouse=True)
def _processes_only_in_e2e(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """A test that starts a process must be marked e2e: `make test-fast` (-m "not e2e") runs
    the others, and stays fast only while they start none. Processes that session fixtures
    start (Rasa, the gateway) are started before this fixture and are not counted."""
    if request.node.get_closest_marker("e2e") is not None:
        yield
        return
    started: list[str] = []
    original = subprocess.Popen.__init__

    def counted(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        started.append(str(args)[:120])
        original(self, args, *rest, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "__init__", counted)
    yield
    assert started == [], f"{request.node.nodeid} starts processes: mark it e2e"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the local PostgreSQL."""
    require(postgres_available())
    with postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A new, migrated database of each kind for one test, when counts must be exact."""
    with own_database(request.param, tmp_path) as engine:
        create_schema(engine)
        yield engine


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Each test using it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'werkmaatje.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the session's database, with the schema created."""
    engine = make_engine(database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model for the current training data; `make test` trains it before pytest runs."""
    path = model_path()
    if not path.exists():
        pytest.fail(f"No model for the current training data ({path.name}): run `make train`")
    return path


LOG_TAIL_LINES = 60


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test that ran processes shows the end of their logs in its report."""
    outcome: Any = yield
    report = outcome.get_result()
    if not report.failed or call.when != "call":
        return
    funcargs = getattr(item, "funcargs", {})
    paths = {
        service.log_path
        for value in funcargs.values()
        for service in (getattr(value, "gateway", None), value)
        if isinstance(service, launcher.Service)
    }
    for path in sorted(paths):
        if path.exists():
            lines = path.read_text("utf-8", errors="replace").splitlines()[-LOG_TAIL_LINES:]
            report.sections.append((f"log {path}", "\n".join(lines)))


@pytest.fixture(scope="session")
def rasa_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Ports shared by Rasa and the action servers of every database."""
    return make_settings()


@pytest.fixture(scope="session")
def rasa_log_dir(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the Rasa server of the session's database writes its log."""
    return tmp_path_factory.mktemp("rasa-logs")


@pytest.fixture(scope="session")
def rasa(
    trained_model: Path,
    rasa_settings: Settings,
    database_url: str,
    engine: Engine,
    rasa_log_dir: Path,
) -> Iterator[Settings]:
    """The real Rasa server with the trained model, once per database (its tracker store)."""
    settings = rasa_settings.model_copy(update={"database_url": database_url})
    logs = rasa_log_dir
    with running(launcher.rasa_server(settings, trained_model, logs)):
        yield settings


@pytest.fixture(scope="session")
def fake_telegram() -> Iterator[FakeBotApi]:
    """The fake Bot API server."""
    with FakeBotApi() as fake:
        yield fake


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium from the system (Debian's package), driven by Playwright."""
    path = shutil.which("chromium")
    require(None if path else "Chromium is not installed (apt-get install chromium)")
    assert path is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free port, for e-mail to recruiters."""
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="session")
def stack(
    rasa: Settings,
    database_url: str,
    engine: Engine,
    fake_telegram: FakeBotApi,
    smtp_server: SmtpServer,
    rasa_log_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """Action server and gateway (webhook mode) on one database, in front of the shared Rasa."""
    settings = webhook_settings(
        fake_telegram,
        WEBHOOK_SECRET,
        database_url=database_url,
        rasa_port=rasa.rasa_port,
        rasa_url=rasa.rasa_url,
        action_server_port=rasa.action_server_port,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security="none",
        # Nudges are tested with gateways of their own (tests/e2e/test_nudges.py and
        # test_nudge_dispatch.py): this one would otherwise schedule jobs for every person the
        # other tests create.
        nudges_enabled=False,
        # Its outbox still sends any gateway's queued nudges, and every gateway on one
        # database must apply the same rules: a nudge test's gateway (quiet hours off, as
        # tests run at night too) must not see its nudge held back by this one.
        nudge_quiet_hours="off",
        # Short, so a test that kills the gateway mid-send sees the recovery quickly.
        outbox_lease_seconds=3.0,
        outbox_poll_seconds=0.5,
    )
    logs = tmp_path_factory.mktemp("stack-logs")
    fake_telegram.reset()
    gateway = launcher.gateway(settings, logs)
    with running(launcher.action_server(settings, logs), gateway):
        wait_until(lambda: telegram_state(settings) == "webhook")
        yield Stack(
            settings=settings,
            telegram=fake_telegram,
            engine=engine,
            log_dirs=(logs, rasa_log_dir),
            smtp=smtp_server,
            gateway=gateway,
        )


@pytest.fixture
def store_database(database_url: str, engine: Engine) -> Iterator[Engine]:
    """Give the actions the session's database, as the action server gives them its own;
    yields the test's engine on it."""
    with actions_database(database_url):
        yield engine


@pytest.fixture
def no_database() -> Iterator[None]:
    """Give the actions a database that cannot be reached."""
    with actions_database(UNREACHABLE_DATABASE_URL):
        yield
