"""The health filter: diagnoses are recognised, job words are not."""

from __future__ import annotations

import pytest

from core.privacy import mentions_health

# --- the health filter ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ik heb borstkanker gehad",
        "na de chemokuur ben ik moe",
        "na mijn chemo heb ik weer gewerkt",
        "ik had een burn-out",
        "Burnout",
        "ik zit thuis met een depressie",
        "ik heb ms",
        "I have MS.",
        "ik was lang ziek",
        "door mijn behandeling",
        "ik heb een chronische ziekte",
        "ik heb diabetes",
        "ik zit in een rolstoel",
        "I had cancer",
        "I was diagnosed with depression",
        "after my treatment I stopped working",
        "I have a chronic illness",
        "I had a stroke",
    ],
)
def test_mentions_health_catches_diagnoses(text: str) -> None:
    assert mentions_health(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "ziekenverzorgende",
        "ik wil werken als ziekenverzorgende",
        "gehandicaptenzorg",
        "ik wil in de zorg werken",
        "ik wil in een ziekenhuis werken",
        "blind typen",
        "I want to add this",
        "mschien later",
        "I can write computer programs",
        "ik kan goed plannen",
        "",
        None,
    ],
)
def test_mentions_health_leaves_job_words_alone(text: str | None) -> None:
    assert mentions_health(text) is False
