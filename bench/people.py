"""Simulated people: ≥ 30 job seekers play the intake through the gateway's web chat.

Each person (bench/people.yml) says "hoi", gives consent and answers whatever the bot asks,
in their own words and with their own habits: two facts in one message, a later answer early,
a question of their own, an illness, "weet ik nog niet", a correction at the profile sketch.
The questions are recognised by the response they came from (the domain inside the model).
Afterwards the stored profile is compared with the person's facts (bench/people_score.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bench.people_data import DATA, SLOTS, Person, Step, load_people
from bench.people_replies import CONFIRMED, NAME_CONFIRM, SKETCH, Reply, Templates
from bench.people_score import Transcript, Turn, figures, score
from bench.stack import running_stack
from bot.channels.web.chat import COOKIE
from bot.cli.launcher import StartupError
from bot.cli.model import model_path
from core.db import make_engine
from store.conversation import EVENTS, has_events_table
from store.export import profile_dict
from store.profiles import find_job_seeker

logger = logging.getLogger("bench.people")

TURN_CAP = 40  # messages after the opening; an intake takes about 15
AFFIRM = "/affirm"
CONSENT = "utter_ask_consent"
DENY = "/deny"
SKIP = {"nl": "sla over", "en": "skip"}


@dataclass(frozen=True)
class Move:
    """The person's next message."""

    text: str
    button: bool = False  # sent as the payload of a button press
    answered: str | None = None
    repeated: bool = False


@dataclass
class Script:
    """What one person says next, given the bot's last replies."""

    person: Person
    given: set[str] = field(default_factory=set)
    pending: dict[str, list[Step]] = field(default_factory=dict)
    last_slot: str | None = None
    sketch_seen: bool = False
    corrected: bool = False
    affirmed: bool = False
    silent: int = 0  # replies in a row that asked nothing
    gave_up: str | None = None  # why the person stopped before the sketch

    def answer(self, slot: str) -> Move:
        """The answer to a question about `slot`: the next step for it, or the last again."""
        steps = self.person.say.get(slot)
        if steps is None:
            return Move(self.person.stop_gap.text, answered=slot)
        repeated = slot in self.given
        if slot not in self.pending:
            # Asked for a fact given with another answer: no need for their own question first.
            self.pending[slot] = [s for s in steps if s.gives or not repeated]
        queue = self.pending[slot]
        step = queue.pop(0) if queue else self.person.again(slot)
        self.given |= step.gives
        self.last_slot = slot
        return Move(step.text, step.button, slot, repeated)

    def next(self, replies: Sequence[Reply]) -> Move | None:
        """The next message; None when the conversation is over."""
        if any(reply.response == CONFIRMED for reply in replies):
            return None
        reply = next((r for r in reversed(replies) if _actionable(r)), None)
        self.silent = 0 if reply is not None else self.silent + 1
        if reply is None:
            if self.affirmed:
                return None
            if self.corrected:
                # The correction was not taken up: confirm with the sketch's button.
                self.affirmed = True
                return Move(AFFIRM, button=True)
            if self.silent >= 2:
                # A bot that asks nothing twice (paused, said goodbye) is not worth more tries.
                self.gave_up = " + ".join(r.response for r in replies)
                return None
            if self.last_slot is not None:
                return self.answer(self.last_slot)  # no question came: say it once more
            return Move(self.person.stop_gap.text)
        if reply.response == SKETCH:
            self.sketch_seen = True
            if self.person.correction and not self.corrected:
                self.corrected = True
                return Move(self.person.correction, answered="correction")
            self.affirmed = True
            return Move(reply.payload(AFFIRM) or AFFIRM, button=True)
        if reply.response == NAME_CONFIRM:
            name = (reply.param("first_name") or "").strip(" ?!.").casefold()
            wanted = AFFIRM if name == self.person.expect.name.casefold() else DENY
            return Move(reply.payload(wanted) or wanted, button=True, answered=NAME_CONFIRM)
        if reply.way_out:
            skip = reply.payload("/skip")
            return Move(skip or SKIP[self.person.language], skip is not None, self.last_slot)
        slot = reply.asks
        if slot in SLOTS:
            return self.answer(slot)
        if reply.response == CONSENT:
            return Move(reply.payload(AFFIRM) or AFFIRM, button=True)
        if self.sketch_seen:
            self.affirmed = True
            return Move(AFFIRM, button=True)
        # Another yes/no question mid-intake (delete my data? share it?): a careful "no".
        deny = reply.payload(DENY)
        return Move(deny or self.person.stop_gap.text, deny is not None, slot)


