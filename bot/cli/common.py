"""What the `werkmaatje` commands share: the settings, the database made ready, a transaction."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from sqlalchemy.orm import Session

from core.settings import Settings, load_settings


def upgrade_database(settings: Settings) -> bool:
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


def in_database(work: Callable[[Session], str]) -> int:
    """Run `work` in a transaction on the configured database and print what it says."""
    from sqlalchemy.exc import SQLAlchemyError

    from core.db import database_engine, session_scope

    settings = load_settings()
    if not upgrade_database(settings):
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


Commands = argparse._SubParsersAction  # the sub-commands of a parser (argparse's own type)


def report_problems(problems: list[str], where: object) -> int:
    """Each problem of a checked file on stderr, then how many: exit code 2."""
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(problems)} problem(s) in {where}.", file=sys.stderr)
    return 2


def command(
    commands: Commands[argparse.ArgumentParser],
    name: str,
    func: Callable[[argparse.Namespace], int],
    help: str,
) -> argparse.ArgumentParser:
    """A sub-command that runs `func`, described by `func`'s docstring."""
    parser = commands.add_parser(name, help=help, description=func.__doc__)
    parser.set_defaults(func=func)
    return parser


def group(
    commands: Commands[argparse.ArgumentParser], name: str, help: str, description: str
) -> Commands[argparse.ArgumentParser]:
    """A command group (`werkmaatje <name> COMMAND`); its own sub-commands are added to it."""
    parser = commands.add_parser(name, help=help, description=description)
    return parser.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND")
