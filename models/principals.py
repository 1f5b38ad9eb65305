"""Who acts through the API, and what each kind of principal may do."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from models.durations import parse_duration
from models.limits import TOKEN_LIFETIME_MAX_DAYS
from models.org import Organisation
from models.text_rules import RuleViolation

TOKEN_LIFETIME_MAX_SECONDS = TOKEN_LIFETIME_MAX_DAYS * 86400


def token_lifetime(text: str, *, field: str) -> int:
    """Seconds of a token lifetime such as ``90d``; at most 3650 days."""
    try:
        seconds = parse_duration(text, field=field)
    except ValueError as err:
        raise RuleViolation(str(err)) from None
    if seconds > TOKEN_LIFETIME_MAX_SECONDS:
        raise RuleViolation(f"{field}: a token lives at most {TOKEN_LIFETIME_MAX_DAYS}d")
    return seconds


class PrincipalKind(StrEnum):
    BRANCH = "branch"  # a compound party branch: raises and confirms, in its compounds
    DEPARTMENT = "department"  # reports in, signs off, asks for time, on its own cases
    AUDITOR = "auditor"  # reads everything, changes nothing
    ADMIN = "admin"  # manages principals and the policy
    STATION = "station"  # a street's duty office: convenes, reviews returns, supervises

    @property
    def reads_every_case(self) -> bool:
        """Auditors and admins read every case, event and the assessment."""
        return self in (PrincipalKind.AUDITOR, PrincipalKind.ADMIN)


@dataclass(frozen=True)
class Principal:
    name: str
    kind: PrincipalKind
    compounds: frozenset[str] = field(default_factory=frozenset)
    department: str | None = None
    """A department principal's unit code (or, without an organisation, department code)."""
    street: str | None = None
    """A station's street code in the organisation in force."""

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
        "street": principal.street,
    }


def binding_of(principal: Principal, org: Organisation | None) -> str:
    """What a principal is bound to, in words: its compounds, its unit or department
    code (saying which), or its street."""
    if principal.kind == PrincipalKind.BRANCH:
        return "compounds " + ", ".join(sorted(principal.compounds))
    if principal.kind == PrincipalKind.STATION:
        street = org.streets.get(principal.street or "") if org else None
        return f"street {principal.street}" + (f" ({street.name})" if street else "")
    if principal.kind == PrincipalKind.DEPARTMENT:
        unit = org.units.get(principal.department or "") if org else None
        if unit is not None:
            return f"unit {unit.code} ({unit.name}, a {unit.kind} unit of the organisation)"
        return (
            f"department code {principal.department} of the policy "
            "(sees the cases dispatched by department code, not those routed to units)"
        )
    return ""
