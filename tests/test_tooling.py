"""The scripts behind `make run` / `make test` and the docker-compose file."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from core.paths import ROOT
from tests.support.environment import require


def run_find_python(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "scripts" / "find-python.sh")],
        env=env, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


@pytest.mark.e2e
def test_find_python_finds_a_310(tmp_path: Path) -> None:
    result = run_find_python(dict(os.environ))
    assert result.returncode == 0, result.stderr
    version = subprocess.run(
        [result.stdout.strip(), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert version.stdout.strip() == "(3, 10)"


@pytest.mark.e2e
def test_find_python_says_what_to_install_when_there_is_none(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "grep", "sort", "env", "dirname", "cat"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    result = run_find_python({"PATH": str(bin_dir), "HOME": str(tmp_path)})
    assert result.returncode == 1
    assert "Python 3.10 was not found" in result.stderr
    assert "pyenv install 3.10" in result.stderr


@pytest.mark.e2e
def test_the_compose_file_is_valid_and_demands_its_secrets(tmp_path: Path) -> None:
    compose = shutil.which("docker-compose")
    require(None if compose else "docker-compose is missing (apt-get install docker-compose)")
    assert compose is not None
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    secrets = {"POSTGRES_PASSWORD": "p", "REDIS_PASSWORD": "r", "RASA_TOKEN": "t"}
    ok = subprocess.run(
        [compose, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        env={**base, **secrets}, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    missing = subprocess.run(
        [compose, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        env=base, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert missing.returncode != 0
    assert "POSTGRES_PASSWORD" in missing.stderr


def test_env_example_lists_every_setting() -> None:
    from core.settings import Settings

    listed = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert {name.upper() for name in Settings.model_fields} <= listed


def test_every_file_the_architecture_doc_names_exists() -> None:
    """docs/architecture.md's recipes say which files a change touches: each must exist."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([\w.-]+(?:/[\w.<>-]*)+)`", text))
    for placeholder in [path for path in named if "<" in path]:
        named.remove(placeholder)
        # `nlu/<topic>.yml`: the folder must exist and hold such files.
        folder = ROOT / placeholder.split("<")[0]
        assert folder.is_dir() and any(folder.iterdir()), placeholder
    assert len(named) > 30
    # Made by the commands, not in a clone: `models/` by training, `var/` by the first run.
    made = {"models/", "var/"}
    missing = sorted(path for path in named - made if not (ROOT / path).exists())
    assert missing == []
