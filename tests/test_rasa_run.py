"""scripts/rasa_run.py: Rasa with the action server's responses checked by a validator built once.

The checks run in `.venv-rasa/bin/python` (Rasa is not installed here), in one subprocess that
imports the script and Rasa's action module but loads no model (a few seconds).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.engine import SCRIPT as ENGINE_SCRIPT
from bot.cli.launcher import rasa_server
from bot.cli.model import rasa_env
from core.paths import RASA_PYTHON, RASA_RUN, ROOT
from tests.support.environment import require
from tests.support.stack import make_settings

# Rasa adds this to the message of a response that does not match its schema.
RASAS_MESSAGE = "Failed to validate Action server response from API"

VALID = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "first_name", "value": "Sam", "timestamp": None}],
        "responses": [{"text": "Hoi Sam!", "buttons": []}],
    },
]
INVALID = [
    {"events": "not a list"},
    {"events": [], "responses": ["a text, not an object"]},
    {"events": [{"name": "first_name", "value": "Sam"}]},  # no "event"
]

# Runs in .venv-rasa: imports the script as `rasa run` gets it, patches, and checks every
# response above with the patched check and with Rasa's own; one JSON line on stdout.
PROBE = """
import inspect, json, sys
from pathlib import Path

import jsonschema
import rasa

sys.path.insert(0, str(Path(sys.argv[1]).parent))
import rasa_run
from rasa.core.actions.action import RemoteAction

rasas = RemoteAction._validate_action_result
rasa_run.patch()
action = RemoteAction("action_probe", None)

# How often the schema itself is checked against the meta-schema.
schema_checks = []
validator_class = type(rasa_run.VALIDATOR)
check_schema = validator_class.check_schema

def counted(schema, *args, **kwargs):
    schema_checks.append(1)
    return check_schema(schema, *args, **kwargs)

validator_class.check_schema = staticmethod(counted)

def outcomes(check, responses):
    results = []
    for response in responses:
        schema_checks.clear()
        try:
            result = {"valid": check(response)}
        except jsonschema.ValidationError as error:
            result = {
                "raised": type(error).__name__,
                "message": error.message,
                "path": list(error.absolute_path),
            }
        results.append({**result, "schema_checks": len(schema_checks)})
    return results

responses = json.loads(sys.stdin.read())
print(json.dumps({
    "rasa": rasa.__version__,
    "patched": RemoteAction._validate_action_result is rasa_run.validate_action_result,
    "replaced_rasas_own": rasas is rasa_run.RASAS_CHECK,
    "rasas_source": inspect.getsource(rasas),
    "run_source": inspect.getsource(RemoteAction.run),
    "validator": validator_class.__name__,
    "validate_picks": jsonschema.validators.validator_for(
        RemoteAction.action_response_format_spec()
    ).__name__,
    "same_schema": rasa_run.VALIDATOR.schema == RemoteAction.action_response_format_spec(),
    "patched_outcomes": outcomes(action._validate_action_result, responses),
    "rasas_outcomes": outcomes(lambda response: rasas(action, response), responses),
}))
"""


@pytest.fixture(scope="module")
def probe() -> dict[str, Any]:
    """What the probe found in .venv-rasa."""
    require(None if RASA_PYTHON.exists() else f"{RASA_PYTHON} is missing: make venv-rasa")
    result = subprocess.run(
        [str(RASA_PYTHON), "-I", "-c", PROBE, str(RASA_RUN)],
        input=json.dumps([*VALID, *INVALID]),
        env=rasa_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_a_valid_action_server_response_passes_without_checking_the_schema_again(
    probe: dict[str, Any],
) -> None:
    for outcome in probe["patched_outcomes"][: len(VALID)]:
        assert outcome == {"valid": True, "schema_checks": 0}
    # Rasa's own check, for comparison: the schema against the meta-schema on every call.
    assert all(o["schema_checks"] == 1 for o in probe["rasas_outcomes"])


def test_an_invalid_response_still_raises_a_validation_error_with_rasas_message(
    probe: dict[str, Any],
) -> None:
    invalid = probe["patched_outcomes"][len(VALID) :]
    assert len(invalid) == len(INVALID)
    for outcome in invalid:
        assert outcome["raised"] == "ValidationError"
        assert RASAS_MESSAGE in outcome["message"]
    assert "'not a list' is not of type 'array'" in invalid[0]["message"]
    assert invalid[0]["path"] == ["events"]


def test_the_patched_check_answers_every_response_as_rasas_own_does(
    probe: dict[str, Any],
) -> None:
    def answer(outcome: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in outcome.items() if key != "schema_checks"}

    assert [answer(o) for o in probe["patched_outcomes"]] == [
        answer(o) for o in probe["rasas_outcomes"]
    ]


def test_the_validator_is_the_one_jsonschema_validate_picks_for_the_same_schema(
    probe: dict[str, Any],
) -> None:
    assert probe["validator"] == probe["validate_picks"]
    assert probe["same_schema"] is True


def test_the_patch_replaces_the_check_that_rasa_calls_on_every_action_response(
    probe: dict[str, Any],
) -> None:
    # If Rasa changes under the patch, this says where to look again (docs/decisions/0002).
    assert probe["rasa"] == "3.6.21"
    assert probe["patched"] is True
    assert probe["replaced_rasas_own"] is True
    assert "def _validate_action_result(self" in probe["rasas_source"]
    assert "validate(result, self.action_response_format_spec())" in probe["rasas_source"]
    assert "self._validate_action_result(response)" in probe["run_source"]


def test_the_launcher_starts_rasa_through_the_script(tmp_path: Path) -> None:
    command = rasa_server(make_settings(), tmp_path / "m.tar.gz", tmp_path).command
    assert list(command[:3]) == [str(RASA_PYTHON), str(RASA_RUN), "run"]
    assert RASA_RUN.is_file()


def test_the_rasa_image_runs_rasa_through_the_script() -> None:
    dockerfile = (ROOT / "docker" / "rasa.Dockerfile").read_text("utf-8")
    assert "COPY scripts/rasa_run.py scripts/rasa_run.py" in dockerfile
    assert 'ENTRYPOINT ["python", "/app/scripts/rasa_run.py"]' in dockerfile
    assert '\nCMD ["run", ' in dockerfile
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    assert "entrypoint" not in compose["services"]["rasa"]
    assert compose["services"]["rasa"]["command"][0] == "run"


@pytest.mark.parametrize(
    ("script", "allowed"),
    [(ENGINE_SCRIPT, {"rasa"}), (RASA_RUN, {"rasa", "jsonschema"})],
    ids=["bench-engine-rasa", "rasa-run"],
)
def test_the_scripts_run_by_rasas_python_import_nothing_of_the_project(
    script: Path, allowed: set[str]
) -> None:
    tree = ast.parse(script.read_text("utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    assert "rasa" in modules
    assert modules - allowed <= set(sys.stdlib_module_names)
