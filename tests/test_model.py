"""The model's fingerprint and the training-data check."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.data_check import problems, responses_used_outside_stories
from bot.model import ROOT, TRAINING_INPUTS, fingerprint, model_path


def copy_training_data(target: Path) -> Path:
    for name in TRAINING_INPUTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_the_fingerprint_follows_content_not_time(tmp_path: Path) -> None:
    root = copy_training_data(tmp_path)
    before = fingerprint(root)
    assert before == fingerprint(ROOT)
    (root / "nlu" / "greetings.yml").touch()
    assert fingerprint(root) == before
    with open(root / "nlu" / "greetings.yml", "a", encoding="utf-8") as data:
        data.write("    - hoi daar werkmaatje\n")
    assert fingerprint(root) != before
    assert model_path(root).name == f"werkmaatje-{fingerprint(root)}.tar.gz"


def test_the_config_and_the_rasa_lock_are_part_of_the_fingerprint(tmp_path: Path) -> None:
    root = copy_training_data(tmp_path)
    before = fingerprint(root)
    (root / "config.yml").write_text((root / "config.yml").read_text() + "\n# changed\n")
    after_config = fingerprint(root)
    assert after_config != before
    lock = root / "requirements" / "rasa.lock"
    lock.write_text(lock.read_text() + "\n")
    assert fingerprint(root) != after_config


def test_responses_used_by_forms_and_actions_are_known() -> None:
    used = responses_used_outside_stories()
    assert {"utter_ask_first_name", "utter_ask_talent", "utter_ask_region"} <= used
    assert {"utter_profile_saved", "utter_invalid_region"} <= used


def test_only_rasas_false_unused_warnings_are_forgiven() -> None:
    output = "\n".join(
        [
            "/x/rasa/shared/utils/io.py:100: UserWarning: The utterance 'utter_ask_talent' "
            "is not used in any story or rule.",
            "/x/rasa/shared/utils/io.py:100: UserWarning: The utterance 'utter_forgotten' "
            "is not used in any story or rule.",
            "/x/rasa/shared/utils/io.py:100: UserWarning: Issue found in 'nlu/a.yml': "
            "intent 'greet' has duplicate examples",
        ]
    )
    found = problems(output, {"utter_ask_talent"})
    assert found == [
        "response utter_forgotten is never used",
        "Issue found in 'nlu/a.yml': intent 'greet' has duplicate examples",
    ]