def _actionable(reply: Reply) -> bool:
    """Whether a reply asks the person something."""
    if reply.response in (SKETCH, NAME_CONFIRM) or reply.way_out or reply.asks is not None:
        return True
    return any(payload == AFFIRM for _, payload in reply.buttons)


@dataclass(frozen=True)
class Options:
    """Command-line options of the simulated-people benchmark."""

    model: Path | None
    data: Path
    only: tuple[str, ...]
    turn_cap: int
    reply_timeout: float
    keep: bool


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of this benchmark alone (the model, timeout and --keep are shared)."""
    parser.add_argument(
        "--people-file", type=Path, default=DATA, metavar="PATH",
        help="the simulated people (default bench/people.yml)",
    )  # fmt: skip
    parser.add_argument(
        "--person", action="append", default=[], metavar="ID",
        help="play only this person (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--turn-cap", type=int, default=TURN_CAP, metavar="N",
        help=f"messages per conversation at most (default {TURN_CAP})",
    )  # fmt: skip


def options_from(args: argparse.Namespace) -> Options:
    """Options from parsed arguments."""
    return Options(
        model=getattr(args, "model", None),
        data=args.people_file,
        only=tuple(args.person),
        turn_cap=max(args.turn_cap, 1),
        reply_timeout=float(getattr(args, "reply_timeout", 30.0)),
        keep=bool(getattr(args, "keep", False)),
    )


class HttpFailure(RuntimeError):
    """The gateway did not answer a message with 200 and JSON."""


def send(client: httpx.Client, url: str, person: Person, move: Move) -> list[dict[str, Any]]:
    """Post one message to the web chat; the bot's replies as JSON objects."""
    body: dict[str, Any] = {"language": person.language_hint}
    body["payload" if move.button else "text"] = move.text
    try:
        response = client.post(url, json=body)
        data: Any = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as error:
        raise HttpFailure(type(error).__name__) from error
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise HttpFailure(f"HTTP {response.status_code}: {response.text[:200]}")
    return [m for m in data["messages"] if isinstance(m, dict)]


def play(
    url: str, person: Person, templates: Templates, options: Options
) -> tuple[Transcript, str]:
    """One conversation through the gateway; the transcript and the web chat session."""
    transcript = Transcript(person)
    script = Script(person)
    timeout = httpx.Timeout(options.reply_timeout, connect=5.0)
    with httpx.Client(timeout=timeout) as client:
        move: Move | None = Move(person.opening)
        session = ""
        while move is not None:
            if len(transcript.turns) > options.turn_cap:
                transcript.notes.append(f"stopped at the cap of {options.turn_cap} messages")
                break
            try:
                messages = send(client, url, person, move)
            except HttpFailure as error:
                # A wrong answer of the stack, not a weak intake: noted, and the exit code is 1.
                transcript.notes.append(f"HTTP failure: {error}")
                transcript.failed = True
                break
            session = session or client.cookies.get(COOKIE) or ""
            replies = [templates.reply(message) for message in messages]
            transcript.turns.append(Turn(move.text, replies, move.answered, move.repeated))
            logger.debug(
                "%s: %r → %s", person.id, move.text, " + ".join(r.response for r in replies)
            )
            move = script.next(replies)
    if script.gave_up:
        transcript.notes.append(f"gave up: the bot asked nothing twice ({script.gave_up})")
    elif not script.affirmed:
        transcript.notes.append("never confirmed a profile sketch")
    return transcript, session


