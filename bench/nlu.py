"""NLU quality per language on the held-out set: intent macro-F1, entity F1, top confusions.

`rasa test nlu` runs once per language on the part of tests/nlu_holdout.yml whose blocks carry
`metadata: {language: nl|en}`. The held-out set is never used in training (bot/cli/model.py trains
from nlu/ only).
"""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bot.cli.model import model_path, rasa_env
from core.paths import RASA_BIN, ROOT

logger = logging.getLogger(__name__)

HOLDOUT = ROOT / "tests" / "nlu_holdout.yml"
LANGUAGES = ("nl", "en")
INTENT_TARGET = 0.92
ENTITY_TARGET = 0.85


def split_by_language(path: Path = HOLDOUT, style: str | None = None) -> dict[str, dict[str, Any]]:
    """The held-out data as one NLU document per language; only the blocks of one `style`
    ("chat": typed as people chat, written apart from the rest) when given."""
    data = yaml.safe_load(path.read_text("utf-8"))
    documents: dict[str, dict[str, Any]] = {
        language: {"version": data.get("version", "3.1"), "nlu": []} for language in LANGUAGES
    }
    for block in data["nlu"]:
        language = (block.get("metadata") or {}).get("language")
        if language not in documents:
            raise ValueError(f"block {block.get('intent')!r} has no language nl/en")
        if style is not None and (block.get("metadata") or {}).get("style") != style:
            continue
        documents[language]["nlu"].append(
            {"intent": block["intent"], "examples": block["examples"]}
        )
    return documents


def _count_examples(document: dict[str, Any]) -> int:
    return sum(
        len([line for line in block["examples"].splitlines() if line.strip().startswith("- ")])
        for block in document["nlu"]
    )


def evaluate(language: str, document: dict[str, Any], model: Path, out: Path) -> dict[str, Any]:
    """Run `rasa test nlu` on one language's examples and read its reports."""
    data_file = out / f"holdout_{language}.yml"
    data_file.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "utf-8")
    results = out / f"results_{language}"
    command = [
        str(RASA_BIN), "test", "nlu",
        "--nlu", str(data_file),
        "--model", str(model),
        "--out", str(results),
        "--no-plot",
    ]  # fmt: skip
    logger.info("rasa test nlu (%s, %s examples)", language, _count_examples(document))
    completed = subprocess.run(
        command, cwd=ROOT, env=rasa_env(), capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"rasa test nlu failed:\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}"
        )
    intents = json.loads((results / "intent_report.json").read_text("utf-8"))
    entities_path = results / "DIETClassifier_report.json"
    entities = json.loads(entities_path.read_text("utf-8")) if entities_path.exists() else {}
    confusions = sorted(
        (
            (count, intent, other)
            for intent, report in intents.items()
            if isinstance(report, dict) and "confused_with" in report
            for other, count in report["confused_with"].items()
        ),
        reverse=True,
    )
    per_entity = {
        name: round(report["f1-score"], 3)
        for name, report in entities.items()
        if isinstance(report, dict)
        and name not in ("micro avg", "macro avg", "weighted avg")
        and "f1-score" in report
    }
    return {
        "intent_macro_f1": intents["macro avg"]["f1-score"],
        "intent_accuracy": intents.get("accuracy"),
        "entity_f1": (entities.get("micro avg") or {}).get("f1-score"),
        "per_entity_f1": per_entity,
        "n": _count_examples(document),
        "confusions": [
            {"intent": intent, "predicted": other, "count": count}
            for count, intent, other in confusions[:8]
        ],
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def run(model: Path | None = None) -> list[dict[str, Any]]:
    """Evaluate both languages, on the whole held-out set and on its chat part; returns the
    JSON lines to print (the chat part's figures end in `_chat`)."""
    model = model or model_path()
    lines: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="werkmaatje-nlu-") as tmp:
        parts = [
            (f"{language}{suffix}", document)
            for suffix, style in (("", None), ("_chat", "chat"))
            for language, document in split_by_language(style=style).items()
            if document["nlu"]
        ]
        for language, document in parts:
            result = evaluate(language, document, model, Path(tmp))
            lines.append(
                {
                    "figure": f"nlu_intent_macro_f1_{language}",
                    "value": round(result["intent_macro_f1"], 4),
                    "n": result["n"],
                    "target": INTENT_TARGET,
                }
            )
            lines.append(
                {
                    "figure": f"nlu_entity_f1_{language}",
                    "value": None
                    if result["entity_f1"] is None
                    else round(result["entity_f1"], 4),
                    "per_entity": result["per_entity_f1"],
                    "n": result["n"],
                    "target": ENTITY_TARGET,
                }
            )
            lines.append(
                {"figure": f"nlu_top_confusions_{language}", "value": result["confusions"]}
            )
    return lines
