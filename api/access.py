"""Who may see and do what. A case outside a principal's reach is reported as
missing (404): even its existence is not theirs. A visible case whose action
belongs to another role is forbidden (403)."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import HTTPException, status

from models.principals import Principal, PrincipalKind
from store.reads import CaseScope


def can_see(principal: Principal, compound: str, departments: Iterable[str]) -> bool:
    if principal.kind.reads_every_case:
        return True
    if principal.kind == PrincipalKind.BRANCH:
        return compound in principal.compounds
    return principal.department in set(departments)


def scope_of(principal: Principal) -> CaseScope:
    if principal.kind.reads_every_case:
        return CaseScope()
    if principal.kind == PrincipalKind.BRANCH:
        return CaseScope(compounds=principal.compounds)
    return CaseScope(department=principal.department)


def forbid(message: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=message)


def require_kind(principal: Principal, kind: PrincipalKind, doing: str) -> None:
    if principal.kind != kind:
        raise forbid(f"only a {kind.value} may {doing}; you are {principal.actor}")


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
