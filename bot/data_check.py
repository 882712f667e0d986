"""`rasa data validate`, strict, except for one warning Rasa 3.6 gives wrongly.

Rasa warns that a response is "not used in any story or rule" when only a form (utter_ask_*)
or a custom action (dispatcher.utter_message(response=...)) uses it. Such a warning is accepted
only when that use really exists; every other warning fails the check.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from bot.model import RASA_BIN, ROOT, rasa_env

_UNUSED = re.compile(r"UserWarning: The utterance '([^']+)' is not used in any story or rule\.")
_WARNING = re.compile(r"(UserWarning|FutureWarning): (.*)")
_RESPONSE_IN_CODE = re.compile(r"""response\s*=\s*["'](utter_[A-Za-z0-9_]+)["']""")


def responses_used_outside_stories(root: Path = ROOT) -> set[str]:
    """Responses asked for by forms (utter_ask_<slot>) or named in custom actions."""
    # Rasa's own action_default_fallback (the core fallback) says utter_default.
    used: set[str] = {"utter_default"}
    domain = yaml.safe_load((root / "domain.yml").read_text("utf-8"))
    for form in (domain.get("forms") or {}).values():
        for slot in form.get("required_slots") or []:
            used.add(f"utter_ask_{slot}")
    for path in (root / "actions").rglob("*.py"):
        used.update(_RESPONSE_IN_CODE.findall(path.read_text("utf-8")))
    return used


def problems(output: str, allowed: set[str]) -> list[str]:
    """The warnings in `rasa data validate` output that are real problems."""
    found = []
    for line in output.splitlines():
        unused = _UNUSED.search(line)
        if unused:
            if unused.group(1) not in allowed:
                found.append(f"response {unused.group(1)} is never used")
            continue
        warning = _WARNING.search(line)
        if warning and "rasa/shared/utils/io.py" in line:
            found.append(warning.group(2))
    return found


def validate(root: Path = ROOT) -> int:
    """Run the validation; print problems and return the exit code."""
    command = [
        str(RASA_BIN), "data", "validate",
        "--config", str(root / "config.yml"),
        "--domain", str(root / "domain.yml"),
        "--data", str(root / "nlu"), str(root / "stories"),
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=root, env=rasa_env(), capture_output=True, text=True, check=False
    )
    output = result.stdout + result.stderr
    found = problems(output, responses_used_outside_stories(root))
    if result.returncode != 0:
        print(output)
        print(f"rasa data validate failed with exit code {result.returncode}")
        return 1
    for problem in found:
        print(f"training data: {problem}")
    if found:
        return 1
    print("Training data and domain are valid.")
    return 0
