"""The duty rosters in SQL: set a unit's shifts (replacing its old ones), find who is on duty."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, tzinfo

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine

from models.tables import DutyShiftRecord
from notify.roster import Shift

SHIFTS = DutyShiftRecord.__table__  # type: ignore[attr-defined]


def set_rosters(engine: Engine, shifts: Sequence[Shift], now: datetime) -> dict[str, int]:
    """Each unit named in ``shifts`` gets exactly those shifts; other units keep theirs."""
    by_unit: dict[str, list[Shift]] = defaultdict(list)
    for shift in shifts:
        by_unit[shift.unit].append(shift)
    with engine.begin() as conn:
        conn.execute(delete(SHIFTS).where(SHIFTS.c.unit.in_(list(by_unit))))
        rows = [
            {
                "unit": shift.unit,
                "days": ",".join(shift.days),
                "starts": shift.starts,
                "ends": shift.ends,
                "name": shift.name,
                "phone": shift.phone,
                "email": shift.email,
                "set_at": now,
            }
            for shift in shifts
        ]
        if rows:
            conn.execute(insert(SHIFTS), rows)
    return {unit: len(found) for unit, found in sorted(by_unit.items())}


def clear_roster(engine: Engine, unit: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(SHIFTS).where(SHIFTS.c.unit == unit))


def roster_of(engine: Engine, unit: str | None = None) -> list[Shift]:
    query = select(SHIFTS).order_by(SHIFTS.c.unit, SHIFTS.c.starts, SHIFTS.c.id)
    if unit is not None:
        query = query.where(SHIFTS.c.unit == unit)
    with engine.connect() as conn:
        return [
            Shift(
                unit=row.unit,
                days=tuple(row.days.split(",")),
                starts=row.starts,
                ends=row.ends,
                name=row.name,
                phone=row.phone,
                email=row.email,
            )
            for row in conn.execute(query)
        ]


def on_duty(engine: Engine, unit: str, at: datetime, zone: tzinfo) -> list[Shift]:
    """Whoever's shift at ``unit`` runs at ``at`` (two shifts may overlap at a handover)."""
    return [shift for shift in roster_of(engine, unit) if shift.covers(at, zone)]


def rosters_by_unit(engine: Engine) -> dict[str, list[Shift]]:
    """Every unit's shifts, read at once (the dispatcher's, each round)."""
    found: dict[str, list[Shift]] = defaultdict(list)
    for shift in roster_of(engine):
        found[shift.unit].append(shift)
    return dict(found)
