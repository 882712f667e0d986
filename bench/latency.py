"""Gateway latency ratio: a Telegram update through the gateway versus Rasa's own REST channel.

Side A posts a Telegram update to the gateway's webhook and stops the clock when the last
reply for it has reached the fake Bot API server (the moment the fake records it, as BENCH.md
defines A; decision 0007). Side B posts the same message straight to Rasa's REST channel and
stops the clock when the HTTP answer has arrived. Both sides run the same intake conversation
on the same processes, message by message in alternating order.

A turn's replies reach Telegram as one message where their meaning allows (bot/turns.py), so
side A waits for as many messages as B's replies make, and compares them part by part.

The benchmark runs once per `--pauses` value: the simulated person waits that long before each
message, as a quick person does (1 s) or not at all (0). Pacing that holds replies back shows
only when a person answers quickly but not instantly, so both are reported.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.intake import Answer, Message, Person, ReplyKinds
from bench.stack import WEBHOOK_SECRET, BenchStack, running_stack
from bench.stats import percentile, ratio
from bot.channels.telegram.sender import TEXT_LIMIT
from bot.cli.launcher import StartupError
from bot.cli.model import model_path
from bot.language import guess_language
from tests.support.helpers import callback_update, text_update

logger = logging.getLogger("bench.latency")

P50_TARGET = 1.10
P99_TARGET = 1.25
MIN_MESSAGES = 200  # BENCH.md: N >= 200 messages per side
MAX_ERRORS = 10  # a run this wrong stops early: its figures would mean nothing


@dataclass
class Errors:
    """Wrong answers: any of these makes the benchmark fail."""

    lost: int = 0  # replies B got that did not reach the fake Bot API in time
    duplicated: int = 0  # replies beyond what B got for the same message
    mismatched: int = 0  # messages whose replies differ in kind between A and B
    http_errors: int = 0  # a webhook or REST request that did not answer 200

    @property
    def total(self) -> int:
        """The number of errors of every kind."""
        return self.lost + self.duplicated + self.mismatched + self.http_errors


@dataclass(frozen=True)
class Sample:
    """One message measured on both sides, in milliseconds."""

    key: str
    a_ms: float  # A up to the moment the fake recorded the last reply
    b_ms: float
    a_woken_ms: float  # A up to the moment the benchmark's waiting thread woke after that
    a_webhook_ms: float  # A up to the webhook's 200 answer


@dataclass
class GatewayResult:
    """Side A's outcome for one message: timings are None when the expected count never came."""

    before: int  # replies in the chat before the message
    start: float
    webhook_ms: float
    ms: float | None  # up to the moment the fake recorded the last reply
    woken_ms: float | None  # up to the moment the waiting thread woke after that


@dataclass(frozen=True)
class RestResult:
    """Side B's outcome for one message."""

    ms: float
    answers: list[Answer]  # Rasa's replies, as the person reads them
    messages: list[Answer]  # the same, as the Telegram messages they become


