"""The held-out NLU set: complete per language, and never part of the training data."""

from __future__ import annotations

from collections import Counter

import yaml

from bench.nlu import HOLDOUT, split_by_language
from bot.cli.model import training_files
from core.paths import ROOT

CATALOGUE = [
    "greet", "goodbye", "affirm", "deny", "thank", "help", "bot_challenge", "out_of_scope",
    "start_intake", "inform", "share_talent", "share_development_point", "share_success",
    "feeling_down", "request_recruiter", "request_human", "ask_handover_status",
    "ask_elearning", "show_profile", "update_profile", "request_data_export",
    "request_data_deletion", "nudges_pause", "nudges_stop", "nudges_resume", "change_language",
    "ask_privacy", "faq/work_experience_place", "faq/trial_placement", "faq/learn_work_track",
    "faq/travel_costs", "faq/mention_health",
    # Added to the catalogue by the project (SPEC allows more intents).
    "withdraw_consent", "nudges_frequency",
]  # fmt: skip


def examples(block: dict[str, str]) -> list[str]:
    return [line.strip()[2:] for line in block["examples"].splitlines() if line.strip()]


def test_every_intent_has_at_least_eight_held_out_examples_per_language() -> None:
    for language, document in split_by_language().items():
        counts: Counter[str] = Counter()
        for block in document["nlu"]:
            counts[block["intent"]] += len(examples(block))
        short = {intent: counts[intent] for intent in CATALOGUE if counts[intent] < 8}
        assert short == {}, f"{language}: too few held-out examples for {short}"


def test_no_held_out_example_is_in_the_training_data() -> None:
    held_out = {
        text.lower()
        for block in yaml.safe_load(HOLDOUT.read_text("utf-8"))["nlu"]
        for text in examples(block)
    }
    training: set[str] = set()
    for path in training_files():
        if path.is_relative_to(ROOT / "nlu"):
            for block in yaml.safe_load(path.read_text("utf-8")).get("nlu") or []:
                if "examples" in block and isinstance(block["examples"], str):
                    training.update(text.lower() for text in examples(block))
    assert HOLDOUT not in training_files()
    assert held_out & training == set()
