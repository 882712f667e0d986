"""`python -m bench`: run the benchmarks, one JSON object per figure on stdout.

Progress and logs go to stderr. The exit code is 0 when every answer was right, whatever
the figures say (a benchmark is not a test), 1 when an answer was wrong (a lost, duplicated
or different reply) and 2 when the benchmark could not run.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from types import FrameType

from bench import engine, latency, nlu, nudges, people


def _stop(signum: int, _frame: FrameType | None) -> None:
    # SystemExit unwinds the context managers, which stop every process we started.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the benchmarks: latency, engine, NLU, nudges, people."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only",
        choices=("latency", "engine", "nlu", "nudges", "people"),
        help="run one benchmark instead of all",
    )
    parser.add_argument(
        "--nudge-people", type=int, default=100_000, help="people due at once (nudges)"
    )
    latency.add_arguments(parser)
    people.add_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _stop)
    code = 0
    if args.only in (None, "latency"):
        code = latency.run(latency.options_from(args))
    if args.only in (None, "engine"):
        code = max(code, engine.run(engine.options_from(args)))
    if args.only in (None, "nlu"):
        try:
            lines = nlu.run(args.model)
        except (RuntimeError, ValueError, FileNotFoundError) as error:
            logging.getLogger("bench").error("NLU benchmark could not run: %s", error)
            return 2
        for line in lines:
            print(json.dumps(line, ensure_ascii=False), flush=True)
    if args.only in (None, "nudges"):
        code = max(code, nudges.main(["--people", str(args.nudge_people)]))
    if args.only in (None, "people"):
        code = max(code, people.run(people.options_from(args)))
    return code


if __name__ == "__main__":
    sys.exit(main())
