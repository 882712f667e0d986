"""The trained Rasa model: named by a fingerprint of what it was trained from."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import subprocess
from pathlib import Path

from core.paths import RASA_BIN, ROOT

logger = logging.getLogger(__name__)

# Everything `rasa train` reads; the Rasa lock file too, because another Rasa trains differently.
TRAINING_INPUTS = ("config.yml", "domain", "nlu", "stories", "requirements/rasa.lock")
KEEP_MODELS = 3


class TrainingFailed(RuntimeError):
    """`rasa train` exited with an error."""


def rasa_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for Rasa commands: no telemetry, caches inside the project."""
    env = dict(os.environ if base is None else base)
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("RASA_CACHE_DIRECTORY", str(ROOT / ".rasa" / "cache"))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def training_files(root: Path = ROOT) -> list[Path]:
    """The files a model is trained from, in a stable order."""
    files: list[Path] = []
    for name in TRAINING_INPUTS:
        path = root / name
        if path.is_dir():
            files.extend(
                p for p in path.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml")
            )
        elif path.is_file():
            files.append(path)
    return sorted(files)


def fingerprint(root: Path = ROOT) -> str:
    """A hash of the training files' names and contents."""
    digest = hashlib.sha256()
    for path in training_files(root):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(root: Path = ROOT) -> Path:
    """Where the model for the current training data lives (it may not exist yet)."""
    return root / "models" / f"werkmaatje-{fingerprint(root)}.tar.gz"


def ensure_model(root: Path = ROOT) -> Path:
    """The model for the current data, trained first when there is none."""
    target = model_path(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".train.lock", "w") as lock:
        # Two commands started together (make run and make test) train once, not twice.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        if not RASA_BIN.exists():
            raise FileNotFoundError(f"{RASA_BIN} is missing: run `make venv-rasa` first")
        print(
            f"Training a model for the current data: {target.name} (about 5 minutes on two cores)"
        )
        command = [
            str(RASA_BIN),
            "train",
            "--config", str(root / "config.yml"),
            "--domain", str(root / "domain"),
            "--data", str(root / "nlu"), str(root / "stories"),
            "--out", str(target.parent),
            "--fixed-model-name", target.name.removesuffix(".tar.gz"),
        ]  # fmt: skip
        log_path = root / "var" / "log" / "train.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "wb") as log:
            result = subprocess.run(
                command, cwd=root, env=rasa_env(), stdout=log, stderr=subprocess.STDOUT
            )
        if result.returncode != 0:
            tail = log_path.read_text("utf-8", errors="replace").splitlines()[-40:]
            raise TrainingFailed(
                f"rasa train failed (exit {result.returncode}); the end of {log_path}:\n"
                + "\n".join(tail)
            )
        print(f"Trained {target.name} (log: {log_path})")
        _prune(target)
    return target


def _prune(current: Path) -> None:
    """Keep the newest few models, so a switch back to recent data needs no training."""
    models = sorted(
        current.parent.glob("werkmaatje-*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in models[KEEP_MODELS:]:
        if old != current:
            old.unlink(missing_ok=True)
