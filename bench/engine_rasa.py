"""The Rasa side of the dialogue engine benchmark: `Agent.handle_text`, timed in-process.

Runs under `.venv-rasa/bin/python` and imports only Rasa and the standard library (nothing of
the project). Usage:

    .venv-rasa/bin/python bench/engine_rasa.py MODEL ACTION_ENDPOINT_URL [TIMEOUT_SECONDS]

It loads the model with an in-memory tracker store and lock store and the action server at
ACTION_ENDPOINT_URL, then answers one JSON line on stdout per JSON line on stdin:

    in:  {"sender": "telegram:123", "text": "hoi"}
    out: {"ms": 41.2, "cpu_ms": 38.0, "nlu_ms": 9.1, "messages": [...], "errors": {}}

`ms` is `time.perf_counter()` around the awaited `handle_text` alone, `cpu_ms` this process's
processor time (all threads) over the same call; `messages` is what it returned (the REST
channel's format). `nlu_ms` is `Agent.parse_message` of the same text, run after the clock has
stopped. `errors` counts the records of level ERROR logged during the call, by logger name
(Rasa logs a custom action that failed and goes on without its events). A call that raised or
took longer than the timeout answers {"error": "..."} instead. The first line out is
{"ready": true, "load_s": ..., "rasa": "3.6.21"}, or {"error": ...} when the model did not
load. The script ends at the end of its input; anything else printed goes to stderr.

Custom action responses are checked as the Rasa server checks them, with the patch of
`scripts/rasa_run.py` (the script `bot.cli.launcher` starts Rasa through; it too imports only
Rasa, jsonschema and the standard library).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

# rasa is installed in .venv-rasa only; mypy runs in .venv, where it cannot be found.
import rasa  # type: ignore[import-not-found]
from rasa.core.agent import Agent  # type: ignore[import-not-found]
from rasa.core.lock_store import InMemoryLockStore  # type: ignore[import-not-found]
from rasa.core.tracker_store import InMemoryTrackerStore  # type: ignore[import-not-found]
from rasa.shared.core.domain import Domain  # type: ignore[import-not-found]
from rasa.utils.common import configure_logging_and_warnings  # type: ignore[import-not-found]
from rasa.utils.endpoints import EndpointConfig  # type: ignore[import-not-found]
from rasa.utils.log_utils import configure_structlog  # type: ignore[import-not-found]

logger = logging.getLogger("engine_rasa")

DEFAULT_TIMEOUT = 30.0
RASA_RUN = Path(__file__).resolve().parent.parent / "scripts" / "rasa_run.py"


class ErrorCount(logging.Handler):
    """Counts the records of level ERROR and above, by logger name."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.counts: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[record.name] = self.counts.get(record.name, 0) + 1


def patch_rasa() -> None:
    """Apply scripts/rasa_run.py's patch, as in `rasa run` (loaded by path: this runs with -I)."""
    spec = importlib.util.spec_from_file_location("rasa_run", RASA_RUN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.patch()


def protocol_stream() -> IO[str]:
    """The real stdout for our lines; file descriptor 1 then goes to stderr for stray prints."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def say(out: IO[str], line: dict[str, Any]) -> None:
    """Write one JSON line."""
    out.write(json.dumps(line, ensure_ascii=False) + "\n")
    out.flush()


async def timed(agent: Any, sender: str, text: str) -> dict[str, Any]:
    """`agent.handle_text`, its wall and processor time; then the NLU alone, timed apart."""
    cpu = time.process_time()
    begin = time.perf_counter()
    messages = await agent.handle_text(text, sender_id=sender)
    end = time.perf_counter()
    cpu_ms = (time.process_time() - cpu) * 1000
    # The same text through the NLU pipeline once more, outside the clock above: how much of a
    # message is NLU (it does not touch the conversation).
    begin_nlu = time.perf_counter()
    await agent.parse_message(text)
    nlu_ms = (time.perf_counter() - begin_nlu) * 1000
    return {
        "ms": round((end - begin) * 1000, 3),
        "cpu_ms": round(cpu_ms, 3),
        "nlu_ms": round(nlu_ms, 3),
        "messages": messages or [],
    }


async def serve(out: IO[str], model: str, action_url: str, timeout: float) -> int:
    """Load the model, then time one `handle_text` per input line until the input ends."""
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    start = time.perf_counter()
    try:
        agent = Agent.load(
            model,
            tracker_store=InMemoryTrackerStore(Domain.empty()),
            lock_store=InMemoryLockStore(),
            action_endpoint=EndpointConfig(url=action_url),
        )
    except Exception as error:
        logger.exception("The model did not load")
        say(out, {"error": f"load: {type(error).__name__}: {error}"})
        return 1
    say(
        out,
        {"ready": True, "load_s": round(time.perf_counter() - start, 2), "rasa": rasa.__version__},
    )
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return 0
        try:
            request = json.loads(line)
            sender, text = str(request["sender"]), str(request["text"])
        except (ValueError, KeyError, TypeError) as error:
            say(out, {"error": f"bad request: {error}"})
            continue
        errors.counts = {}
        try:
            answer = await asyncio.wait_for(timed(agent, sender, text), timeout=timeout)
        except asyncio.TimeoutError:
            say(out, {"error": f"timeout after {timeout} s"})
            continue
        except Exception as error:
            logger.exception("handle_text failed")
            say(out, {"error": f"{type(error).__name__}: {error}"})
            continue
        say(out, {**answer, "errors": errors.counts})


def main(argv: list[str]) -> int:
    """Check the arguments and serve."""
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    out = protocol_stream()
    # Logging as `rasa run` sets it up at LOG_LEVEL=INFO (the level bot.cli.launcher gives it): the
    # per-message debug events are dropped early instead of printed, which costs time too.
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    configure_logging_and_warnings(logging.INFO, warn_only_once=True, filter_repeated_logs=True)
    configure_structlog(logging.INFO)
    timeout = float(argv[2]) if len(argv) == 3 else DEFAULT_TIMEOUT
    patch_rasa()
    return asyncio.run(serve(out, argv[0], argv[1], timeout))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
