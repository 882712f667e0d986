"""The `werkmaatje` command."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.orm import Session

from core.settings import Settings


def _settings() -> Settings:
    """The settings, or a clear message and exit when the configuration is wrong."""
    try:
        return Settings()
    except ValidationError as error:
        messages = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        sys.exit(f"Configuration error: {messages}")


def _upgrade_database(settings: Settings) -> bool:
    """Apply the migrations; False, with a message, when the database cannot be reached."""
    from sqlalchemy.exc import SQLAlchemyError

    from core.db import absolute_sqlite_url, make_engine
    from store.migrate import create_schema

    engine = make_engine(absolute_sqlite_url(settings.database_url))
    try:
        create_schema(engine)
    except SQLAlchemyError as error:
        print(f"The database could not be prepared: {type(error).__name__}", file=sys.stderr)
        return False
    finally:
        engine.dispose()
    return True


def cmd_run(args: argparse.Namespace) -> int:
    """Train if needed, start the action server, Rasa and the gateway, and wait."""
    from bot.cli import launcher
    from bot.cli.model import TrainingFailed, ensure_model

    settings = _settings()
    if not _upgrade_database(settings):
        return 1
    try:
        model = Path(settings.rasa_model) if settings.rasa_model else ensure_model()
    except TrainingFailed as error:
        print(error, file=sys.stderr)
        return 1

    services = [
        launcher.action_server(settings),
        launcher.rasa_server(settings, model),
        launcher.gateway(settings),
    ]
    started = time.monotonic()
    print("Starting the action server, Rasa (loading its model takes a minute) and the gateway…")
    print(f"Logs: {launcher.LOG_DIR}/")
    try:
        launcher.start_all(services)
    except launcher.StartupError as error:
        print(f"Werkmaatje could not start: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    url = f"http://{settings.gateway_host}:{settings.gateway_port}/chat"
    print(f"Werkmaatje is ready after {time.monotonic() - started:.0f} s.")
    print(f"  Web chat:  {url}")
    if settings.telegram_enabled:
        mode = (
            "webhook " + str(settings.telegram_webhook_url)
            if settings.telegram_webhook_url
            else "polling"
        )
        print(f"  Telegram:  on ({mode})")
    else:
        print("  Telegram:  off (set TELEGRAM_BOT_TOKEN to add it)")
    print("Press Ctrl-C to stop.")
    return launcher.wait_forever(services)


def cmd_gateway(args: argparse.Namespace) -> int:
    """Serve only the gateway (Rasa and the action server run elsewhere)."""
    from bot.gateway import main

    _settings()
    main()
    return 0


def cmd_actions(args: argparse.Namespace) -> int:
    """Serve only the action server."""
    import os

    from bot.cli import launcher

    settings = _settings()
    service = launcher.action_server(settings)
    os.execve(service.command[0], list(service.command), service.env)  # noqa: S606


def cmd_chat(args: argparse.Namespace) -> int:
    """Chat in the terminal with the running bot (start it first with `make run`)."""
    from bot.cli.terminal_chat import chat

    settings = _settings()
    base_url = args.url or f"http://{settings.gateway_host}:{settings.gateway_port}"
    return chat(base_url, language=args.language)


def cmd_train(args: argparse.Namespace) -> int:
    """Train a model unless one matches the current training data."""
    from bot.cli.model import TrainingFailed, ensure_model

    try:
        print(ensure_model())
    except TrainingFailed as error:
        print(error, file=sys.stderr)
        return 1
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Create the project's tables in DATABASE_URL, or migrate them to the newest schema."""
    if not _upgrade_database(_settings()):
        return 1
    print("The database is up to date.")
    return 0


def cmd_data_validate(args: argparse.Namespace) -> int:
    """Validate the domain, NLU data, stories and rules; any real warning fails."""
    from bot.cli.data_check import validate

    return validate()


