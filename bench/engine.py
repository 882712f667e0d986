"""Dialogue engine cost: Rasa's own work per message, `Agent.handle_text` timed in-process.

`bench/engine_rasa.py` runs under `.venv-rasa/bin/python`: it loads the model into an `Agent`
with an in-memory tracker store and lock store and the real action server (started here on a
free port, with a fresh SQLite database), and times each awaited `handle_text` with
`time.perf_counter()`. This process drives intake conversations through it, one JSON line per
message over a pipe: "hoi", the consent button, then an answer to whatever the bot asks
(`bench/intake.py`), a new sender per conversation. The pipe and the choice of the next answer
are outside the clock; NLU, the policies, the responses and the HTTP calls to the action server
are inside it. Warm-up conversations come first and are not counted.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeGuard

from bench import latency
from bench.intake import Message, Person, ReplyKinds
from bench.stats import percentile
from bot.cli import launcher
from bot.cli.model import model_path, rasa_env
from core.db import make_engine
from core.paths import RASA_PYTHON, ROOT
from store.migrate import create_schema
from tests.support.stack import log_dir, make_settings, running

logger = logging.getLogger("bench.engine")

SCRIPT = Path(__file__).resolve().with_name("engine_rasa.py")
P50_TARGET_MS = 30.0  # BENCH.md: <= 30 ms p50 on this kind of machine
MIN_MESSAGES = 200  # BENCH.md: p50 over 200 messages of an intake
DEFAULT_SEED = 1  # the same conversations every run unless --seed says otherwise
LOAD_TIMEOUT = 300.0  # seconds for the model to load (about a minute on two busy cores)
MAX_ERRORS = 10  # a run this wrong stops early: its figures would mean nothing
# Rasa's loggers whose ERROR records mean a message was handled wrongly: a custom action that
# failed (no answer, an HTTP error, a timeout) logs one record in each and Rasa goes on
# without that action's events. Records of other loggers are reported, not counted as wrong.
FAILURE_LOGGERS = ("rasa.core.processor", "rasa.core.actions.action")


class EngineFailure(RuntimeError):
    """The Rasa process did not start, stopped or stopped answering."""


@dataclass(frozen=True)
class Reply:
    """The script's answer to one message: the time and the bot's messages, or a failure."""

    ms: float | None  # handle_text, wall clock
    messages: list[Any] = field(default_factory=list)
    cpu_ms: float = math.nan  # the Rasa process's processor time during handle_text
    nlu_ms: float = math.nan  # Agent.parse_message of the same text, timed apart
    errors: dict[str, int] = field(default_factory=dict)  # ERROR records by logger name
    failure: str | None = None


@dataclass(frozen=True)
class Sample:
    """One measured message."""

    key: str  # what it answers, as bench/intake.py names it
    ms: float
    cpu_ms: float = math.nan
    nlu_ms: float = math.nan


@dataclass
class Errors:
    """Wrong answers: any of these makes the benchmark exit 1."""

    action_errors: int = 0  # ERROR records of FAILURE_LOGGERS, e.g. a failed custom action
    failed_calls: int = 0  # handle_text raised or timed out
    # ERROR records of other loggers: reported, not counted as wrong answers.
    other_logged: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """The number of wrong answers of every kind."""
        return self.action_errors + self.failed_calls

    def add(self, logged: dict[str, int]) -> int:
        """Count one call's ERROR records; how many of them mean a wrong answer."""
        wrong = 0
        for name, count in logged.items():
            if name in FAILURE_LOGGERS:
                wrong += count
            else:
                self.other_logged[name] = self.other_logged.get(name, 0) + count
        self.action_errors += wrong
        return wrong


def parse_ready(line: str) -> float:
    """The model's load time in seconds from the script's first line; EngineFailure if none."""
    try:
        data = json.loads(line)
    except ValueError as error:
        raise EngineFailure(f"not JSON from the Rasa process: {line[:200]!r}") from error
    if not isinstance(data, dict) or data.get("ready") is not True:
        reason = data.get("error") if isinstance(data, dict) else None
        raise EngineFailure(f"the model did not load: {reason or line[:200]}")
    load_s = data.get("load_s")
    return float(load_s) if isinstance(load_s, int | float) else float("nan")


