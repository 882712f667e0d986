"""`werkmaatje run | gateway | actions | chat | train | db | data`: processes and Rasa tools."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bot.cli.common import Commands, command, group, upgrade_database
from core.settings import load_settings


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


def add_commands(commands: Commands[argparse.ArgumentParser]) -> None:
    """The commands that start processes, train, and check the data."""
    command(commands, "run", cmd_run, "start the whole bot")
    command(commands, "gateway", cmd_gateway, "serve only the gateway")
    command(commands, "actions", cmd_actions, "serve only the action server")
    chat = command(commands, "chat", cmd_chat, "chat in the terminal with the running bot")
    chat.add_argument("--url", help="the gateway's address (default: from GATEWAY_HOST/PORT)")
    chat.add_argument("--language", default="nl", help="nl (default) or en")
    command(commands, "train", cmd_train, "train a model if the data changed")
    db_commands = group(commands, "db", "database tools", "Database tools.")
    command(db_commands, "upgrade", cmd_db_upgrade, "create or migrate the tables")
    data_commands = group(commands, "data", "training data tools", "Training data tools.")
    command(data_commands, "validate", cmd_data_validate, "validate the training data")
    command(data_commands, "test", cmd_data_test, "run the conversation tests")