@dataclass
class Sides:
    """Sends one message on either side."""

    stack: BenchStack
    kinds: ReplyKinds
    errors: Errors
    reply_timeout: float
    rng: random.Random
    pause: float = 0.0  # seconds the person waits before each message, off the clock
    _webhook: httpx.Client = field(init=False)
    _rasa: httpx.Client = field(init=False)
    _update_ids: itertools.count[int] = field(init=False)

    def __post_init__(self) -> None:
        # One keep-alive connection per side, as Telegram and the gateway each keep theirs.
        timeout = httpx.Timeout(self.reply_timeout, connect=5.0)
        self._webhook = httpx.Client(
            timeout=timeout, headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        )
        self._rasa = httpx.Client(timeout=timeout)
        self._update_ids = itertools.count(self.rng.randrange(10**6, 10**7))

    def close(self) -> None:
        """Close both connections."""
        self._webhook.close()
        self._rasa.close()

    def replies(self, chat: int) -> int:
        """How many messages the gateway has sent to a chat."""
        return len(self.stack.telegram.sent_messages(chat))

    def answers(self, chat: int, start: int, stop: int) -> list[Answer]:
        """The gateway's replies number start..stop-1 in a chat."""
        calls = self.stack.telegram.sent_messages(chat)[start:stop]
        return self.kinds.from_telegram(call.params for call in calls)

    def gateway(
        self,
        chat: int,
        person: Person,
        message: Message,
        last: Sequence[Answer],
        expect: int,
    ) -> GatewayResult | None:
        """A: post the update and wait for `expect` replies at the fake; None on HTTP errors."""
        before = self.replies(chat)
        update_id = next(self._update_ids)
        if message.kind == "button":
            # A press on the gateway's own button: its callback_data, under its last message.
            data = last[-1].payloads[message.button] if last else message.text
            sent = self.stack.telegram.sent_messages(chat)
            pressed = sent[-1].result["message_id"] if sent else 1
            update = callback_update(
                update_id, chat, data, message_id=pressed, first_name=person.first_name
            )
        else:
            update = text_update(update_id, chat, message.text, first_name=person.first_name)
        time.sleep(self.pause)
        start = time.perf_counter()
        try:
            response = self._webhook.post(self.stack.webhook_url, json=update)
        except httpx.HTTPError as error:
            logger.error("Webhook request failed: %s", type(error).__name__)
            self.errors.http_errors += 1
            return None
        webhook_ms = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            logger.error("Webhook answered HTTP %s", response.status_code)
            self.errors.http_errors += 1
            return None
        result = GatewayResult(before, start, webhook_ms, None, None)
        self.wait(chat, result, expect)
        return result

    def wait(self, chat: int, result: GatewayResult, expect: int) -> None:
        """Wait until the chat has `expect` replies to the message; timings stay None if not."""
        fake = self.stack.telegram
        try:
            calls = fake.wait_for_messages(
                chat, result.before + expect, timeout=self.reply_timeout
            )
        except AssertionError:
            return
        end = time.perf_counter()
        result.woken_ms = (end - result.start) * 1000
        # ApiCall.at is time.monotonic(), the same clock as perf_counter on Linux.
        last = calls[result.before + expect - 1].at if expect else end
        result.ms = (last - result.start) * 1000

    def rest(self, sender: str, person: Person, message: Message) -> RestResult | None:
        """B: post the message to Rasa's REST channel and wait for its answer; None on failure."""
        # The metadata the gateway adds, so the actions do the same work on both sides.
        metadata: dict[str, Any] = {
            "channel": "telegram",
            "language_code": "nl",
            "first_name": person.first_name,
        }
        if not message.text.startswith("/"):
            metadata["text_language"] = guess_language(message.text)  # as bot/conversation.py
        body = {"sender": sender, "message": message.text, "metadata": metadata}
        time.sleep(self.pause)
        start = time.perf_counter()
        try:
            response = self._rasa.post(self.stack.rasa_rest_url, json=body)
            data: Any = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError) as error:
            logger.error("REST request failed: %s", type(error).__name__)
            self.errors.http_errors += 1
            return None
        end = time.perf_counter()
        if not isinstance(data, list):
            logger.error("REST answered HTTP %s: %.200s", response.status_code, response.text)
            self.errors.http_errors += 1
            return None
        return RestResult(
            (end - start) * 1000,
            self.kinds.from_rasa(data),
            self.kinds.as_messages(data, TEXT_LIMIT),
        )