def parse_reply(line: str) -> Reply:
    """One answer line of the script; a failed Reply for anything that is not one."""
    try:
        data = json.loads(line)
    except ValueError:
        return Reply(None, failure=f"not JSON: {line[:200]!r}")
    if not isinstance(data, dict):
        return Reply(None, failure=f"not an object: {line[:200]!r}")
    if "error" in data:
        return Reply(None, failure=str(data["error"]))
    ms, messages, errors = data.get("ms"), data.get("messages"), data.get("errors", {})
    if (
        not _is_time(ms)
        or not isinstance(messages, list)
        or not isinstance(errors, dict)
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in errors.values())
    ):
        return Reply(None, failure=f"unexpected answer: {line[:200]!r}")
    cpu_ms, nlu_ms = data.get("cpu_ms"), data.get("nlu_ms")
    return Reply(
        ms=float(ms),
        messages=messages,
        cpu_ms=float(cpu_ms) if _is_time(cpu_ms) else math.nan,
        nlu_ms=float(nlu_ms) if _is_time(nlu_ms) else math.nan,
        errors={str(name): n for name, n in errors.items()},
    )


def _is_time(value: object) -> TypeGuard[float]:
    """Whether a JSON value is a duration: a number, not negative."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


class LineReader:
    """Lines from a pipe, each with a timeout (no thread: select on the file descriptor)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._fd = stream.fileno()
        self._buffer = b""

    def read(self, timeout: float) -> str:
        """The next line without its newline; EngineFailure on timeout or end of stream."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            ready = select.select([self._fd], [], [], left)[0] if left > 0 else []
            if not ready:
                raise EngineFailure(f"the Rasa process did not answer within {timeout:.0f} s")
            chunk = os.read(self._fd, 1 << 16)
            if not chunk:
                raise EngineFailure("the Rasa process ended")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8", errors="replace")


@dataclass
class RasaEngine:
    """The running script: one message in, one timed answer out."""

    process: subprocess.Popen[bytes]
    lines: LineReader
    reply_timeout: float
    load_s: float = float("nan")

    def send(self, sender: str, text: str) -> Reply:
        """Have Rasa handle one message; EngineFailure when the process is gone or stuck."""
        assert self.process.stdin is not None
        request = json.dumps({"sender": sender, "text": text}, ensure_ascii=False) + "\n"
        try:
            self.process.stdin.write(request.encode("utf-8"))
            self.process.stdin.flush()
        except OSError as error:
            raise EngineFailure(f"the Rasa process is gone: {error}") from error
        # The script gives up on a call after reply_timeout itself; this is for a hung process.
        return parse_reply(self.lines.read(self.reply_timeout + 30))


@contextmanager
def rasa_engine(
    model: Path, action_url: str, logs: Path, reply_timeout: float
) -> Iterator[RasaEngine]:
    """Start the script, wait for the model to load; end it (and kill it if need be) after."""
    env = rasa_env()
    env["LOG_LEVEL"] = "INFO"  # as bot.cli.launcher runs Rasa
    env["LOG_LEVEL_LIBRARIES"] = "ERROR"
    model = model.resolve()  # the script runs in the log folder
    command = [str(RASA_PYTHON), "-I", str(SCRIPT), str(model), action_url, str(reply_timeout)]
    with open(logs / "engine-rasa.log", "ab") as log:
        process = subprocess.Popen(
            command,
            cwd=logs,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,
            preexec_fn=launcher._die_with_parent,
        )
    try:
        assert process.stdout is not None
        lines = LineReader(process.stdout)
        engine = RasaEngine(process, lines, reply_timeout, parse_ready(lines.read(LOAD_TIMEOUT)))
        yield engine
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End of input, then SIGKILL to the process group if it has not ended after 15 s."""
    try:
        if process.stdin is not None:
            process.stdin.close()
    except OSError:
        pass
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


@dataclass(frozen=True)
class Options:
    """What to run (the options are shared with the latency benchmark)."""

    messages: int
    warmup: int
    max_steps: int
    seed: int
    reply_timeout: float
    keep: bool
    model: Path | None


