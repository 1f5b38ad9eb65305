"""Open cases by the deadline they now run against, nearest first: a unit's inbox
and a station's worklist. Read in the reader's scope (``store.reads.CaseScope``),
as every listing is."""

from __future__ import annotations

from sqlalchemy import ColumnElement, case, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.case import CaseStatus
from models.tables import CaseRecord
from store.reads import DEADLINES_IN_FORCE, CaseScope, compound_in, lists_department

NEAREST_DEADLINE: dict[str, str] = {
    status.value: next(column for column, runs in DEADLINES_IN_FORCE.items() if status in runs)
    for status in CaseStatus
    if status.is_open
}
"""Each open status and the deadline column it runs against first (the projection
keeps the joint meeting's in ``report_in_deadline``)."""


def nearest_deadline() -> ColumnElement[object]:
    return case(
        *(
            (col(CaseRecord.status) == s, getattr(CaseRecord, c))
            for s, c in NEAREST_DEADLINE.items()
        )
    )


def _scoped(scope: CaseScope) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [col(CaseRecord.status).in_(list(NEAREST_DEADLINE))]
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