@dataclass
class Run:
    """Drives conversations message by message on both sides and collects samples."""

    sides: Sides
    rng: random.Random
    max_steps: int
    samples: list[Sample] = field(default_factory=list)
    # Replies to each message, learnt from B: A waits for this many when it goes first.
    reference: dict[tuple[str, str], int] = field(default_factory=dict)
    # The fewest replies seen to any answer of a question, for answers not sent before.
    fewest: dict[str, int] = field(default_factory=dict)
    paths: dict[tuple[str, ...], int] = field(default_factory=dict)
    pairs: int = 0  # messages sent per side so far, warm-up included; decides who goes first
    delivered: dict[int, int] = field(default_factory=dict)  # replies accounted for per chat
    _chats: itertools.count[int] = field(init=False)

    def __post_init__(self) -> None:
        base = self.rng.randrange(10**8, 4 * 10**8)
        self._chats = itertools.count(base, 2)  # A gets even ids, B the odd ones after them

    def conversation(self, record: bool, budget: int) -> None:
        """One fresh intake on each side, alternating A and B message by message."""
        person = Person(self.rng)
        chat = next(self._chats)
        sender = f"telegram:{chat + 1}"  # a chat id no Telegram update uses
        message: Message | None = person.opening()
        a_last: list[Answer] = []
        b_last: list[Answer] = []
        path: list[str] = []
        for _ in range(min(self.max_steps, budget)):
            if message is None:
                break
            path.append(message.key)
            outcome = self.pair(chat, sender, person, message, a_last, b_last, record)
            if outcome is None:
                return  # the conversation cannot go on; the error is counted
            a_last, b_last = outcome
            message = person.reply_to(b_last)
        self.paths[tuple(path)] = self.paths.get(tuple(path), 0) + 1

    def pair(
        self,
        chat: int,
        sender: str,
        person: Person,
        message: Message,
        a_last: list[Answer],
        b_last: list[Answer],
        record: bool,
    ) -> tuple[list[Answer], list[Answer]] | None:
        """One message on both sides; the replies of each, or None when they went wrong."""
        sides, errors = self.sides, self.sides.errors
        known = self.delivered.get(chat, 0)
        if sides.replies(chat) > known:
            late = sides.replies(chat) - known
            logger.error("Chat %s got %s late extra replies", chat, late)
            errors.duplicated += late
        expect = self.reference.get((message.key, message.text), self.fewest.get(message.key))
        a_first = self.pairs % 2 == 0 and expect is not None
        self.pairs += 1
        a: GatewayResult | None
        b: RestResult | None
        if a_first:
            assert expect is not None
            a = sides.gateway(chat, person, message, a_last, expect)
            b = sides.rest(sender, person, message) if a is not None else None
        else:
            b = sides.rest(sender, person, message)
            a = sides.gateway(chat, person, message, a_last, len(b.messages)) if b else None
        if a is None or b is None:
            self.delivered[chat] = sides.replies(chat)  # the failure is counted already
            return None
        want = len(b.messages)
        self.reference[(message.key, message.text)] = want
        self.fewest[message.key] = min(want, self.fewest.get(message.key, want))
        if a_first and expect != want:
            # A was timed to a different number of replies than this message got: no sample.
            logger.info("%r got %s replies where %s were expected", message.text, want, expect)
            a.ms = None
            if sides.replies(chat) < a.before + want:
                sides.wait(chat, GatewayResult(a.before, a.start, 0, None, None), want)
        got = sides.replies(chat) - a.before
        self.delivered[chat] = a.before + got
        if got < want:
            logger.error("Chat %s: %s of %s replies to %r", chat, got, want, message.key)
            errors.lost += want - got
            return None
        if got > want:
            logger.error("Chat %s: %s replies to %r, not %s", chat, got, message.key, want)
            errors.duplicated += got - want
        a_answers = sides.answers(chat, a.before, a.before + want)
        if not all(x.same_as(y) for x, y in zip(a_answers, b.messages, strict=True)):
            logger.error("%r: gateway %s, Rasa %s", message.key, a_answers, b.messages)
            errors.mismatched += 1
        elif record and want and a.ms is not None and a.woken_ms is not None and got == want:
            self.samples.append(Sample(message.key, a.ms, b.ms, a.woken_ms, a.webhook_ms))
        return a_answers, b.answers

    def check_late_replies(self) -> None:
        """Count replies that arrived after a chat's last message was done."""
        for chat, known in self.delivered.items():
            extra = self.sides.replies(chat) - known
            if extra > 0:
                logger.error("Chat %s got %s late extra replies", chat, extra)
                self.sides.errors.duplicated += extra
                self.delivered[chat] = known + extra


