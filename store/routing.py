"""Choosing the dedicated recruiter for a handover: a pure function over plain values.

Order: an active recruiter with room this week who covers the person's region and one of
their sectors; else one who covers the region; else one from the default pool (recruiters
without regions). Within a tier the one with the fewest open handovers wins, then the one
with the fewest handovers this week, then the longest-registered (lowest id).

A region is a place ("Utrecht") or a province ("provincie Utrecht", or just its name when it
is not also a place): a recruiter for a province covers every place listed for it below.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Province -> the larger places in it; enough to route the common cases, and a recruiter may
# always list places themselves.
PROVINCES: dict[str, tuple[str, ...]] = {
    "groningen": ("groningen", "delfzijl", "veendam", "hoogezand", "stadskanaal", "winschoten"),
    "friesland": ("leeuwarden", "drachten", "sneek", "heerenveen", "harlingen", "franeker"),
    "drenthe": ("assen", "emmen", "hoogeveen", "meppel", "coevorden"),
    "overijssel": ("zwolle", "enschede", "hengelo", "deventer", "almelo", "kampen", "oldenzaal"),
    "flevoland": ("lelystad", "almere", "dronten", "emmeloord", "zeewolde"),
    "gelderland": (
        "arnhem", "nijmegen", "apeldoorn", "ede", "doetinchem", "harderwijk", "tiel",
        "zutphen", "wageningen", "barneveld", "culemborg",
    ),
    "utrecht": (
        "utrecht", "amersfoort", "nieuwegein", "veenendaal", "zeist", "houten", "ijsselstein",
        "woerden", "soest",
    ),
    "noord-holland": (
        "amsterdam", "haarlem", "zaandam", "alkmaar", "hilversum", "hoorn", "den helder",
        "purmerend", "amstelveen", "hoofddorp", "haarlemmermeer", "zaanstad",
    ),
    "zuid-holland": (
        "rotterdam", "den haag", "'s-gravenhage", "leiden", "dordrecht", "zoetermeer", "delft",
        "gouda", "schiedam", "alphen aan den rijn", "spijkenisse", "vlaardingen", "gorinchem",
    ),
    "zeeland": ("middelburg", "vlissingen", "goes", "terneuzen", "zierikzee"),
    "noord-brabant": (
        "eindhoven", "tilburg", "breda", "'s-hertogenbosch", "den bosch", "helmond", "oss",
        "roosendaal", "bergen op zoom", "waalwijk", "oosterhout", "veghel",
    ),
    "limburg": ("maastricht", "venlo", "heerlen", "sittard", "roermond", "weert", "kerkrade"),
}  # fmt: skip


def _clean(value: str) -> str:
    return " ".join(value.lower().replace("provincie", "").split())


def province_of(place: str | None) -> str | None:
    """The province of a place in the list, if known."""
    if not place:
        return None
    cleaned = _clean(place)
    for province, places in PROVINCES.items():
        if cleaned in places:
            return province
    return None


def _province(region: str) -> str | None:
    """The province a region names: "provincie Utrecht", or a province's name that is not also
    a place ("Gelderland"); "Utrecht" and "Groningen" alone are the cities."""
    name = _clean(region)
    if name not in PROVINCES:
        return None
    explicit = "provincie" in region.lower()
    is_place = any(name in places for places in PROVINCES.values())
    return name if explicit or not is_place else None


def covers(regions: Iterable[str], place: str | None) -> bool:
    """Whether a recruiter's regions include the place or its province."""
    if not place:
        return False
    cleaned = _clean(place)
    province = province_of(place)
    for region in regions:
        if _clean(region) == cleaned or (province and _province(region) == province):
            return True
    return False


@dataclass(frozen=True)
class Candidate:
    """A recruiter as routing sees them, with their current load."""

    id: int
    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    capacity_per_week: int
    active: bool = True
    open_handovers: int = 0
    handovers_this_week: int = 0

    @property
    def has_room(self) -> bool:
        """Whether another handover fits in this week's capacity."""
        return self.active and self.handovers_this_week < self.capacity_per_week


def route(
    candidates: Sequence[Candidate], *, place: str | None, sectors: Iterable[str]
) -> Candidate | None:
    """The recruiter for a person in `place` who wants work in `sectors`; None when nobody fits."""
    wanted = {sector.lower() for sector in sectors}
    available = [candidate for candidate in candidates if candidate.has_room]
    regional = [candidate for candidate in available if covers(candidate.regions, place)]
    tiers = (
        [c for c in regional if wanted & {sector.lower() for sector in c.sectors}],
        regional,
        [candidate for candidate in available if not candidate.regions],
    )
    for tier in tiers:
        if tier:
            return min(tier, key=lambda c: (c.open_handovers, c.handovers_this_week, c.id))
    return None
