"""Routing a new case to the units of the organisation in force.

For each department kind the case needs (the departments the branch named, or
else the policy's routing of its category, lead first), the unit whose
jurisdiction covers the compound most narrowly: a unit naming the compound
before one naming its community, before one naming its street.

Without an organisation in force (a small site that never applied one) nothing
is routed to units: the workflow dispatches by department code, as before.
"""

from __future__ import annotations

from collections.abc import Iterable

from models.case import UnitRef
from models.errors import RuleViolation
from models.org import Compound, Organisation, find_compound, units_for
from models.policy import Policy


def org_compound(org: Organisation, compound: str) -> Compound:
    """The organisation's compound a case names (any letter case), else RuleViolation."""
    found = find_compound(org, compound)
    if found is None:
        raise RuleViolation(
            f"compound: {compound!r} is not a compound of the organisation {org.version}; "
            "name one by its code (whistle org --check FILE lists the file's compounds)"
        )
    return found


def compound_code(org: Organisation | None, compound: str) -> str:
    """The code a new case records for its compound: the organisation's, when one is in
    force, so that scoping by street or unit matches it; else the text as given."""
    return compound if org is None else org_compound(org, compound).code


def route_units(
    org: Organisation | None, policy: Policy, compound: str, category: str, named: list[str]
) -> list[UnitRef]:
    """The units to dispatch, one per department kind, in the kinds' order (lead first).

    An unknown category without named departments routes nothing here:
    ``models.rules.check_raise`` refuses it with the one message for it.
    """
    kinds = list(named) or list(policy.routing.get(category.strip(), []))
    if org is None or not kinds:
        return []
    place = org_compound(org, compound)
    community = org.communities[place.community]
    units: list[UnitRef] = []
    for kind in dict.fromkeys(kinds):  # a kind named twice: check_raise names that rule
        found = units_for(org, place.code, kind)
        if not found:
            raise RuleViolation(
                f"compound: no {kind} unit's jurisdiction covers {place.name} "
                f"({place.code}, {community.name}, {org.streets[community.street].name}); "
                "add one to the organisation"
            )
        units.append(UnitRef(code=found[0].code, kind=kind))
    return units


def unit_refs(org: Organisation | None, codes: Iterable[str], *, field: str) -> list[UnitRef]:
    """Each unit code (the station dispatches by hand) as the unit it names in ``org``,
    the organisation in force; without one, a department code of the policy is its
    own kind, as cases are routed then. RuleViolation on ``field`` if one is unknown."""
    refs: list[UnitRef] = []
    for code in codes:
        if org is None:
            refs.append(UnitRef(code=code, kind=code))
            continue
        unit = org.units.get(code)
        if unit is None:
            raise RuleViolation(
                f"{field}: {code!r} is not a unit of the organisation {org.version}"
            )
        refs.append(UnitRef(code=unit.code, kind=unit.kind))
    return refs
