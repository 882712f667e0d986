"""The model's fingerprint and the training-data check."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.cli.data_check import domain_documents, problems, responses_used_outside_stories
from bot.cli.model import TRAINING_INPUTS, fingerprint, model_path
from core.paths import ROOT


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
    assert {"utter_ask_first_name", "utter_ask_talents", "utter_ask_contact_preference"} <= used
    assert {"utter_profile_sketch", "utter_invalid_hours", "utter_celebrate_not_stored"} <= used
    assert "utter_welcome" not in used


def test_only_rasas_false_unused_warnings_are_forgiven() -> None:
    output = "\n".join(
        [
            "/x/rasa/shared/utils/io.py:100: UserWarning: The utterance 'utter_ask_talent' "
            "is not used in any story or rule.",
            "/x/rasa/shared/utils/io.py:100: UserWarning: The utterance 'utter_forgotten' "
            "is not used in any story or rule.",
            "/x/rasa/shared/utils/io.py:100: UserWarning: Issue found in 'nlu/a.yml': "
            "intent 'greet' has duplicate examples",
            "/x/rasa/shared/utils/io.py:100: UserWarning: The following duplicated intents "
            "have been found across multiple domain files: faq",
            "/x/rasa/shared/utils/io.py:100: UserWarning: The following duplicated intents "
            "have been found across multiple domain files: greet",
            "/x/rasa/shared/utils/io.py:100: UserWarning: Issue found in 'stories/a.yml': ",
            "Found intent 'nope' in stories which is not part of the domain.",
        ]
    )
    found = problems(output, {"utter_ask_talent"}, frozenset({"faq"}))
    assert found == [
        "response utter_forgotten is never used",
        "Issue found in 'nlu/a.yml': intent 'greet' has duplicate examples",
        "The following duplicated intents have been found across multiple domain files: greet",
        "Issue found in 'stories/a.yml': Found intent 'nope' in stories which is not part of "
        "the domain.",
    ]


def test_every_response_exists_in_dutch_and_english() -> None:
    responses: dict[str, list[dict[str, object]]] = {}
    for document in domain_documents():
        responses.update(document.get("responses") or {})
    assert len(responses) > 40
    for name, variations in responses.items():
        english = [v for v in variations if v.get("condition")]
        dutch = [v for v in variations if not v.get("condition")]
        assert len(dutch) == 1, f"{name}: needs exactly one Dutch default variation"
        assert [v["condition"] for v in english] == [
            [{"type": "slot", "name": "language", "value": "en"}]
        ], f"{name}: needs one English variation"
        assert bool(english[0].get("buttons")) == bool(dutch[0].get("buttons")), name