def cmd_data_test(args: argparse.Namespace) -> int:
    """Run the conversation tests (tests/conversations) with `rasa test` on the current model."""
    from bot.cli.data_check import test_conversations

    return test_conversations()


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
        with session_scope(database_engine(_settings())) as session:
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
        with session_scope(database_engine(_settings())) as session:
            deleted = delete_sender(session, sender, reason="request")
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

    settings = _settings()
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


def _split(value: str | None) -> list[str]:
    """A comma-separated option as a list; add_recruiter strips and drops blanks."""
    return (value or "").split(",")


def cmd_recruiters_add(args: argparse.Namespace) -> int:
    """Register a recruiter who receives handovers for their regions and sectors."""
    from store.recruiters import add_recruiter

    def work(session: Session) -> str:
        recruiter = add_recruiter(
            session,
            name=args.name,
            organisation=args.organisation,
            regions=_split(args.regions),
            sectors=_split(args.sectors),
            languages=_split(args.languages),
            telegram_chat_id=args.telegram_chat_id,
            email=args.email,
            capacity_per_week=args.capacity,
        )
        pool = "" if recruiter.regions else " (default pool: no regions)"
        return f"Added recruiter {recruiter.id}: {recruiter.name}, {recruiter.organisation}{pool}."

    return _in_database(work)


def cmd_recruiters_list(args: argparse.Namespace) -> int:
    """List the recruiters with their regions, sectors, capacity and open handovers."""
    from store.recruiters import list_recruiters

    def work(session: Session) -> str:
        rows = list_recruiters(session)
        if not rows:
            return "No recruiters yet: add one with `werkmaatje recruiters add`."
        lines = []
        for recruiter, open_count in rows:
            reach = ", ".join(
                part
                for part in (
                    f"telegram {recruiter.telegram_chat_id}" if recruiter.telegram_chat_id else "",
                    recruiter.email or "",
                )
                if part
            )
            lines.append(
                f"{recruiter.id}\t{recruiter.name} ({recruiter.organisation})"
                f"{'' if recruiter.active else ' [disabled]'}\t"
                f"regions: {', '.join(recruiter.regions) or 'default pool'}\t"
                f"sectors: {', '.join(recruiter.sectors) or 'all'}\t"
                f"languages: {', '.join(recruiter.languages)}\t"
                f"{recruiter.capacity_per_week}/week, {open_count} open\t{reach}"
            )
        return "\n".join(lines)

    return _in_database(work)


def cmd_recruiters_disable(args: argparse.Namespace) -> int:
    """Stop routing new handovers to a recruiter; their open handovers stay with them."""
    from store.recruiters import disable_recruiter

    def work(session: Session) -> str:
        recruiter = disable_recruiter(session, args.id)
        return f"Recruiter {recruiter.id} ({recruiter.name}) gets no new handovers."

    return _in_database(work)


def cmd_recruiters_link(args: argparse.Namespace) -> int:
    """Print a new login link for a recruiter's page with their handovers; the recruiter's
    previous link stops working. Send it to the recruiter only: whoever has it is logged in."""
    from store.models import Recruiter
    from store.recruiters import issue_login_token

    base_url = _settings().public_base_url.rstrip("/")

    def work(session: Session) -> str:
        recruiter = session.get(Recruiter, args.id)
        if recruiter is None:
            raise LookupError(f"there is no recruiter {args.id}")
        if not recruiter.active:
            raise ValueError(f"recruiter {args.id} is disabled, so a login link would not work")
        token = issue_login_token(session, recruiter.id)
        return (
            f"Login link to the recruiter page for {recruiter.name} ({recruiter.organisation}); "
            "it replaces any earlier link, so send it to them only:\n"
            f"{base_url}/recruiter/login?token={token}"
        )

    return _in_database(work)


