"""The action server: rasa-sdk's app, with our logging and an error answer without the request.

`python -m actions.server --actions actions -p 5055` replaces `python -m rasa_sdk`, which
answers an error with the whole request body (the tracker, with everything the person said) and
logs the tracker's events at DEBUG. Here:

- logging goes through `core.logs.configure_logging` (redacting filter, libraries pinned), and
  rasa-sdk's loggers stay at INFO at most, also when LOG_LEVEL=DEBUG;
- an error is answered `{"error": "..."}` without the request body, and logged with its
  exception type and stack frames, not its message (which can quote what someone typed);
- the settings are read once at start-up (a wrong configuration stops the server with a
  message, as it stops the gateway), and the actions get their database engine from them.

Host and workers as in rasa-sdk: SANIC_HOST (default 0.0.0.0) and SANIC_WORKERS (default 1).
"""

from __future__ import annotations

import argparse
import http
import logging
import os
import re
import time
import traceback
from collections.abc import Sequence
from typing import Any

from rasa_sdk import utils
from rasa_sdk.cli.arguments import action_arg
from rasa_sdk.constants import DEFAULT_SERVER_PORT
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.common import use_database
from core.db import database_engine
from core.logs import configure_logging
from core.settings import load_settings

logger = logging.getLogger("actions.server")  # also when run as __main__

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_ACTION_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


def _action_name(request: Request) -> str:
    """The action a /webhook call names, when it is plainly an action name; else "-"."""
    try:
        call: Any = request.json
    except Exception:
        return "-"
    name = call.get("next_action") if isinstance(call, dict) else None
    return name if isinstance(name, str) and _ACTION_NAME.match(name) else "-"


async def on_error(request: Request, exception: Exception) -> HTTPResponse:
    """Any error: `{"error": ...}` with the status, never the request body or the message."""
    if isinstance(exception, SanicException):
        # Sanic's own errors (unknown route, bad JSON): the status says enough.
        status = int(exception.status_code)
        return response.json({"error": http.HTTPStatus(status).phrase}, status=status)
    frames = "".join(traceback.format_tb(exception.__traceback__))
    logger.error(
        "Action %s failed: %s\n%s", _action_name(request), type(exception).__name__, frames
    )
    body = {"error": f"The action server failed ({type(exception).__name__}); see its log."}
    return response.json(body, status=500)


async def _start_timer(request: Request) -> None:
    request.ctx.started = time.perf_counter()


async def _log_call(request: Request, answer: HTTPResponse) -> None:
    if request.path != "/webhook" or not logger.isEnabledFor(logging.DEBUG):
        return
    started = getattr(request.ctx, "started", time.perf_counter())
    logger.debug(
        "Action %s: request %d bytes, answer %s with %d bytes in %.3f s",
        _action_name(request),
        len(request.body or b""),
        answer.status,
        len(answer.body or b""),
        time.perf_counter() - started,
    )


def build_app(actions: str, cors_origins: str | list[str] | None = None) -> Sanic:
    """rasa-sdk's app for the `actions` package, with our error handler and call log."""
    app = create_app(actions, cors_origins=cors_origins)
    # Registered after rasa-sdk's handler for Exception, so it replaces that one.
    app.exception(Exception)(on_error)
    app.on_request(_start_timer)
    app.on_response(_log_call)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    return app


def configure_server_logging(level: str) -> None:
    """Our logging set-up (rasa-sdk is pinned at INFO or above there); Sanic writes through
    the root's (filtered) handler."""
    configure_logging(level)
    root_level = logging.getLogger().level
    for name in ("sanic.root", "sanic.error", "sanic.access"):
        sanic_logger = logging.getLogger(name)
        sanic_logger.handlers.clear()
        sanic_logger.propagate = True
        sanic_logger.setLevel(max(logging.WARNING, root_level))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line: rasa-sdk's --actions, -p/--port and --cors, plus --log-level."""
    parser = argparse.ArgumentParser(
        prog="python -m actions.server", description="Serve the Werkmaatje custom actions."
    )
    parser.add_argument("--actions", type=action_arg, default="actions")
    parser.add_argument("-p", "--port", type=int, default=DEFAULT_SERVER_PORT)
    parser.add_argument("--cors", nargs="*", default=None, help="allowed CORS origins")
    parser.add_argument(
        "--log-level", choices=LOG_LEVELS, default=None, help="default: LOG_LEVEL, else INFO"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the action server until stopped."""
    args = parse_args(argv)
    settings = load_settings()
    configure_server_logging(args.log_level or settings.log_level)
    # rasa-sdk makes the actions itself: they open their sessions on the engine given here,
    # once (one pool per worker; no connection is opened before Sanic forks its workers).
    use_database(database_engine(settings))
    app = build_app(args.actions, cors_origins=args.cors)
    host = os.environ.get("SANIC_HOST", "0.0.0.0")  # noqa: S104 - as rasa-sdk; compose needs it
    logger.info("Action server on http://%s:%s", host, args.port)
    app.run(
        host,
        args.port,
        workers=utils.number_of_sanic_workers(),
        access_log=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
