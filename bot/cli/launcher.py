"""Starting the three processes (action server, Rasa, gateway), waiting for health, stopping."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from bot.cli.model import rasa_env
from core.db import absolute_sqlite_url
from core.paths import LOG_DIR, PROJECT_PYTHON, RASA_PYTHON, RASA_RUN, ROOT
from core.settings import Settings

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Linux: a child is sent SIGTERM when the launcher dies, even by SIGKILL, so no orphan
    # keeps a port. Elsewhere the orderly shutdown in Service.stop still applies.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class StartupError(RuntimeError):
    """A process exited or did not become healthy in time."""


@dataclass
class Service:
    """One child process and how to tell that it is ready."""

    name: str
    command: Sequence[str]
    health_url: str
    env: dict[str, str]
    log_path: Path
    startup_timeout: float = 60.0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start the process with its output going to its log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            list(self.command),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the launcher, which stops us in order
            preexec_fn=_die_with_parent,
        )
        log.close()

    def healthy(self) -> bool:
        """Whether the health URL answers 200."""
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as response:  # noqa: S310
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def wait_healthy(self, deadline: float) -> None:
        """Wait until healthy; StartupError when the process exits or time runs out."""
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise StartupError(
                    f"{self.name} exited with code {self.process.returncode}\n{self.log_tail()}"
                )
            if self.healthy():
                return
            time.sleep(0.25)
        raise StartupError(f"{self.name} was not healthy in time\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the log, for error messages."""
        try:
            text = self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(f"  {self.name}| {line}" for line in text.splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def settings_env(settings: Settings) -> dict[str, str]:
    """Every setting as an environment variable; unset ones as "" so a .env cannot fill them."""
    env: dict[str, str] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[name.upper()] = "" if value is None else str(value)
    return env


def base_env(settings: Settings) -> dict[str, str]:
    """The environment every child gets: ours, then the settings, database URL made absolute."""
    env = {**os.environ, **settings_env(settings)}
    env["DATABASE_URL"] = absolute_sqlite_url(settings.database_url)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def tracker_store_url(database_url: str) -> str:
    """The project database as Rasa's SQLTrackerStore reaches it (SQLAlchemy 1.4, psycopg2)."""
    url = absolute_sqlite_url(database_url)
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def action_server(settings: Settings, log_dir: Path = LOG_DIR) -> Service:
    """The action server running our `actions` package (rasa-sdk, with our logging)."""
    env = base_env(settings)
    env["SANIC_HOST"] = settings.action_server_host
    host, port = settings.action_server_host, settings.action_server_port
    command = [str(PROJECT_PYTHON), "-m", "actions.server", "--actions", "actions"]
    return Service(
        name="actions",
        command=[*command, "-p", str(port)],
        health_url=f"http://{host}:{port}/health",
        env=env,
        log_path=log_dir / "actions.log",
    )


def rasa_server(settings: Settings, model: Path, log_dir: Path = LOG_DIR) -> Service:
    """The Rasa server with the REST channel; its HTTP API only behind a token."""
    env = rasa_env(base_env(settings))
    env["ACTION_ENDPOINT_URL"] = settings.resolved_action_endpoint_url
    env["TRACKER_STORE_URL"] = tracker_store_url(settings.database_url)
    # Rasa reads LOG_LEVEL itself, and at DEBUG it logs every message's text: it stays at INFO.
    env["LOG_LEVEL"] = "INFO" if settings.log_level == "DEBUG" else settings.log_level
    env["LOG_LEVEL_LIBRARIES"] = "ERROR"
    command = [
        str(RASA_PYTHON), str(RASA_RUN), "run",
        "--model", str(model),
        "--credentials", str(ROOT / "credentials.yml"),
        "--endpoints", str(ROOT / "endpoints.yml"),
        "--logging-config-file", str(ROOT / "rasa-logging.yml"),
        "--interface", settings.rasa_host,
        "--port", str(settings.rasa_port),
    ]  # fmt: skip
    if settings.rasa_token is not None:
        command += ["--enable-api", "--auth-token", settings.rasa_token.get_secret_value()]
    return Service(
        name="rasa",
        command=command,
        health_url=f"http://{settings.rasa_host}:{settings.rasa_port}/",
        env=env,
        log_path=log_dir / "rasa.log",
        startup_timeout=240.0,
    )


def gateway(settings: Settings, log_dir: Path = LOG_DIR) -> Service:
    """The gateway web server."""
    env = base_env(settings)
    return Service(
        name="gateway",
        command=[str(PROJECT_PYTHON), "-m", "bot.gateway"],
        health_url=f"http://{settings.gateway_host}:{settings.gateway_port}/healthz",
        env=env,
        log_path=log_dir / "gateway.log",
    )


def start_all(services: Sequence[Service]) -> None:
    """Start every service, then wait for each; on failure stop those already started."""
    try:
        for service in services:
            service.start()
        for service in services:
            service.wait_healthy(time.monotonic() + service.startup_timeout)
    except BaseException:
        stop_all(services)
        raise


def stop_all(services: Sequence[Service]) -> None:
    """Stop in reverse order of start: the gateway first, so no message meets a stopped Rasa."""
    for service in reversed(services):
        service.stop()


def wait_forever(services: Sequence[Service]) -> int:
    """Block until Ctrl-C / SIGTERM (exit 0) or until a service dies (exit 1)."""
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stopping:
        for service in services:
            if service.process is not None and service.process.poll() is not None:
                print(
                    f"{service.name} stopped unexpectedly (code {service.process.returncode})",
                    file=sys.stderr,
                )
                print(service.log_tail(), file=sys.stderr)
                stop_all(services)
                return 1
        time.sleep(0.5)
    print("\nStopping Werkmaatje…")
    stop_all(services)
    return 0
