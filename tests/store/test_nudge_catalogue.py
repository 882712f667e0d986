"""The nudge catalogue: the shipped file, every check on a broken copy, the choice, the CLI."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.privacy import mentions_health
from store.nudge_catalogue import (
    DEFAULT_CATALOGUE,
    Catalogue,
    CatalogueError,
    check_catalogue,
    load_catalogue,
)
from store.nudge_choice import choose_encouragement, choose_module, rank_modules
from tests.support.cli import CliResult, run_cli

RAW: dict[str, Any] = yaml.safe_load(DEFAULT_CATALOGUE.read_text("utf-8"))


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """The shipped catalogue."""
    return load_catalogue()


def broken(tmp_path: Path, change: Any) -> list[str]:
    """The problems of a copy of the shipped file after `change(data)`; it must fail."""
    data = copy.deepcopy(RAW)
    change(data)
    path = tmp_path / "nudges.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    with pytest.raises(CatalogueError) as failure:
        load_catalogue(path)
    return failure.value.problems


def only(catalogue: Catalogue, **changes: Any) -> Catalogue:
    """A copy of the catalogue with some sections replaced."""
    return catalogue.model_copy(update=changes)


def test_the_shipped_catalogue_passes_the_check(catalogue: Catalogue) -> None:
    assert len(catalogue.modules) >= 15
    assert len(catalogue.encouragements) >= 20
    themes = {topic for module in catalogue.modules for topic in module.topics}
    required = {
        "cv", "gat-in-cv", "sollicitatiegesprek", "praten-over-afwezigheid", "talenten",
        "digitale-vaardigheden", "computer", "excel", "nederlands", "dagplanning",
        "werkhervatting", "leren-en-werken", "zorg", "logistiek", "horeca", "klantcontact",
    }  # fmt: skip
    assert required <= themes
    for module in catalogue.modules:
        assert module.url.startswith("https://")
        texts = (module.title.nl, module.title.en, module.description.nl, module.description.en)
        assert all(text and not mentions_health(text) for text in texts)
    needs = {need for message in catalogue.encouragements for need in message.needs}
    assert needs == {"name", "talent", "success"}


def test_a_cv_module_helps_with_a_gap(catalogue: Catalogue) -> None:
    gap = [m for m in catalogue.modules if {"cv", "gat-in-cv"} <= set(m.topics)]
    assert gap, "a module about a CV with a gap"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["modules"][1].update(id=d["modules"][0]["id"]),
            "modules[1].id: 'cv-in-een-middag' is already the id of modules[0]",
        ),
        (
            lambda d: d["encouragements"][0].update(id=d["modules"][2]["id"]),
            "encouragements[0].id: 'sollicitatiebrief-kort-en-sterk' is already the id of "
            "modules[2]",
        ),
        (
            lambda d: d["modules"][3].update(url="http://digiplein.example.net/x"),
            "modules[3].url: must start with https://",
        ),
        (
            lambda d: d["modules"][4]["topics"].append("breien"),
            "modules[4].topics[2]: unknown topic 'breien'",
        ),
        (lambda d: d["modules"][5]["title"].pop("en"), "modules[5].title.en: is missing"),
        (
            lambda d: d["modules"][5]["description"].update(nl="  "),
            "modules[5].description.nl: must not be empty",
        ),
        (lambda d: d["encouragements"][2].pop("nl"), "encouragements[2].nl: is missing"),
        (
            lambda d: d["encouragements"][0].update(nl="Hoi {name}, elke stap telt."),
            "encouragements[0].nl: uses {name}; add it to needs",
        ),
        (
            lambda d: d["encouragements"][0].update(en="Well done, {naam}."),
            "encouragements[0].en: {naam} is not a placeholder",
        ),
        (
            lambda d: d["encouragements"][0].update(needs=["talent"]),
            "encouragements[0].nl: needs talent but does not use {talent}",
        ),
        (
            lambda d: d["modules"][6]["description"].update(nl="Na de chemo weer aan de slag."),
            "modules[6].description.nl: mentions a health word",
        ),
        (
            lambda d: d["encouragements"][3].update(en="Even after cancer you can do it."),
            "encouragements[3].en: mentions a health word",
        ),
        (
            lambda d: d["topics"]["zorg"].insert(0, "chemokuur"),
            "topics.zorg[0]: 'chemokuur' is a health word",
        ),
        (
            lambda d: d["modules"][7].update(duration_minutes=0),
            "modules[7].duration_minutes: input should be greater than or equal to 1",
        ),
        (
            lambda d: d["modules"][7].update(duration_minutes=601),
            "modules[7].duration_minutes: input should be less than or equal to 600",
        ),
        (lambda d: d.update(modules=d["modules"][:14]), "modules: has 14 items; at least 15"),
        (
            lambda d: d.update(encouragements=d["encouragements"][:19]),
            "encouragements: has 19 items; at least 20",
        ),
        (
            lambda d: d["modules"][0].update(level="easy"),
            "modules[0].level: is not a known field",
        ),
    ],
)
def test_each_rule_fails_with_its_message(tmp_path: Path, change: Any, expected: str) -> None:
    problems = broken(tmp_path, change)
    assert any(expected in problem for problem in problems), problems
    assert all(problem.startswith(str(tmp_path / "nudges.yml")) for problem in problems)


def test_every_problem_is_listed_with_its_line(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["modules"][3]["url"] = "http://digiplein.example.net/x"
        data["modules"][4]["topics"] = ["breien"]
        data["encouragements"][1]["id"] = data["encouragements"][0]["id"]

    problems = broken(tmp_path, change)
    assert len(problems) == 3, problems
    lines = [int(problem.split(":")[1]) for problem in problems]
    assert lines == sorted(lines)
    url_line = next(problem for problem in problems if ".url:" in problem).split(":")[1]
    text = (tmp_path / "nudges.yml").read_text("utf-8").splitlines()
    assert text[int(url_line) - 1].strip().startswith("url: http://")


def test_too_few_plain_messages_is_a_problem() -> None:
    data = copy.deepcopy(RAW)
    for message in data["encouragements"]:
        if not message.get("needs"):
            message["nl"] += " {name}"
            message["en"] += " {name}"
            message["needs"] = ["name"]
    catalogue, problems = check_catalogue(data)
    assert catalogue is None
    assert [text for _, text in problems] == [
        "only 0 messages need nothing; at least 10 are needed for people who have not told "
        "their name, talents or successes"
    ]


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("modules: [\n", "utf-8")
    with pytest.raises(CatalogueError, match="not valid YAML"):
        load_catalogue(bad)
    with pytest.raises(CatalogueError, match="cannot be read"):
        load_catalogue(tmp_path / "missing.yml")


# --- choosing a module ---------------------------------------------------------------------


def test_a_development_point_picks_the_matching_module(catalogue: Catalogue) -> None:
    excel = choose_module(
        catalogue,
        development_points=["beter worden in Excel"],
        roles=[],
        sectors=[],
        done_module_ids=set(),
    )
    assert excel is not None and "excel" in excel.topics
    computers = choose_module(
        catalogue,
        development_points=["omgaan met computers"],
        roles=[],
        sectors=[],
        done_module_ids=set(),
    )
    assert computers is not None
    assert {"computer", "digitale-vaardigheden"} & set(computers.topics)
    english = choose_module(
        catalogue,
        development_points=["I want to get better at spreadsheets"],
        roles=[],
        sectors=[],
        done_module_ids=set(),
    )
    assert english is not None and "excel" in english.topics


def test_a_sector_picks_a_module_of_that_sector(catalogue: Catalogue) -> None:
    for sectors, roles in [(["zorg"], []), ([], ["verzorgende in de ouderenzorg"])]:
        chosen = choose_module(
            catalogue, development_points=[], roles=roles, sectors=sectors, done_module_ids=set()
        )
        assert chosen is not None and "zorg" in chosen.topics
    # The same question with the zorg module and one unrelated, more popular module only.
    zorg = next(m for m in catalogue.modules if m.topics == ["zorg"])
    other = next(m for m in catalogue.modules if m.topics == ["rekenen"])
    popular = other.model_copy(update={"popularity": zorg.popularity + 1000})
    pair = only(catalogue, modules=[popular, zorg])
    chosen = choose_module(
        pair, development_points=[], roles=[], sectors=["Zorg"], done_module_ids=set()
    )
    assert chosen == zorg
    nothing = choose_module(pair, development_points=[], roles=[], sectors=[], done_module_ids=())
    assert nothing == popular


def test_development_points_weigh_more_than_the_sector(catalogue: Catalogue) -> None:
    chosen = choose_module(
        catalogue,
        development_points=["excel"],
        roles=[],
        sectors=["zorg"],
        done_module_ids=set(),
    )
    assert chosen is not None and "excel" in chosen.topics


def test_never_the_same_module_twice(catalogue: Catalogue) -> None:
    done: list[str] = []
    while (
        chosen := choose_module(
            catalogue,
            development_points=["plannen", "excel"],
            roles=["magazijnmedewerker"],
            sectors=["logistiek"],
            done_module_ids=set(done),
        )
    ) is not None:
        done.append(chosen.id)
        assert len(done) <= len(catalogue.modules)
    assert len(done) == len(set(done)) == len(catalogue.modules)


def test_ties_go_to_the_most_popular_then_the_id(catalogue: Catalogue) -> None:
    base = catalogue.modules[0]
    modules = [
        base.model_copy(update={"id": "b-middle", "popularity": 5}),
        base.model_copy(update={"id": "c-top", "popularity": 9}),
        base.model_copy(update={"id": "a-top", "popularity": 9}),
        base.model_copy(update={"id": "d-low", "popularity": 1}),
    ]
    ranked = rank_modules(
        only(catalogue, modules=modules),
        development_points=["cv"],
        roles=[],
        sectors=[],
        done_module_ids={"d-low"},
    )
    assert [module.id for module in ranked] == ["a-top", "c-top", "b-middle"]


# --- choosing an encouragement -------------------------------------------------------------

PERSON: dict[str, Any] = {
    "language": "nl",
    "name": "Fatima El Amrani",
    "talents": ["goed met mensen", "precies werken"],
    "successes": ["een cursus afgemaakt", "ik had vandaag een gesprek!"],
}


def send_many(catalogue: Catalogue, count: int, **person: Any) -> list[tuple[str, str]]:
    """The next `count` messages for a person, each sent before the next is chosen."""
    sent: list[tuple[str, str]] = []
    for _ in range(count):
        sent.append(
            choose_encouragement(catalogue, sent_ids=[i for i, _ in sent], seed=7, **person)
        )
    return sent


def test_every_usable_message_comes_once_before_any_repeats(catalogue: Catalogue) -> None:
    total = len(catalogue.encouragements)
    sent = send_many(catalogue, 2 * total + 3, **PERSON)
    ids = [message_id for message_id, _ in sent]
    assert sorted(ids[:total]) == sorted(m.id for m in catalogue.encouragements)
    assert sorted(ids[total : 2 * total]) == sorted(ids[:total])
    assert all(a != b for a, b in itertools.pairwise(ids))
    assert all("{" not in text and "}" not in text for _, text in sent)
    again = send_many(catalogue, total, **PERSON)
    assert again == sent[:total], "the same input gives the same messages"


def test_without_data_only_plain_messages(catalogue: Catalogue) -> None:
    plain = {m.id for m in catalogue.encouragements if not m.needs}
    nobody: dict[str, Any] = {"language": "en", "name": None, "talents": [], "successes": []}
    sent = send_many(catalogue, len(plain), **nobody)
    assert {message_id for message_id, _ in sent} == plain
    english = {m.id: m.en for m in catalogue.encouragements}
    assert all(text == english[message_id] for message_id, text in sent)


def test_success_messages_need_a_success_and_quote_the_newest(catalogue: Catalogue) -> None:
    needing = {m.id for m in catalogue.encouragements if "success" in m.needs}
    no_success = {**PERSON, "successes": []}
    sent = send_many(catalogue, 3 * len(catalogue.encouragements), **no_success)
    assert needing.isdisjoint(message_id for message_id, _ in sent)
    with_success = send_many(catalogue, len(catalogue.encouragements), **PERSON)
    quoted = [text for message_id, text in with_success if message_id in needing]
    assert len(quoted) == len(needing)
    assert all('"ik had vandaag een gesprek"' in text for text in quoted)
    assert not any("cursus afgemaakt" in text for _, text in with_success)


def test_name_and_talent_are_filled_in(catalogue: Catalogue) -> None:
    by_id = {m.id: m for m in catalogue.encouragements}
    sent = send_many(catalogue, len(catalogue.encouragements), **PERSON)
    for message_id, text in sent:
        needs = by_id[message_id].needs
        if "name" in needs:
            assert "Fatima" in text and "Amrani" not in text
        if "talent" in needs:
            assert "goed met mensen" in text or "precies werken" in text
    assert {"goed met mensen", "precies werken"} <= {
        talent for _, text in sent for talent in PERSON["talents"] if talent in text
    }


def test_a_new_round_starts_with_a_different_message(catalogue: Catalogue) -> None:
    plain = [m for m in catalogue.encouragements if not m.needs]
    nobody: dict[str, Any] = {"language": "nl", "name": "", "talents": [" "], "successes": []}
    for seed in range(10):
        first_round: list[str] = []
        for _ in plain:
            message_id, _text = choose_encouragement(
                catalogue, sent_ids=first_round, seed=seed, **nobody
            )
            first_round.append(message_id)
        next_id, _text = choose_encouragement(catalogue, sent_ids=first_round, seed=seed, **nobody)
        assert next_id != first_round[-1]


# --- the command ---------------------------------------------------------------------------


def test_the_check_command(
    catalogue: Catalogue, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def check_command(*args: str) -> CliResult:
        return run_cli(capsys, "nudges", "catalogue", "check", *args)

    ok = check_command()
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == (
        f"Catalogue OK: {len(catalogue.modules)} modules, "
        f"{len(catalogue.encouragements)} encouragements (nl and en)."
    )
    data = copy.deepcopy(RAW)
    data["modules"][3]["url"] = "http://digiplein.example.net/x"
    data["encouragements"][0]["nl"] = "Na de chemo telt elke stap."
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    failed = check_command("--file", str(path))
    assert failed.returncode == 2
    assert failed.stdout == ""
    assert "modules[3].url: must start with https://" in failed.stderr
    assert "encouragements[0].nl: mentions a health word" in failed.stderr
    assert "2 problem(s)" in failed.stderr
    help_text = check_command("--help")
    assert help_text.returncode == 0 and "--file PATH" in help_text.stdout
