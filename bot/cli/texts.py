"""`werkmaatje texts`: the check of the text catalogue (core/texts/)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.common import Commands, command, group, report_problems


def cmd_texts_check(args: argparse.Namespace) -> int:
    """Check the text catalogue (core/texts/*.yml unless --dir names another folder): every
    text in Dutch and English, its fields declared and used, no health words. Each problem goes
    to stderr, exit 2."""
    from core.texts import TEXTS_DIR, load_texts

    directory: Path = args.dir or TEXTS_DIR
    catalogue, problems = load_texts(directory)
    if problems:
        return report_problems(problems, directory)
    audiences = sorted({key.split(".", 1)[0] for key in catalogue})
    print(f"Texts OK: {len(catalogue)} texts (nl and en) for {', '.join(audiences)}.")
    return 0


def add_commands(commands: Commands[argparse.ArgumentParser]) -> None:
    """The `texts` command group: the catalogue of texts outside Rasa's domain."""
    texts_commands = group(
        commands,
        "texts",
        "the catalogue of texts outside Rasa's domain",
        "The texts the gateway, the delivery and the pages show (core/texts/).",
    )
    check = command(texts_commands, "check", cmd_texts_check, "check the text catalogue")
    check.add_argument("--dir", type=Path, help="a folder of *.yml files (default: core/texts)")
