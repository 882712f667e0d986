"""Rasa's command line, with the action server's responses checked by a validator built once.

Runs under `.venv-rasa/bin/python` and imports only Rasa, jsonschema and the standard library
(nothing of the project). It takes the arguments of the `rasa` command:

    .venv-rasa/bin/python scripts/rasa_run.py run --model models/werkmaatje-….tar.gz …

Rasa 3.6.21 checks each response of the action server in
`RemoteAction._validate_action_result` with `jsonschema.validate(result, schema)`; jsonschema
4.17.3 (Rasa's lock: Rasa 3.6 wants < 4.18) first checks Rasa's own schema against the
meta-schema, on every call: about 53 ms of a 105 ms message (docs/benchmarks.md, "Dialogue
engine cost"). Here the schema is checked once and the validator built once, of the class
`jsonschema.validate` picks for it (`validator_for`), from the same schema. `patch()` puts
`validate_action_result` in Rasa's place: a response the validator finds valid gives True, as
before; any other goes to Rasa's own function, which raises what it raised before (a
`jsonschema.ValidationError` with Rasa's added message). Why and the risk:
docs/decisions/0002-rasa-action-response-validation.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# rasa and jsonschema are installed in .venv-rasa only; mypy runs in .venv, where they are not.
from jsonschema.validators import validator_for  # type: ignore[import-untyped]
from rasa.core.actions.action import RemoteAction  # type: ignore[import-not-found]

SCHEMA: dict[str, Any] = RemoteAction.action_response_format_spec()
VALIDATOR_CLASS = validator_for(SCHEMA)  # the schema names no draft: jsonschema's newest
VALIDATOR_CLASS.check_schema(SCHEMA)  # what jsonschema.validate does on every call
VALIDATOR = VALIDATOR_CLASS(SCHEMA)
# Rasa's own check (KeyError here, at start-up, if Rasa no longer has it).
RASAS_CHECK: Callable[[Any, dict[str, Any]], bool] = RemoteAction.__dict__[
    "_validate_action_result"
]


def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """True for a response that matches the schema; Rasa's own check (and error) otherwise."""
    if VALIDATOR.is_valid(result):
        return True
    return RASAS_CHECK(self, result)


def patch() -> None:
    """Check custom action responses with `validate_action_result` from now on."""
    RemoteAction._validate_action_result = validate_action_result


def main() -> None:
    """`rasa` with the patch: Rasa's own entry point, which reads its arguments from sys.argv."""
    patch()
    from rasa.__main__ import main as rasa_main  # type: ignore[import-not-found]

    rasa_main()


if __name__ == "__main__":
    main()
