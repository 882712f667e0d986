"""Logging set-up: message bodies, names and tokens stay out of the logs.

Our own log lines name only ids, counts and lengths, never what someone typed. Two safety nets
catch what slips through (a library's message, an exception text in a traceback):

- `RedactingFilter` rewrites every record before it is written: phone numbers, e-mail
  addresses and health words (`core.privacy`) become placeholders;
- third-party loggers that put request bodies, SQL parameters or URLs with the bot token in
  their DEBUG (or INFO) lines stay at INFO or WARNING, also when LOG_LEVEL=DEBUG.
"""

from __future__ import annotations

import logging
import re

from core.privacy import redact_health

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

# The lowest level each chatty library may log at, whatever LOG_LEVEL says.
LIBRARY_LEVELS: dict[str, int] = {
    "httpx": logging.WARNING,  # every request URL; a Bot API URL holds the bot token
    "httpcore": logging.WARNING,  # request and response bytes at DEBUG
    "hpack": logging.WARNING,  # HTTP/2 headers at DEBUG, the webhook secret among them
    "aiohttp": logging.WARNING,  # the Bot API's and Rasa's client: connection details at DEBUG
    "telegram": logging.INFO,  # each update and each Bot API call's parameters at DEBUG
    "telegram.ext": logging.INFO,
    "uvicorn.access": logging.WARNING,  # request lines
    "apscheduler": logging.WARNING,  # job names and arguments
    "sqlalchemy.engine": logging.WARNING,  # SQL parameters at INFO, result rows at DEBUG
    "asyncio": logging.INFO,
    "rasa_sdk": logging.INFO,  # the tracker, slot values and events at DEBUG
    "sanic": logging.WARNING,
}

# Loggers that write through handlers of their own (uvicorn's, Sanic's) instead of the root's:
# the filter goes on the logger itself, which a later dictConfig leaves in place.
# (Access loggers are left out: their formatters need the record's arguments, and they are
# pinned at WARNING anyway.)
OWN_HANDLER_LOGGERS = ("uvicorn", "uvicorn.error", "sanic.root", "sanic.error")

PHONE_PLACEHOLDER = "[phone]"
EMAIL_PLACEHOLDER = "[e-mail]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A run of digits, spaces, hyphens and brackets that starts like a phone number (+, 00, 0 or
# "(0"); it is a phone number when it holds at least 9 digits. Chat and update ids never
# start with 0 or +, so they stay readable.
_PHONE_CANDIDATE = re.compile(r"(?<![\w.+-])(?:\+|\(?0)[\d ()-]{7,}\d(?!\w)")
_MIN_PHONE_DIGITS = 9


def _redact_phone(match: re.Match[str]) -> str:
    digits = sum(character.isdigit() for character in match.group(0))
    return PHONE_PLACEHOLDER if digits >= _MIN_PHONE_DIGITS else match.group(0)


def redact(text: str) -> str:
    """`text` without phone numbers, e-mail addresses and health words."""
    text = _EMAIL.sub(EMAIL_PLACEHOLDER, text)
    text = _PHONE_CANDIDATE.sub(_redact_phone, text)
    return redact_health(text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, traceback and stack with `redact`; drops nothing."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place, so every handler after this one writes the redacted text."""
        try:
            message = record.getMessage()
            redacted = redact(message)
        except Exception:
            # A broken format string: logging would print the arguments to stderr.
            message, redacted = "", "(a log message that could not be formatted)"
        if redacted != message:
            # Left alone otherwise: some formatters (uvicorn's) read the arguments.
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _install_filter(target: logging.Filterer, log_filter: RedactingFilter) -> None:
    if not any(isinstance(existing, RedactingFilter) for existing in target.filters):
        target.addFilter(log_filter)


def configure_logging(level: str = "INFO") -> None:
    """Log to stderr at `level`, redacted; chatty libraries only from their pinned level."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    root = logging.getLogger()
    root.setLevel(level)
    log_filter = RedactingFilter()
    for handler in root.handlers:
        _install_filter(handler, log_filter)
    for name in OWN_HANDLER_LOGGERS:
        _install_filter(logging.getLogger(name), log_filter)
    for name, floor in LIBRARY_LEVELS.items():
        logging.getLogger(name).setLevel(max(floor, root.level))
    logging.getLogger(__name__).debug(
        "DEBUG logging: texts are redacted, libraries log at INFO or above"
    )
