"""Where the project's files and its two Python environments are."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
LOG_DIR = ROOT / "var" / "log"
PROJECT_PYTHON = ROOT / ".venv" / "bin" / "python"
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
# `rasa` with the action server's responses checked by a validator built once (docs/decisions/
# 0002-rasa-action-response-validation.md); it takes the arguments of the `rasa` command.
RASA_RUN = ROOT / "scripts" / "rasa_run.py"