def options_from(args: argparse.Namespace) -> Options:
    """Options from the arguments `bench.latency.add_arguments` defines."""
    seed = getattr(args, "seed", None)
    return Options(
        messages=max(int(getattr(args, "messages", MIN_MESSAGES)), 1),
        warmup=max(int(getattr(args, "warmup", 3)), 0),
        max_steps=max(int(getattr(args, "max_steps", 20)), 1),
        seed=DEFAULT_SEED if seed is None else int(seed),
        reply_timeout=float(getattr(args, "reply_timeout", 15.0)),
        keep=bool(getattr(args, "keep", False)),
        model=getattr(args, "model", None),
    )


def choose_model(explicit: Path | None, root: Path = ROOT) -> tuple[Path | None, str]:
    """The model to load and why: --model, else the one for the current data, else the newest."""
    if explicit is not None:
        return (explicit, "given with --model") if explicit.exists() else (None, "missing")
    current = model_path(root)
    if current.exists():
        return current, "the model for the current training data"
    models = sorted((root / "models").glob("*.tar.gz"), key=lambda p: (p.stat().st_mtime, p.name))
    if not models:
        return None, f"no model in {root / 'models'}"
    return models[-1], f"no model for the current training data ({current.name}): the newest"


@dataclass
class Run:
    """Plays intake conversations through the engine and collects the samples."""

    engine: RasaEngine
    kinds: ReplyKinds
    rng: random.Random
    max_steps: int
    errors: Errors = field(default_factory=Errors)
    samples: list[Sample] = field(default_factory=list)
    paths: dict[tuple[str, ...], int] = field(default_factory=dict)
    conversations: int = 0

    def __post_init__(self) -> None:
        self._first_chat = self.rng.randrange(10**8, 4 * 10**8)

    def conversation(self, record: bool, budget: int) -> None:
        """One intake with a new sender, at most `budget` messages."""
        person = Person(self.rng)
        sender = f"telegram:{self._first_chat + self.conversations}"
        self.conversations += 1
        message: Message | None = person.opening()
        path: list[str] = []
        for _ in range(min(self.max_steps, budget)):
            if message is None:
                break
            path.append(message.key)
            reply = self.engine.send(sender, message.text)
            if reply.ms is None:
                logger.error("%s, %r: %s", sender, message.key, reply.failure)
                self.errors.failed_calls += 1
                break
            if self.errors.add(reply.errors):
                logger.error("%s, %r: Rasa logged %s", sender, message.key, reply.errors)
            if record:
                self.samples.append(Sample(message.key, reply.ms, reply.cpu_ms, reply.nlu_ms))
            message = person.reply_to(self.kinds.from_rasa(reply.messages))
        self.paths[tuple(path)] = self.paths.get(tuple(path), 0) + 1


def measure(engine: RasaEngine, kinds: ReplyKinds, options: Options) -> Run:
    """Warm up, then measure `options.messages` messages."""
    run = Run(engine, kinds, random.Random(options.seed), options.max_steps)
    logger.info("Warming up with %s conversations", options.warmup)
    for _ in range(options.warmup):
        run.conversation(record=False, budget=options.max_steps)
    logger.info("Measuring %s messages", options.messages)
    while len(run.samples) < options.messages and run.errors.total < MAX_ERRORS:
        run.conversation(record=True, budget=options.messages - len(run.samples))
    if run.errors.total >= MAX_ERRORS:
        logger.error("%s errors; stopping early", run.errors.total)
    if run.errors.other_logged:
        logger.warning(
            "Rasa also logged errors (see its log, --keep): %s", run.errors.other_logged
        )
    for path, count in run.paths.items():
        logger.info("Path (%s times, %s messages): %s", count, len(path), " → ".join(path))
    return run


def _ms(value: float) -> float | None:
    """Milliseconds rounded for JSON, None for NaN."""
    return None if math.isnan(value) else round(value, 2)


def _known(values: list[float]) -> list[float]:
    return [value for value in values if not math.isnan(value)]


