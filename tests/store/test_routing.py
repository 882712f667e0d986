"""Routing a handover to a recruiter: the pure function."""

from __future__ import annotations

import pytest

from store.routing import Candidate, covers, province_of, route


def recruiter(
    id: int, regions: tuple[str, ...] = (), sectors: tuple[str, ...] = (), **kw: int | bool
) -> Candidate:
    values: dict[str, int | bool] = {"capacity_per_week": 5, **kw}
    return Candidate(id=id, regions=regions, sectors=sectors, **values)  # type: ignore[arg-type]


def test_region_and_sector_beat_region_only() -> None:
    chosen = route(
        [recruiter(1, ("Utrecht",)), recruiter(2, ("Utrecht",), ("zorg",))],
        place="Utrecht",
        sectors=["zorg"],
    )
    assert chosen is not None and chosen.id == 2


def test_region_only_when_no_one_covers_the_sector() -> None:
    chosen = route(
        [recruiter(1, ("Utrecht",), ("bouw",)), recruiter(2, ("Breda",), ("zorg",))],
        place="Utrecht",
        sectors=["zorg"],
    )
    assert chosen is not None and chosen.id == 1


def test_the_default_pool_when_no_one_covers_the_region() -> None:
    chosen = route(
        [recruiter(1, ("Breda",), ("zorg",)), recruiter(2)], place="Utrecht", sectors=["zorg"]
    )
    assert chosen is not None and chosen.id == 2


def test_nobody_fits() -> None:
    assert route([recruiter(1, ("Breda",))], place="Utrecht", sectors=[]) is None
    assert route([], place="Utrecht", sectors=[]) is None


def test_a_province_covers_its_places() -> None:
    chosen = route([recruiter(1, ("provincie Utrecht",))], place="Amersfoort", sectors=[])
    assert chosen is not None and chosen.id == 1
    assert route([recruiter(1, ("Limburg",))], place="Amersfoort", sectors=[]) is None


def test_ties_go_to_the_fewest_open_handovers_then_this_week_then_the_lowest_id() -> None:
    team = [
        recruiter(1, ("Tilburg",), open_handovers=3),
        recruiter(2, ("Tilburg",), open_handovers=1, handovers_this_week=2),
        recruiter(3, ("Tilburg",), open_handovers=1, handovers_this_week=1),
        recruiter(4, ("Tilburg",), open_handovers=1, handovers_this_week=1),
    ]
    chosen = route(team, place="tilburg", sectors=[])
    assert chosen is not None and chosen.id == 3


def test_capacity_and_inactive_recruiters_are_respected() -> None:
    team = [
        recruiter(1, ("Delft",), ("ict",), handovers_this_week=5),
        recruiter(2, ("Delft",), ("ict",), active=False),
        recruiter(3, ("Delft",)),
    ]
    chosen = route(team, place="Delft", sectors=["ICT"])
    assert chosen is not None and chosen.id == 3


@pytest.mark.parametrize(
    ("place", "province"),
    [("Den Bosch", "noord-brabant"), ("Zwolle", "overijssel"), ("Atlantis", None), (None, None)],
)
def test_province_of(place: str | None, province: str | None) -> None:
    assert province_of(place) == province


def test_covers_needs_a_place() -> None:
    assert not covers(("Utrecht",), None)
    assert covers(("  UTRECHT ",), "utrecht")


@pytest.mark.parametrize(
    ("region", "place", "expected"),
    [
        ("Utrecht", "Amersfoort", False),  # the city, not the province
        ("provincie Utrecht", "Amersfoort", True),
        ("Provincie Groningen", "Delfzijl", True),
        ("Groningen", "Delfzijl", False),
        ("Groningen", "Groningen", True),
        ("Gelderland", "Ede", True),  # only a province: no place is called that
        ("Gelderland", "Zwolle", False),
    ],
)
def test_a_province_name_that_is_also_a_city_means_the_city(
    region: str, place: str, expected: bool
) -> None:
    assert covers([region], place) is expected
