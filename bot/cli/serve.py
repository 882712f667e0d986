"""`werkmaatje run | gateway | actions | chat | train | db | data`: processes and Rasa tools."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bot.cli.common import load_settings, upgrade_database


def cmd_run(args: argparse.Namespace) -> int:
    """Train if needed, start the action server, Rasa and the gateway, and wait."""
    from bot.cli import launcher
    from bot.cli.model import TrainingFailed, ensure_model

    settings = load_settings()
    if not upgrade_database(settings):
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

    load_settings()
    main()
    return 0


def cmd_actions(args: argparse.Namespace) -> int:
    """Serve only the action server."""
    import os

    from bot.cli import launcher

    settings = load_settings()
    service = launcher.action_server(settings)
    os.execve(service.command[0], list(service.command), service.env)  # noqa: S606


def cmd_chat(args: argparse.Namespace) -> int:
    """Chat in the terminal with the running bot (start it first with `make run`)."""
    from bot.cli.terminal_chat import chat

    settings = load_settings()
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
    if not upgrade_database(load_settings()):
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


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The commands that start processes, train, and check the data."""
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
