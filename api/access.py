"""Who may see and do what. A case outside a principal's reach is reported as
missing (404): even its existence is not theirs. A visible case whose action
belongs to another role is forbidden (403).

A station's reach is its street in the organisation in force, which callers read
on each use (``store.org.org_in_force``) and pass in: no cache to go stale after
``whistle org --apply``. Without an organisation in force a station reaches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import HTTPException, status

from models.org import Organisation, compounds_of_street, find_compound
from models.principals import Principal, PrincipalKind
from store.case_filters import CaseScope


def _branch_compounds(principal: Principal) -> frozenset[str]:
    """A branch's compounds as given and as organisation codes (lower case): a case
    raised with an organisation in force records the compound's code."""
    return principal.compounds | {c.strip().lower() for c in principal.compounds}


def street_compounds(org: Organisation | None, street: str | None) -> frozenset[str]:
    """The codes of every compound in ``street``; none without an organisation."""
    if org is None or street is None:
        return frozenset()
    return frozenset(compounds_of_street(org, street))


def _in_street(org: Organisation | None, street: str | None, compound: str) -> bool:
    found = find_compound(org, compound) if org is not None else None
    return found is not None and found.code in street_compounds(org, street)


def can_see(
    principal: Principal,
    compound: str,
    departments: Iterable[str],
    *,
    org: Organisation | None,
) -> bool:
    """``departments``: the case's assignments (unit codes where it was routed)."""
    if principal.kind.reads_every_case:
        return True
    if principal.kind == PrincipalKind.BRANCH:
        return compound in _branch_compounds(principal)
    if principal.kind == PrincipalKind.STATION:
        return _in_street(org, principal.street, compound)
    return principal.department in set(departments)


def scope_of(principal: Principal, *, org: Organisation | None) -> CaseScope:
    if principal.kind.reads_every_case:
        return CaseScope()
    if principal.kind == PrincipalKind.BRANCH:
        return CaseScope(compounds=_branch_compounds(principal))
    if principal.kind == PrincipalKind.STATION:
        return CaseScope(compounds=street_compounds(org, principal.street))
    return CaseScope(department=principal.department)


def forbid(message: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=message)


def require_kind(principal: Principal, kind: PrincipalKind, doing: str) -> None:
    if principal.kind != kind:
        raise forbid(f"only a {kind.value} may {doing}; you are {principal.actor}")


def require_station_for(
    principal: Principal, compound: str, org: Organisation | None, doing: str
) -> None:
    """Only the station of the street that holds ``compound`` may do ``doing``."""
    require_kind(principal, PrincipalKind.STATION, doing)
    if org is None:
        raise forbid(
            f"no organisation is in force, so no street holds compound {compound!r}; "
            "put one in force: whistle org --apply FILE"
        )
    if not _in_street(org, principal.street, compound):
        raise forbid(
            f"{principal.actor} is the station of street {principal.street!r}; "
            f"compound {compound!r} is not in it"
        )


def require_reader_of_all(principal: Principal, doing: str) -> None:
    if not principal.kind.reads_every_case:
        raise forbid(f"only auditors and admins {doing}; you are {principal.actor}")


def acting_department(principal: Principal, named: str | None) -> str:
    """The department a department principal acts for: its own, and only its own."""
    require_kind(principal, PrincipalKind.DEPARTMENT, "act for a department")
    assert principal.department is not None
    if named is not None and named != principal.department:
        raise forbid(f"{principal.actor} acts only for department {principal.department!r}")
    return principal.department
