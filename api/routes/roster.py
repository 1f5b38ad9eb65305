"""The units' duty rosters (值班表) over HTTP, as ``whistle roster`` gives them.

Admins set a unit's shifts; admins, auditors, stations and the unit itself read them.

No ``from __future__ import annotations``: FastAPI reads these annotations at run time.
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from api.access import forbid, require_kind
from api.deps import EngineDep, PrincipalDep
from api.notification_responses import RosterDocument
from models.errors import RuleViolation
from models.limits import DEPARTMENT_CODE
from models.principals import Principal, PrincipalKind
from notify.roster import SHIFTS_MAX, RosterError, Shift, parse_roster
from store.roster import clear_roster, roster_of, set_rosters

router = APIRouter(prefix="/roster", tags=["notifications"])
Unit = Annotated[str, Path(pattern=DEPARTMENT_CODE, examples=["police_anning"])]


class RosterBody(BaseModel):
    """A unit's whole roster: its old shifts are replaced (an empty list clears it)."""

    model_config = ConfigDict(extra="forbid")

    shifts: list[dict[str, object]] = Field(max_length=SHIFTS_MAX)
    """Each as in the roster file: days, from, to, name, phone and/or email."""


def _may_read(principal: Principal, unit: str) -> None:
    if principal.kind.reads_every_case or principal.kind == PrincipalKind.STATION:
        return
    if principal.kind == PrincipalKind.DEPARTMENT and principal.department == unit:
        return
    raise forbid(
        f"only admins, auditors, stations and the unit read its roster; you are {principal.actor}"
    )


def _document(unit: str, shifts: list[Shift]) -> RosterDocument:
    found = [shift.model_dump(by_alias=True, exclude={"unit"}) for shift in shifts]
    return RosterDocument(unit=unit, shifts=found)


@router.get("/{unit}")
def get_roster(unit: Unit, principal: PrincipalDep, engine: EngineDep) -> RosterDocument:
    """The unit's shifts."""
    _may_read(principal, unit)
    return _document(unit, roster_of(engine, unit))


@router.put("/{unit}")
def put_roster(
    unit: Unit, body: RosterBody, principal: PrincipalDep, engine: EngineDep
) -> RosterDocument:
    """Set the unit's shifts, replacing its old ones; a bad shift changes nothing."""
    require_kind(principal, PrincipalKind.ADMIN, "set a duty roster")
    try:
        shifts = parse_roster({"shift": [{**s, "unit": unit} for s in body.shifts]}, "shifts")
    except RosterError as err:
        raise RuleViolation(str(err)) from None
    if shifts:
        set_rosters(engine, shifts, datetime.now(UTC))
    else:
        clear_roster(engine, unit)
    return _document(unit, roster_of(engine, unit))