def cmd_nudges_status(args: argparse.Namespace) -> int:
    """Show how the nudges stand: jobs scheduled and due now, nudges queued for sending, and
    today's (Amsterdam) sent, failed, blocked, missed and cancelled ones."""
    from core.time import utcnow
    from store.nudge_sync import status_counts

    def work(session: Session) -> str:
        counts = status_counts(session, utcnow())
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

    return _in_database(work)


def cmd_nudges_catalogue_check(args: argparse.Namespace) -> int:
    """Check the catalogue of e-learning modules and encouraging messages (store/nudges.yml
    unless --file names another): unique ids, Dutch and English texts, https links, known
    topics, declared placeholders and no health words. Each problem goes to stderr, exit 2."""
    from store.nudge_catalogue import DEFAULT_CATALOGUE, CatalogueError, load_catalogue

    path = args.file or DEFAULT_CATALOGUE
    try:
        catalogue = load_catalogue(path)
    except CatalogueError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"{len(error.problems)} problem(s) in {path}.", file=sys.stderr)
        return 2
    print(
        f"Catalogue OK: {len(catalogue.modules)} modules, "
        f"{len(catalogue.encouragements)} encouragements (nl and en)."
    )
    return 0


def _in_database(work: Callable[[Session], str]) -> int:
    """Run `work` in a transaction on the configured database and print what it says."""
    from sqlalchemy.exc import SQLAlchemyError

    from core.db import database_engine, session_scope

    settings = _settings()
    if not _upgrade_database(settings):
        return 1
    try:
        with session_scope(database_engine(settings)) as session:
            print(work(session))
    except (ValueError, LookupError) as error:
        print(error.args[0] if error.args else type(error).__name__, file=sys.stderr)
        return 2
    except SQLAlchemyError as error:
        print(f"The database could not be changed: {type(error).__name__}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per task."""
    parser = argparse.ArgumentParser(
        prog="werkmaatje", description="Werkmaatje: a chatbot that helps job seekers find work."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="start the whole bot", description=cmd_run.__doc__)
    run.set_defaults(func=cmd_run)
    gateway = commands.add_parser(
        "gateway", help="serve only the gateway", description=cmd_gateway.__doc__
    )
    gateway.set_defaults(func=cmd_gateway)
    actions = commands.add_parser(
        "actions", help="serve only the action server", description=cmd_actions.__doc__
    )
    actions.set_defaults(func=cmd_actions)
    chat = commands.add_parser(
        "chat", help="chat in the terminal with the running bot", description=cmd_chat.__doc__
    )
    chat.add_argument("--url", help="the gateway's address (default: from GATEWAY_HOST/PORT)")
    chat.add_argument("--language", default="nl", help="nl (default) or en")
    chat.set_defaults(func=cmd_chat)
    train = commands.add_parser(
        "train", help="train a model if the data changed", description=cmd_train.__doc__
    )
    train.set_defaults(func=cmd_train)
    db = commands.add_parser("db", help="database tools", description="Database tools.")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    db_upgrade = db_commands.add_parser(
        "upgrade", help="create or migrate the tables", description=cmd_db_upgrade.__doc__
    )
    db_upgrade.set_defaults(func=cmd_db_upgrade)
    data = commands.add_parser(
        "data", help="training data tools", description="Training data tools."
    )
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="COMMAND")
    data_validate = data_commands.add_parser(
        "validate", help="validate the training data", description=cmd_data_validate.__doc__
    )
    data_validate.set_defaults(func=cmd_data_validate)
    data_test = data_commands.add_parser(
        "test", help="run the conversation tests", description=cmd_data_test.__doc__
    )
    data_test.set_defaults(func=cmd_data_test)
    export = commands.add_parser(
        "export", help="print a person's data as JSON", description=cmd_export.__doc__
    )
    export.add_argument("identity", metavar="CHANNEL:ID", help="for example telegram:123456")
    export.set_defaults(func=cmd_export)
    delete = commands.add_parser(
        "delete", help="delete everything stored about a person", description=cmd_delete.__doc__
    )
    delete.add_argument("identity", metavar="CHANNEL:ID", help="for example telegram:123456")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(func=cmd_delete)
    retention = commands.add_parser(
        "retention", help="retention of personal data", description="Retention tools."
    )
    retention_commands = retention.add_subparsers(
        dest="retention_command", required=True, metavar="COMMAND"
    )
    retention_run = retention_commands.add_parser(
        "run",
        help="delete what is past its retention period",
        description=cmd_retention_run.__doc__,
    )
    retention_run.add_argument(
        "--dry-run", action="store_true", help="only count what would be deleted"
    )
    retention_run.set_defaults(func=cmd_retention_run)
    recruiters = commands.add_parser(
        "recruiters", help="manage recruiters", description="Manage the recruiters."
    )
    recruiter_commands = recruiters.add_subparsers(
        dest="recruiters_command", required=True, metavar="COMMAND"
    )
    add = recruiter_commands.add_parser(
        "add", help="register a recruiter", description=cmd_recruiters_add.__doc__
    )
    add.add_argument("--name", required=True)
    add.add_argument("--organisation", required=True)
    add.add_argument(
        "--regions", help="places and/or provinces, comma-separated; none = default pool"
    )
    add.add_argument("--sectors", help="comma-separated, e.g. zorg,logistiek; none = all")
    add.add_argument("--languages", default="nl", help="nl, en or nl,en (default nl)")
    add.add_argument("--telegram-chat-id", help="the recruiter's Telegram chat id")
    add.add_argument("--email", help="the recruiter's e-mail address")
    add.add_argument("--capacity", type=int, default=5, help="handovers per week (default 5)")
    add.set_defaults(func=cmd_recruiters_add)
    listing = recruiter_commands.add_parser(
        "list", help="list the recruiters", description=cmd_recruiters_list.__doc__
    )
    listing.set_defaults(func=cmd_recruiters_list)
    disable = recruiter_commands.add_parser(
        "disable", help="stop routing to a recruiter", description=cmd_recruiters_disable.__doc__
    )
    disable.add_argument("id", type=int, help="the recruiter's number from `recruiters list`")
    disable.set_defaults(func=cmd_recruiters_disable)
    link = recruiter_commands.add_parser(
        "link",
        help="print a new login link for a recruiter's page",
        description=cmd_recruiters_link.__doc__,
    )
    link.add_argument("id", type=int, help="the recruiter's number from `recruiters list`")
    link.set_defaults(func=cmd_recruiters_link)
    _add_nudges_commands(commands)
    return parser


def _add_nudges_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `nudges` command group: encouragement and e-learning nudges."""
    nudges = commands.add_parser(
        "nudges",
        help="encouragement and e-learning nudges",
        description="Encouraging messages and e-learning suggestions that keep people going.",
    )
    nudge_commands = nudges.add_subparsers(dest="nudges_command", required=True, metavar="COMMAND")
    catalogue = nudge_commands.add_parser(
        "catalogue",
        help="the catalogue of modules and messages",
        description="The catalogue of e-learning modules and encouraging messages.",
    )
    catalogue_commands = catalogue.add_subparsers(
        dest="catalogue_command", required=True, metavar="COMMAND"
    )
    check = catalogue_commands.add_parser(
        "check", help="check the catalogue file", description=cmd_nudges_catalogue_check.__doc__
    )
    check.add_argument(
        "--file",
        type=Path,
        metavar="PATH",
        help="the catalogue file to check (default: store/nudges.yml)",
    )
    check.set_defaults(func=cmd_nudges_catalogue_check)
    status = nudge_commands.add_parser(
        "status", help="counts of scheduled, due, sent and failed nudges",
        description=cmd_nudges_status.__doc__,
    )  # fmt: skip
    status.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    status.set_defaults(func=cmd_nudges_status)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
