"""`werkmaatje nudges`: the status of the nudges and the check of their catalogue."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sqlalchemy.orm import Session

from bot.cli.common import Commands, command, group, in_database, report_problems


def cmd_nudges_status(args: argparse.Namespace) -> int:
    """Show how the nudges stand: jobs scheduled and due now, nudges queued for sending, and
    today's (Amsterdam) sent, failed, blocked, missed and cancelled ones."""
    from core.time import utcnow
    from store.nudge_sync import status_counts

    def work(session: Session) -> str:
        counts = status_counts(utcnow(), session=session)
        if args.json:
            return json.dumps(counts)
        return "\n".join(
            [
                f"scheduled      {counts['scheduled']:>8}  people with a nudge job",
                f"due            {counts['due']:>8}  jobs due now, not yet run",
                f"queued         {counts['queued']:>8}  nudges waiting to be sent",
                f"sent today     {counts['sent_today']:>8}",
                f"failed today   {counts['failed_today']:>8}",
                f"blocked today  {counts['blocked_today']:>8}  people who blocked the bot",
                f"missed today   {counts['missed_today']:>8}  due while the gateway was down",
                f"cancelled today{counts['cancelled_today']:>8}  stopped or paused before sending",
            ]
        )

    return in_database(work)


def cmd_nudges_catalogue_check(args: argparse.Namespace) -> int:
    """Check the catalogue of e-learning modules and encouraging messages (store/nudges.yml
    unless --file names another): unique ids, Dutch and English texts, https links, known
    topics, declared placeholders and no health words. Each problem goes to stderr, exit 2."""
    from store.nudge_catalogue import DEFAULT_CATALOGUE, CatalogueError, load_catalogue

    path = args.file or DEFAULT_CATALOGUE
    try:
        catalogue = load_catalogue(path)
    except CatalogueError as error:
        return report_problems(error.problems, path)
    print(
        f"Catalogue OK: {len(catalogue.modules)} modules, "
        f"{len(catalogue.encouragements)} encouragements (nl and en)."
    )
    return 0


def add_commands(commands: Commands[argparse.ArgumentParser]) -> None:
    """The `nudges` command group: encouragement and e-learning nudges."""
    nudge_commands = group(
        commands,
        "nudges",
        "encouragement and e-learning nudges",
        "Encouraging messages and e-learning suggestions that keep people going.",
    )
    catalogue_commands = group(
        nudge_commands,
        "catalogue",
        "the catalogue of modules and messages",
        "The catalogue of e-learning modules and encouraging messages.",
    )
    check = command(
        catalogue_commands, "check", cmd_nudges_catalogue_check, "check the catalogue file"
    )
    check.add_argument(
        "--file",
        type=Path,
        metavar="PATH",
        help="the catalogue file to check (default: store/nudges.yml)",
    )
    status = command(
        nudge_commands,
        "status",
        cmd_nudges_status,
        "counts of scheduled, due, sent and failed nudges",
    )
    status.add_argument("--json", action="store_true", help="one JSON object instead of a table")