@dataclass(frozen=True)
class Options:
    """Command-line options of the latency benchmark."""

    messages: int
    warmup: int
    max_steps: int
    seed: int | None
    reply_timeout: float
    grace: float
    keep: bool
    model: Path | None
    pauses: tuple[float, ...] = (0.0, 1.0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The latency benchmark's options."""
    parser.add_argument(
        "--messages", type=int, default=MIN_MESSAGES, metavar="N",
        help=f"messages measured per side (default {MIN_MESSAGES})",
    )  # fmt: skip
    parser.add_argument(
        "--warmup", type=int, default=3, metavar="K",
        help="warm-up conversations per side, not counted (default 3)",
    )  # fmt: skip
    parser.add_argument(
        "--max-steps", type=int, default=20, metavar="S",
        help="messages per conversation at most (default 20; the intake ends earlier)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=None, help="seed for answers and ids")
    parser.add_argument(
        "--reply-timeout", type=float, default=15.0, metavar="S",
        help="seconds before an expected reply counts as lost (default 15)",
    )  # fmt: skip
    parser.add_argument(
        "--grace", type=float, default=2.0, metavar="S",
        help="seconds to wait for late duplicate replies at the end (default 2)",
    )  # fmt: skip
    parser.add_argument(
        "--pauses", type=_pauses, default=(0.0, 1.0), metavar="S,S",
        help="seconds the person waits before each message, one run each (default 0,1)",
    )  # fmt: skip
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder with database and logs"
    )
    parser.add_argument(
        "--model", type=Path, default=None, metavar="PATH",
        help="the Rasa model (default: the model for the current training data)",
    )  # fmt: skip


def _pauses(text: str) -> tuple[float, ...]:
    """`0,1` as (0.0, 1.0)."""
    try:
        pauses = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a list of seconds: {text!r}") from error
    if not pauses or any(not 0 <= pause <= 60 for pause in pauses):
        raise argparse.ArgumentTypeError("pauses are seconds from 0 to 60")
    return pauses


def options_from(args: argparse.Namespace) -> Options:
    """Options from parsed arguments."""
    if args.messages < 1 or args.max_steps < 1:
        raise SystemExit("--messages and --max-steps must be at least 1")
    return Options(
        messages=args.messages,
        warmup=max(args.warmup, 0),
        max_steps=args.max_steps,
        seed=args.seed,
        reply_timeout=args.reply_timeout,
        grace=max(args.grace, 0.0),
        keep=args.keep,
        model=args.model,
        pauses=args.pauses,
    )


def measure(
    stack: BenchStack, model: Path, options: Options, pause: float
) -> tuple[list[Sample], Errors]:
    """Warm up, then measure `options.messages` messages per side, `pause` s before each."""
    # Each pause its own chats: the same seed gives the same answers, not the same chat ids.
    rng = random.Random(None if options.seed is None else f"{options.seed}/{pause:g}")
    errors = Errors()
    kinds = ReplyKinds.from_model(model)
    sides = Sides(stack, kinds, errors, options.reply_timeout, rng, pause)
    run = Run(sides, rng, options.max_steps)
    try:
        logger.info("Warming up with %s conversations per side", options.warmup)
        for _ in range(options.warmup):
            run.conversation(record=False, budget=options.max_steps)
        for path, count in run.paths.items():
            logger.info("Intake path (%s times): %s", count, " → ".join(path))
        logger.info("Measuring %s messages per side", options.messages)
        conversations = barren = 0
        started = time.monotonic()
        while len(run.samples) < options.messages and errors.total < MAX_ERRORS:
            before = len(run.samples)
            run.conversation(record=True, budget=options.messages - before)
            conversations += 1
            barren = barren + 1 if len(run.samples) == before else 0
            if barren >= 5:
                logger.error("Five conversations in a row gave no sample; stopping")
                break
            if conversations % 10 == 0:
                logger.info(
                    "%s conversations, %s messages per side, %.0f s",
                    conversations, len(run.samples), time.monotonic() - started,
                )  # fmt: skip
        if errors.total >= MAX_ERRORS:
            logger.error("%s errors; stopping early", errors.total)
        time.sleep(options.grace)
        run.check_late_replies()
    finally:
        sides.close()
    return run.samples, errors


def _number(value: float, digits: int) -> float | None:
    """A rounded number for JSON, None for NaN."""
    return None if math.isnan(value) else round(value, digits)


def figures(samples: list[Sample], errors: Errors, pause: float = 0.0) -> list[dict[str, Any]]:
    """The benchmark's JSON lines; figures of a run with a pause are named after it."""
    suffix = f"_pause_{pause:g}s" if pause else ""
    a = [s.a_ms for s in samples]
    b = [s.b_ms for s in samples]
    woken = [s.a_woken_ms for s in samples]
    lines: list[dict[str, Any]] = []
    for name, q, target in (("p50", 50.0, P50_TARGET), ("p99", 99.0, P99_TARGET)):
        pa, pb, pw = percentile(a, q), percentile(b, q), percentile(woken, q)
        lines.append(
            {
                "figure": f"gateway_latency_{name}_ratio{suffix}",
                "value": _number(ratio(pa, pb), 3),
                "a": _number(pa, 2),
                "b": _number(pb, 2),
                # Measured up to the benchmark's own wake-up instead (decision 0007).
                "value_woken": _number(ratio(pw, pb), 3),
                "a_woken": _number(pw, 2),
                "n": len(samples),
                "pause_s": pause,
                "target": target,
            }
        )
    lines.append(
        {
            "figure": f"gateway_latency_errors{suffix}",
            "value": errors.total,
            "lost": errors.lost,
            "duplicated": errors.duplicated,
            "mismatched": errors.mismatched,
            "http_errors": errors.http_errors,
            "n": len(samples),
            "pause_s": pause,
            "target": 0,
        }
    )
    return lines


def breakdown(samples: list[Sample]) -> str:
    """Medians per kind of message, to see where side A spends its time (stderr only)."""
    rows = ["message                 n   A p50   B p50  A-B p50  A woken p50  webhook p50  (ms)"]
    keys = sorted({s.key for s in samples}, key=[s.key for s in samples].index)
    for key in [*keys, "all"]:
        chosen = [s for s in samples if key in ("all", s.key)]
        a = percentile([s.a_ms for s in chosen], 50)
        b = percentile([s.b_ms for s in chosen], 50)
        diff = percentile([s.a_ms - s.b_ms for s in chosen], 50)
        woken = percentile([s.a_woken_ms for s in chosen], 50)
        webhook = percentile([s.a_webhook_ms for s in chosen], 50)
        rows.append(
            f"{key[:20]:<20} {len(chosen):>4} {a:7.1f} {b:7.1f} {diff:8.1f} {woken:12.1f}"
            f" {webhook:12.1f}"
        )
    return "\n".join(rows)


def run(options: Options) -> int:
    """Start the stack, measure, print the figures; 1 when an answer was wrong."""
    model = options.model or model_path()
    if not model.exists():
        if options.model is None:
            logger.error(
                "No model for the current training data (%s): run `make train`", model.name
            )
        else:
            logger.error("No model at %s", model)
        return 2
    logger.info("Model: %s", model.name)
    if options.messages < MIN_MESSAGES:
        logger.warning(
            "%s messages is below the %s BENCH.md asks for", options.messages, MIN_MESSAGES
        )
    workdir = Path(tempfile.mkdtemp(prefix="werkmaatje-bench-"))
    results: list[tuple[float, list[Sample], Errors]] = []
    try:
        with running_stack(workdir, model) as stack:
            for pause in options.pauses:
                logger.info("The person waits %g s before each message", pause)
                samples, errors = measure(stack, model, options, pause)
                results.append((pause, samples, errors))
                if errors.total:
                    logger.error("Logs of the processes:\n%s", stack.log_tails())
    except StartupError as error:
        logger.error("The stack could not start: %s", error)
        return 2
    finally:
        if options.keep:
            logger.info("Database and logs kept in %s", workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    code = 0
    for pause, samples, errors in results:
        logger.info("Per kind of message, %g s pause:\n%s", pause, breakdown(samples))
        for line in figures(samples, errors, pause):
            print(json.dumps(line), flush=True)
        if errors.total:
            logger.error("Wrong answers with a %g s pause: %s", pause, errors)
            code = 1
    return code


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.latency`."""
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__)
    add_arguments(parser)
    return run(options_from(parser.parse_args(argv)))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    sys.exit(main())
