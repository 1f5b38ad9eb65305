"""Open cases by the deadline they now run against, nearest first: a unit's inbox
and a station's worklist. Read in the reader's scope (``store.case_filters.CaseScope``),
as every listing is."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.case import CaseStatus
from models.tables import CaseRecord
from store.case_filters import DEADLINES_IN_FORCE, CaseScope, compound_in, lists_department

IN_FORCE: dict[str, tuple[str, ...]] = {
    status.value: tuple(c for c, runs in DEADLINES_IN_FORCE.items() if status in runs)
    for status in CaseStatus
    if status.is_open
}
"""Each open status and the deadline columns that run in it; a case runs against the
earliest of them (a capped resolve deadline can come before the report-in one)."""


def _earlier(first: ColumnElement[Any], rest: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((and_(first.is_not(None), or_(rest.is_(None), first <= rest)), first), else_=rest)


def nearest_deadline() -> ColumnElement[Any]:
    """In SQL, the earliest deadline in force of an open case (NULL when none is set)."""
    whens = []
    for status, columns in IN_FORCE.items():
        due = getattr(CaseRecord, columns[-1])
        for column in reversed(columns[:-1]):
            due = _earlier(getattr(CaseRecord, column), due)
        whens.append((col(CaseRecord.status) == status, due))
    return case(*whens)


def nearest_of(status: str, due: Mapping[str, datetime | None]) -> datetime | None:
    """The same in Python: ``due`` holds the row's deadline columns."""
    known = [d for c in IN_FORCE.get(status, ()) if (d := due.get(c)) is not None]
    return min(known) if known else None


def _scoped(scope: CaseScope) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [col(CaseRecord.status).in_(list(IN_FORCE))]
    if scope.compounds is not None:
        where.append(compound_in(scope.compounds))
    if scope.department is not None:
        where.append(lists_department(scope.department))
    return where


def open_by_deadline(engine: Engine, scope: CaseScope, limit: int) -> tuple[list[CaseRecord], int]:
    """The ``limit`` open cases with the nearest (or most overdue) deadline, and how
    many open cases the scope holds in all."""
    # One pass: the window counts every open case in scope before the cut.
    query = (
        select(CaseRecord, func.count().over())
        .where(*_scoped(scope))
        .order_by(nearest_deadline().asc().nulls_last(), col(CaseRecord.case_id))
        .limit(limit)
    )
    with Session(engine) as session:
        found = list(session.exec(query))
    return [row for row, _ in found], int(found[0][1]) if found else 0
