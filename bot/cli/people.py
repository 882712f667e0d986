"""`werkmaatje export | delete | retention`: a person's data rights and the retention run."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.common import Commands, command, group
from core.settings import load_settings


def _person(identity: str) -> tuple[str, str] | None:
    """CHANNEL and ID from the command line's CHANNEL:ID, or None after saying how to write it."""
    from store.profiles import split_sender

    try:
        return split_sender(identity)
    except ValueError:
        print("Give the person as CHANNEL:ID, for example telegram:123456.", file=sys.stderr)
        return None


def cmd_export(args: argparse.Namespace) -> int:
    """Print everything stored about one person as JSON."""
    from sqlalchemy.exc import SQLAlchemyError

    from core.db import database_engine, session_scope
    from store.export import export_job_seeker

    person = _person(args.identity)
    if person is None:
        return 2
    channel, user_id = person
    try:
        with session_scope(database_engine(load_settings())) as session:
            data = export_job_seeker(session=session, channel=channel, channel_user_id=user_id)
    except LookupError:
        print(f"Nothing is stored for {channel}:{user_id}.", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        print(f"The database could not be read: {type(error).__name__}", file=sys.stderr)
        return 1
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    """Delete everything stored about one person: profile, consents, success moments,
    handovers (the recruiter is told the candidate withdrew), nudges, pending messages and
    the conversation history. Only an anonymous note that a deletion happened is kept."""
    from sqlalchemy.exc import SQLAlchemyError

    from core.db import database_engine, session_scope
    from store.deletion import delete_sender

    person = _person(args.identity)
    if person is None:
        return 2
    sender = ":".join(person)
    if not args.yes:
        if not sys.stdin.isatty():
            print("Add --yes to delete without a question.", file=sys.stderr)
            return 2
        answer = input(f"Delete everything stored about {sender}? Type 'yes': ")
        if answer.strip().lower() != "yes":
            print("Nothing was deleted.")
            return 1
    try:
        with session_scope(database_engine(load_settings())) as session:
            deleted = delete_sender(sender, session=session, reason="request")
    except SQLAlchemyError as error:
        print(f"The database could not be changed: {type(error).__name__}", file=sys.stderr)
        return 1
    if not deleted.job_seekers and not deleted.events:
        print(f"Nothing is stored for {sender}.", file=sys.stderr)
        return 1
    print(
        f"Deleted {sender}: {deleted.job_seekers} profile(s), {deleted.events} conversation "
        f"event(s), {deleted.jobs} scheduled job(s); {deleted.recruiters_told} recruiter(s) told."
    )
    return 0


def cmd_retention_run(args: argparse.Namespace) -> int:
    """Delete the data whose retention period has passed (the gateway does this daily)."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.delivery.retention import retention_policy, run_retention_now

    settings = load_settings()
    try:
        result = run_retention_now(settings, dry_run=args.dry_run)
    except SQLAlchemyError as error:
        print(f"The database could not be changed: {type(error).__name__}", file=sys.stderr)
        return 1
    verb = "Would delete" if args.dry_run else "Deleted"
    policy = retention_policy(settings)
    print(
        f"{verb} {result.job_seekers} profile(s) and {result.conversations} conversation(s) "
        f"without consent (periods: {policy.inactive_days} days inactive, "
        f"{policy.after_handover_days} days after a handover without placement, "
        f"{policy.no_consent_hours} hours without consent)."
    )
    return 0


def add_commands(commands: Commands[argparse.ArgumentParser]) -> None:
    """The commands for a person's data."""
    export = command(commands, "export", cmd_export, "print a person's data as JSON")
    export.add_argument("identity", metavar="CHANNEL:ID", help="for example telegram:123456")
    delete = command(commands, "delete", cmd_delete, "delete everything stored about a person")
    delete.add_argument("identity", metavar="CHANNEL:ID", help="for example telegram:123456")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    retention_commands = group(
        commands, "retention", "retention of personal data", "Retention tools."
    )
    retention_run = command(
        retention_commands, "run", cmd_retention_run, "delete what is past its retention period"
    )
    retention_run.add_argument(
        "--dry-run", action="store_true", help="only count what would be deleted"
    )