def figures(samples: list[Sample], errors: Errors, model: str) -> list[dict[str, Any]]:
    """The benchmark's JSON lines."""
    wall = [s.ms for s in samples]
    cpu = _known([s.cpu_ms for s in samples])
    nlu = _known([s.nlu_ms for s in samples])
    rows: list[tuple[str, list[float], float, float | None]] = [
        ("engine_cost_p50_ms", wall, 50.0, P50_TARGET_MS),
        ("engine_cost_p90_ms", wall, 90.0, None),
        ("engine_cost_p99_ms", wall, 99.0, None),
        ("engine_cpu_p50_ms", cpu, 50.0, None),
        ("engine_nlu_p50_ms", nlu, 50.0, None),
    ]
    lines: list[dict[str, Any]] = [
        {
            "figure": name,
            "value": _ms(percentile(values, q)),
            "target": target,
            "n": len(values),
            "model": model,
        }
        for name, values, q, target in rows
    ]
    lines.append(
        {
            "figure": "engine_cost_errors",
            "value": errors.total,
            "action_errors": errors.action_errors,
            "failed_calls": errors.failed_calls,
            "other_logged_errors": errors.other_logged,
            "target": 0,
            "n": len(samples),
            "model": model,
        }
    )
    return lines


def breakdown(samples: list[Sample]) -> str:
    """Percentiles per kind of message, to see where the time goes (stderr only)."""
    rows = ["message                 n   p50    p90    max   cpu p50  nlu p50  (ms)"]
    keys = sorted({s.key for s in samples}, key=[s.key for s in samples].index)
    for key in [*keys, "all"]:
        chosen = [s for s in samples if key in ("all", s.key)]
        wall = [s.ms for s in chosen]
        cpu = percentile(_known([s.cpu_ms for s in chosen]), 50)
        nlu = percentile(_known([s.nlu_ms for s in chosen]), 50)
        rows.append(
            f"{key[:20]:<20} {len(chosen):>4} {percentile(wall, 50):6.1f} "
            f"{percentile(wall, 90):6.1f} {max(wall):6.1f} {cpu:9.1f} {nlu:8.1f}"
        )
    return "\n".join(rows)


def run(options: Options) -> int:
    """Start the action server and Rasa, measure, print the figures; 1 on wrong answers."""
    started = time.monotonic()
    model, why = choose_model(options.model)
    if model is None:
        logger.error("No model to load: %s", why if options.model is None else options.model)
        return 2
    logger.info("Model: %s (%s)", model.name, why)
    if not RASA_PYTHON.exists():
        logger.error("%s is missing: run `make venv-rasa` first", RASA_PYTHON)
        return 2
    if options.messages < MIN_MESSAGES:
        logger.warning(
            "%s messages is below the %s BENCH.md asks for", options.messages, MIN_MESSAGES
        )
    workdir = Path(tempfile.mkdtemp(prefix="werkmaatje-bench-engine-"))
    try:
        database_url = f"sqlite:///{workdir / 'werkmaatje.db'}"
        engine = make_engine(database_url)
        create_schema(engine)
        engine.dispose()
        logs = log_dir(workdir, "logs")
        settings = make_settings(database_url=database_url)
        actions = launcher.action_server(settings, logs)
        with running(actions):
            logger.info("Action server ready; loading the model in Rasa (about a minute)")
            with rasa_engine(
                model, settings.resolved_action_endpoint_url, logs, options.reply_timeout
            ) as rasa:
                logger.info("Model loaded in %.1f s", rasa.load_s)
                result = measure(rasa, ReplyKinds.from_model(model), options)
    except (launcher.StartupError, EngineFailure) as error:
        logger.error("The benchmark could not run: %s", error)
        return 2
    finally:
        if options.keep:
            logger.info("Database and logs kept in %s", workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if result.samples:
        logger.info("Per kind of message:\n%s", breakdown(result.samples))
    for line in figures(result.samples, result.errors, model.name):
        print(json.dumps(line), flush=True)
    logger.info(
        "%s conversations (%s warm-up), %.0f s in all",
        result.conversations, options.warmup, time.monotonic() - started,
    )  # fmt: skip
    if result.errors.total:
        logger.error("Wrong answers: %s (logs: --keep)", result.errors)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.engine`."""
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__)
    latency.add_arguments(parser)
    return run(options_from(parser.parse_args(argv)))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    sys.exit(main())
