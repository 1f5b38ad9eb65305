"""Who acts through the API, and what each kind of principal may do."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class PrincipalKind(StrEnum):
    BRANCH = "branch"  # a compound party branch: raises and confirms, in its compounds
    DEPARTMENT = "department"  # reports in, signs off, asks for time, on its own cases
    AUDITOR = "auditor"  # reads everything, changes nothing
    ADMIN = "admin"  # manages principals and the policy


@dataclass(frozen=True)
class Principal:
    name: str
    kind: PrincipalKind
    compounds: frozenset[str] = field(default_factory=frozenset)
    department: str | None = None

    @property
    def actor(self) -> str:
        """How the principal is recorded on the events it causes."""
        return f"{self.kind.value}:{self.name}"


def principal_document(principal: Principal) -> dict[str, Any]:
    return {
        "name": principal.name,
        "kind": principal.kind.value,
        "compounds": sorted(principal.compounds),
        "department": principal.department,
    }
