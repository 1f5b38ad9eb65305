"""A district's organisation as data: streets (街道/镇) → communities (社区) →
compounds (小区), the grids (网格) that walk them, and the units (单位) that
report in, each of a department kind with a jurisdiction.

Pure: built and checked by ``org.loader``, stored by ``store.org``, read on
each use. Workflows never load it (``audit.archive`` leaves it out of the code
fingerprint); routing and scoping look places and units up here.

A jurisdiction is a list of street, community or compound codes: a unit
serves every compound inside any of them. A case names its compound as text
(the README's demo says ``Anningyuan``); :func:`find_compound` matches that
text to a compound code without regard to case.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.errors import RuleViolation


@dataclass(frozen=True)
class Street:
    """A street or township (街道/镇)."""

    code: str
    name: str


@dataclass(frozen=True)
class Community:
    """A community (社区), in exactly one street."""

    code: str
    name: str
    street: str


@dataclass(frozen=True)
class Compound:
    """A residential compound (小区), in exactly one community."""

    code: str
    name: str
    community: str


@dataclass(frozen=True)
class Grid:
    """A grid (网格) of a community, walking some of its compounds."""

    code: str
    name: str
    community: str
    compounds: tuple[str, ...]


@dataclass(frozen=True)
class Unit:
    """A unit that reports in: 派出所 A, 城管中队 B; ``kind`` is a policy department code."""

    code: str
    name: str
    kind: str
    jurisdiction: tuple[str, ...]
    """Street, community or compound codes; the unit serves every compound inside them."""


@dataclass(frozen=True)
class Organisation:
    """One version of a district's organisation; ``version`` is a content hash."""

    version: str
    name: str
    streets: dict[str, Street]
    communities: dict[str, Community]
    compounds: dict[str, Compound]
    grids: dict[str, Grid]
    units: dict[str, Unit]


def find_compound(org: Organisation, compound: str) -> Compound | None:
    """The compound a case names (its code, any letter case), or None."""
    key = compound.strip()
    found = org.compounds.get(key)
    if found is None:
        found = org.compounds.get(key.lower())
    return found


def _compound(org: Organisation, compound: str) -> Compound:
    found = find_compound(org, compound)
    if found is None:
        raise RuleViolation(
            f"compound: {compound!r} is not a compound of the organisation {org.version}"
        )
    return found


def community_of(org: Organisation, compound: str) -> Community:
    """The community a compound is in; RuleViolation if the compound is unknown."""
    return org.communities[_compound(org, compound).community]


def street_of(org: Organisation, compound: str) -> Street:
    """The street a compound is in; RuleViolation if the compound is unknown."""
    return org.streets[community_of(org, compound).street]


def places_of(org: Organisation, compound: str) -> tuple[str, str, str]:
    """The compound's own code, its community's and its street's: narrowest first."""
    found = _compound(org, compound)
    community = org.communities[found.community]
    return found.code, community.code, community.street


def units_for(org: Organisation, compound: str, kind: str) -> list[Unit]:
    """The units of department ``kind`` whose jurisdiction covers ``compound``.

    Narrowest first: units naming the compound itself, then its community, then
    its street; by code within each. RuleViolation if the compound is unknown.
    """
    places = places_of(org, compound)
    ranked: list[tuple[int, str, Unit]] = []
    for unit in org.units.values():
        if unit.kind != kind:
            continue
        ranks = [places.index(code) for code in unit.jurisdiction if code in places]
        if ranks:
            ranked.append((min(ranks), unit.code, unit))
    return [unit for _, _, unit in sorted(ranked, key=lambda item: item[:2])]


def compounds_served(org: Organisation, unit: Unit) -> list[str]:
    """The codes of every compound inside ``unit``'s jurisdiction, in file order."""
    covered = set(unit.jurisdiction)
    return [
        code
        for code, compound in org.compounds.items()
        if code in covered
        or compound.community in covered
        or org.communities[compound.community].street in covered
    ]


def compounds_of_street(org: Organisation, street: str) -> list[str]:
    """The codes of every compound in ``street``, in file order; none for an unknown street."""
    return [
        code
        for code, compound in org.compounds.items()
        if org.communities[compound.community].street == street
    ]
