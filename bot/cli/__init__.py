"""The `werkmaatje` command: one module per command group, each adding its own sub-commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.cli import nudges, people, recruiters, serve, texts


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per task."""
    parser = argparse.ArgumentParser(
        prog="werkmaatje", description="Werkmaatje: a chatbot that helps job seekers find work."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (serve, people, recruiters, nudges, texts):
        group.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
