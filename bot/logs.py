"""Logging set-up: message bodies, names and tokens stay out of the logs."""

from __future__ import annotations

import logging


def configure_logging(level: str = "INFO") -> None:
    """Log to stderr at `level`; chatty HTTP client loggers only from WARNING."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # httpx logs every request URL, and a Bot API URL contains the bot token.
    for name in ("httpx", "httpcore", "telegram.ext.ExtBot", "apscheduler"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
