"""The `werkmaatje` command run in-process, as a test reads it: exit code, stdout, stderr."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.cli import main
from bot.cli.launcher import settings_env
from core.settings import Settings


@dataclass(frozen=True)
class CliResult:
    """What a run of the command left: its exit code and what it printed."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> CliResult:
    """Run `werkmaatje ARGS` in this process (argparse's exits included)."""
    capsys.readouterr()
    try:
        code = main(list(args))
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 2)
    out, err = capsys.readouterr()
    return CliResult(code, out, err)


def use_settings(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """Give the command these settings the way a shell would: as environment variables."""
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
