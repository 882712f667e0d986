"""`rasa data validate`, strict, except for two warnings Rasa 3.6 gives wrongly.

Rasa warns that a response is "not used in any story or rule" when only a form (utter_ask_*)
or a custom action (dispatcher.utter_message(response=...)) uses it, and that a retrieval
intent is listed twice (it adds it to the domain once more itself). Such a warning is accepted
only when that use, or that retrieval intent, really exists; every other warning fails.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from bot.cli.model import rasa_env
from core.paths import RASA_BIN, ROOT

_UNUSED = re.compile(r"UserWarning: The utterance '([^']+)' is not used in any story or rule\.")
_DUPLICATED = re.compile(r"duplicated intents have been found across multiple domain files: (.*)")
_WARNING = re.compile(r"(UserWarning|FutureWarning): (.*)")
_RESPONSE_IN_CODE = re.compile(r"""["'](utter_[A-Za-z0-9_]+)["']""")


def domain_documents(root: Path = ROOT) -> list[dict[str, Any]]:
    """The parsed files of the domain folder."""
    return [
        yaml.safe_load(path.read_text("utf-8")) or {}
        for path in sorted((root / "domain").glob("*.yml"))
    ]


def responses_used_outside_stories(root: Path = ROOT) -> set[str]:
    """Responses asked for by forms (utter_ask_<slot>, and utter_way_out_<slot> instead of a
    third identical question, actions/intake.py) or named in custom actions."""
    # Rasa's own action_default_fallback (the core fallback) says utter_default.
    used: set[str] = {"utter_default"}
    for domain in domain_documents(root):
        for form in (domain.get("forms") or {}).values():
            for slot in form.get("required_slots") or []:
                used.update((f"utter_ask_{slot}", f"utter_way_out_{slot}"))
    for path in (root / "actions").rglob("*.py"):
        used.update(_RESPONSE_IN_CODE.findall(path.read_text("utf-8")))
    return used


def retrieval_intents(root: Path = ROOT) -> frozenset[str]:
    """Intents answered by a ResponseSelector: those with `utter_<intent>/...` responses."""
    names: set[str] = set()
    for domain in domain_documents(root):
        for response in domain.get("responses") or {}:
            if "/" in response:
                names.add(response.split("/", 1)[0].removeprefix("utter_"))
    return frozenset(names)


def problems(
    output: str, allowed: set[str], retrieval_intents: frozenset[str] = frozenset()
) -> list[str]:
    """The warnings in `rasa data validate` output that are real problems.

    Rasa adds each retrieval intent found in the NLU data to the domain once more and then
    warns that it is listed twice; that warning is accepted for retrieval intents only.
    """
    found = []
    lines = output.splitlines()
    for number, line in enumerate(lines):
        unused = _UNUSED.search(line)
        if unused:
            if unused.group(1) not in allowed:
                found.append(f"response {unused.group(1)} is never used")
            continue
        duplicated = _DUPLICATED.search(line)
        if duplicated:
            names = {name.strip() for name in duplicated.group(1).split(",")}
            if names <= retrieval_intents:
                continue
        warning = _WARNING.search(line)
        if warning and "rasa/shared/utils/io.py" in line:
            message = warning.group(2).strip()
            if message.endswith(":") and number + 1 < len(lines):
                message = f"{message} {lines[number + 1].strip()}"
            found.append(message)
    return found


def validate(root: Path = ROOT) -> int:
    """Run the validation; print problems and return the exit code."""
    command = [
        str(RASA_BIN), "data", "validate",
        "--config", str(root / "config.yml"),
        "--domain", str(root / "domain"),
        "--data", str(root / "nlu"), str(root / "stories"),
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=root, env=rasa_env(), capture_output=True, text=True, check=False
    )
    output = result.stdout + result.stderr
    found = problems(output, responses_used_outside_stories(root), retrieval_intents(root))
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


def test_conversations(root: Path = ROOT) -> int:
    """Run the conversation tests in tests/conversations against the current model."""
    from bot.cli.model import model_path

    model = model_path(root)
    if not model.exists():
        print(f"No model for the current data ({model.name}): run `make train` first.")
        return 1
    out = root / "results" / "conversations"
    command = [
        str(RASA_BIN), "test", "core",
        "--model", str(model),
        "--stories", str(root / "tests" / "conversations"),
        "--out", str(out),
        "--fail-on-prediction-errors",
        "--no-plot",
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=root, env=rasa_env(), capture_output=True, text=True, check=False
    )
    failed = out / "failed_test_stories.yml"
    if result.returncode != 0:
        print((result.stdout + result.stderr)[-4000:])
        if failed.exists():
            print(failed.read_text("utf-8")[:6000])
        print("Conversation tests failed.")
        return 1
    print("Conversation tests passed.")
    return 0