def read_back(engine: Engine, transcript: Transcript, session_id: str) -> None:
    """Fill the transcript with what the database holds for this web chat session."""
    with Session(engine) as db:
        seeker = find_job_seeker(session=db, channel="web", channel_user_id=session_id)
        if seeker is not None and seeker.profile is not None:
            transcript.stored = profile_dict(seeker)
            transcript.confirmed = seeker.profile.confirmed_at is not None
        connection = db.connection()
        if not has_events_table(connection):
            return
        rows = connection.execute(
            select(EVENTS.c.type_name, EVENTS.c.data)
            .where(EVENTS.c.sender_id == f"web:{session_id}")
            .where(EVENTS.c.type_name.in_(("user", "slot")))
            .order_by(EVENTS.c.id)
        )
        for type_name, raw in rows:
            data = json.loads(raw or "{}")
            if type_name == "user" and data.get("text"):
                transcript.said_stored.append(str(data["text"]))
            elif type_name == "slot":
                transcript.said_stored += _strings(data.get("value"))
                if data.get("name") == "language" and data.get("value"):
                    transcript.language_slots.append(str(data["value"]))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    return []


def measure(
    url: str, database_url: str, people: Sequence[Person], model: Path, options: Options
) -> list[Transcript]:
    """Play every person, then read what the database holds for each."""
    templates = Templates.from_model(model)
    played: list[tuple[Transcript, str]] = []
    for number, person in enumerate(people, 1):
        transcript, session_id = play(url, person, templates, options)
        logger.info("%s/%s %s: %s messages", number, len(people), person.id, len(transcript.turns))
        played.append((transcript, session_id))
    engine = make_engine(database_url)
    try:
        for transcript, session_id in played:
            read_back(engine, transcript, session_id)
    finally:
        engine.dispose()
    return [transcript for transcript, _ in played]


def run(options: Options) -> int:
    """Start the stack, play the people, print the figures; 2 when it could not run."""
    try:
        people = load_people(options.data)
    except (OSError, ValueError) as error:
        logger.error("The people could not be loaded: %s", error)
        return 2
    if options.only:
        people = [p for p in people if p.id in options.only]
        if not people:
            logger.error("No person with id %s", ", ".join(options.only))
            return 2
    model = options.model or model_path()
    if not model.exists():
        logger.error("No model at %s: run `make train`", model)
        return 2
    logger.info("Model: %s; %s people", model.name, len(people))
    workdir = Path(tempfile.mkdtemp(prefix="werkmaatje-bench-people-"))
    code = 0
    try:
        with running_stack(workdir, model) as stack:
            url = f"http://127.0.0.1:{stack.settings.gateway_port}/chat/messages"
            database_url = f"sqlite:///{workdir / 'werkmaatje.db'}"
            transcripts = measure(url, database_url, people, model, options)
            if any(transcript.failed for transcript in transcripts):
                code = 1
                logger.error("Messages failed; logs of the processes:\n%s", stack.log_tails())
    except StartupError as error:
        logger.error("The stack could not start: %s", error)
        return 2
    finally:
        if options.keep:
            logger.info("Database and logs kept in %s", workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    scores = [score(transcript) for transcript in transcripts]
    for transcript, result in zip(transcripts, scores, strict=True):
        print(result.summary(transcript), file=sys.stderr, flush=True)
    for line in figures(scores):
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.people`."""
    parser = argparse.ArgumentParser(prog="python -m bench.people", description=__doc__)
    add_arguments(parser)
    parser.add_argument("--model", type=Path, default=None, metavar="PATH")
    parser.add_argument("--reply-timeout", type=float, default=30.0, metavar="S")
    parser.add_argument("--keep", action="store_true", help="keep the database and logs")
    return run(options_from(parser.parse_args(argv)))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    sys.exit(main())
