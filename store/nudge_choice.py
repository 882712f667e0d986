"""Which nudge a person gets next: a module that fits them, or the next encouraging message.

Pure functions over the catalogue and plain values: the caller passes what it knows about the
person and gets the same answer for the same input, so a retried job sends the same nudge.

Matching (docs/nudges.md, "Matching"): the person's development points, roles and sectors are
split into lowercase words (store.nudge_catalogue.words). A word says a keyword when it is the
keyword, or when the keyword has at least 4 letters and the word begins or ends with it:
"computers" and "computervaardigheden" say "computer", "ouderenzorg" says "zorg". A topic is
hit when a word says one of the topic's keywords; a title word is hit the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence

from store.nudge_catalogue import Catalogue, Encouragement, Module, words

# Development points are what the person wants to learn, which is what a module is for;
# roles and sectors only say where they want to work.
DEVELOPMENT_WEIGHT = 2
WISH_WEIGHT = 1
# A topic hit counts twice as much as a title word: topics are chosen with care, titles are
# written for people and hold more chance words.
TOPIC_FACTOR = 2
MIN_AFFIX_LETTERS = 4
# Title words that say nothing about what a module teaches.
_TITLE_STOPWORDS = frozenset(
    {
        "voor", "naar", "over", "jouw", "met", "een", "het", "hoe", "wat", "bij", "zonder",
        "werk", "werken", "eerste", "stappen", "basis", "halen", "beste", "goed", "past", "ook",
        "your", "with", "for", "the", "and", "how", "what", "work", "working", "first",
        "steps", "basics", "making", "most", "after", "time", "even", "same", "who", "does",
    }
)  # fmt: skip
SUCCESS_MAX_LENGTH = 160


def says(word: str, keyword: str) -> bool:
    """Whether a person's word says `keyword`: the same word, or a compound or plural of it."""
    if word == keyword:
        return True
    return len(keyword) >= MIN_AFFIX_LETTERS and (
        word.startswith(keyword) or word.endswith(keyword)
    )


def _weigh(person: Sequence[tuple[str, int]], keywords: Collection[str]) -> int:
    """The heaviest weight among the person's words that say one of `keywords` (0: none)."""
    return max(
        (weight for word, weight in person if any(says(word, key) for key in keywords)),
        default=0,
    )


def module_score(catalogue: Catalogue, module: Module, person: Sequence[tuple[str, int]]) -> int:
    """How well a module fits the person's weighted words (0: not at all)."""
    topic_score = sum(_weigh(person, catalogue.topics.get(topic, ())) for topic in module.topics)
    title_words = {
        word
        for word in words(f"{module.title.nl} {module.title.en}")
        if len(word) >= MIN_AFFIX_LETTERS and word not in _TITLE_STOPWORDS
    }
    title_score = sum(_weigh(person, (word,)) for word in title_words)
    return TOPIC_FACTOR * topic_score + title_score


def person_words(
    *, development_points: Sequence[str], roles: Sequence[str], sectors: Sequence[str]
) -> list[tuple[str, int]]:
    """The person's words with their weight: development points weigh most."""
    weighted = [(word, DEVELOPMENT_WEIGHT) for text in development_points for word in words(text)]
    weighted += [(word, WISH_WEIGHT) for text in (*roles, *sectors) for word in words(text)]
    return weighted


def rank_modules(
    catalogue: Catalogue,
    *,
    development_points: Sequence[str],
    roles: Sequence[str],
    sectors: Sequence[str],
    done_module_ids: Collection[str],
) -> list[Module]:
    """The modules not sent before, best fit first, then most popular, then by id."""
    person = person_words(development_points=development_points, roles=roles, sectors=sectors)
    fresh = [module for module in catalogue.modules if module.id not in done_module_ids]
    return sorted(
        fresh,
        key=lambda module: (
            -module_score(catalogue, module, person),
            -module.popularity,
            module.id,
        ),
    )


def choose_module(
    catalogue: Catalogue,
    *,
    development_points: Sequence[str],
    roles: Sequence[str],
    sectors: Sequence[str],
    done_module_ids: Collection[str],
) -> Module | None:
    """The best module the person was never sent; None when every module was sent."""
    ranked = rank_modules(
        catalogue,
        development_points=development_points,
        roles=roles,
        sectors=sectors,
        done_module_ids=done_module_ids,
    )
    return ranked[0] if ranked else None


def usable_encouragements(
    catalogue: Catalogue, *, name: str | None, talents: Sequence[str], successes: Sequence[str]
) -> list[Encouragement]:
    """The messages whose placeholders can be filled for this person."""
    available = {
        "name": bool(first_name(name)),
        "talent": any(talent.strip() for talent in talents),
        "success": any(success.strip() for success in successes),
    }
    return [
        message
        for message in catalogue.encouragements
        if all(available[need] for need in message.needs)
    ]


def choose_encouragement(
    catalogue: Catalogue,
    *,
    language: str,
    sent_ids: Sequence[str],
    name: str | None,
    talents: Sequence[str],
    successes: Sequence[str],
    seed: int = 0,
) -> tuple[str, str]:
    """The next message for a person as (id, text with placeholders filled).

    `sent_ids` are the encouragement ids sent to them, oldest first; `successes` their success
    moments, oldest first (the newest is quoted). Every usable message is sent once before a
    new round starts. `seed` (say, the person's id) gives each person their own fixed order.
    Raises LookupError when no message fits, which a checked catalogue rules out.
    """
    usable = usable_encouragements(catalogue, name=name, talents=talents, successes=successes)
    if not usable:
        raise LookupError("no encouragement in the catalogue fits this person")
    usable_ids = {message.id for message in usable}
    this_round: set[str] = set()
    for sent in sent_ids:
        if sent in usable_ids:
            this_round.add(sent)
            if this_round == usable_ids:
                this_round = set()
    order = sorted(usable, key=lambda message: _shuffled(seed, message.id))
    left = [message for message in order if message.id not in this_round]
    # A new round must not open with the message that closed the last one.
    if len(left) > 1 and sent_ids and left[0].id == sent_ids[-1]:
        left = left[1:]
    message = left[0]
    clean_talents = [talent.strip() for talent in talents if talent.strip()]
    clean_successes = [success.strip() for success in successes if success.strip()]
    # Each message about a talent names the next one, so every talent gets its turn.
    talent_ids = {m.id for m in catalogue.encouragements if "talent" in m.needs}
    talent_turn = sum(1 for sent in sent_ids if sent in talent_ids)
    values = {
        "name": first_name(name),
        "talent": clean_talents[talent_turn % len(clean_talents)] if clean_talents else "",
        "success": _quotable(clean_successes[-1]) if clean_successes else "",
    }
    text = message.text(language)
    for field in message.needs:
        text = text.replace("{" + field + "}", values[field])
    return message.id, text


def first_name(name: str | None) -> str:
    """The first word of a name as the person gave it ("" when there is none)."""
    parts = (name or "").split()
    return parts[0] if parts else ""


def _shuffled(seed: int, message_id: str) -> str:
    """A sort key that mixes the messages in a fixed order of its own for each seed."""
    return hashlib.sha256(f"{seed}:{message_id}".encode()).hexdigest()


def _quotable(success: str) -> str:
    """A success moment to quote: its closing punctuation goes (the message adds its own)."""
    text = success.rstrip(" .!?;:,")
    if len(text) > SUCCESS_MAX_LENGTH:
        text = text[:SUCCESS_MAX_LENGTH].rsplit(" ", 1)[0] + "…"
    return text
