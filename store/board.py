"""What the station reads from the store: the overdue board of its street, from the
SQL projection. (The units it may dispatch: ``casework.routing.unit_refs``.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.case import CaseStatus
from models.errors import RuleViolation
from models.limits import LIST_LIMIT_MAX
from models.org import Organisation, compounds_of_street, street_of
from models.tables import CaseRecord
from store.case_filters import DEADLINES_IN_FORCE, CaseScope, compound_in, past_deadline
from store.reads import utc


@dataclass(frozen=True)
class OverdueCase:
    row: CaseRecord
    deadline: str
    """Which deadline was missed first: report_in, joint_meeting, resolve or confirmation."""
    due: datetime
    overdue_seconds: int


def _first_missed(row: CaseRecord, now: datetime) -> tuple[str, datetime] | None:
    missed: list[tuple[datetime, str]] = []
    for column, statuses in DEADLINES_IN_FORCE.items():
        due = utc(getattr(row, column))
        if due is not None and due < now and row.status in statuses:
            name = column.removesuffix("_deadline")
            if name == "report_in" and row.status == CaseStatus.JOINT_MEETING:
                name = "joint_meeting"  # the row keeps the meeting's deadline there
            missed.append((due, name))
    if not missed:
        return None
    due, name = min(missed)
    return name, due


def _earlier_missed(
    first: ColumnElement[Any], rest: ColumnElement[Any], now: datetime
) -> ColumnElement[Any]:
    """``first`` if it was missed and is no later than ``rest`` (itself missed, when
    ``first`` was not: the row is past a deadline), else ``rest``."""
    missed_first = and_(first.is_not(None), first < now)
    keeps = or_(rest.is_(None), rest >= now, first <= rest)
    return case((and_(missed_first, keeps), first), else_=rest)


def first_missed_due(now: datetime) -> ColumnElement[Any]:
    """In SQL, the deadline an overdue case missed first (as ``_first_missed``)."""
    whens = []
    for status in CaseStatus:
        columns = [
            getattr(CaseRecord, c) for c, runs in DEADLINES_IN_FORCE.items() if status in runs
        ]
        if not columns:
            continue
        due = columns[-1]
        for column in reversed(columns[:-1]):
            due = _earlier_missed(column, due, now)
        whens.append((col(CaseRecord.status) == status.value, due))
    return case(*whens)


def overdue_board(
    engine: Engine, scope: CaseScope, now: datetime, *, limit: int = LIST_LIMIT_MAX
) -> list[OverdueCase]:
    """Open cases in ``scope`` past a deadline in force, most overdue first (the
    earliest missed deadline first; the same instant, by case id)."""
    # Open statuses first: the status index narrows the scan to open cases; the order
    # and the cut are SQL's, so only the cases shown are read.
    running = [status.value for status in CaseStatus if status.is_open]
    query = select(CaseRecord).where(col(CaseRecord.status).in_(running), past_deadline(now))
    if scope.compounds is not None:
        query = query.where(compound_in(scope.compounds))
    query = query.order_by(first_missed_due(now), col(CaseRecord.case_id)).limit(limit)
    with Session(engine) as session:
        rows = list(session.exec(query))
    board: list[OverdueCase] = []
    for row in rows:
        found = _first_missed(row, now)
        if found is not None:
            name, due = found
            seconds = int((now - due).total_seconds())
            board.append(OverdueCase(row=row, deadline=name, due=due, overdue_seconds=seconds))
    board.sort(key=lambda item: (item.due, item.row.case_id))
    return board


def street_name(org: Organisation | None, compound: str) -> str | None:
    if org is None:
        return None
    try:
        return street_of(org, compound).code
    except RuleViolation:  # a case raised before the organisation named its compound
        return None


def board_document(
    items: list[OverdueCase], org: Organisation | None, now: datetime
) -> dict[str, Any]:
    return {
        "at": now.isoformat(),
        "cases": [
            {
                "case_id": item.row.case_id,
                "compound": item.row.compound,
                "street": street_name(org, item.row.compound),
                "title": item.row.title,
                "level": item.row.level,
                "status": item.row.status,
                "lead": item.row.lead,
                "deadline": item.deadline,
                "due": item.due.isoformat(),
                "overdue_seconds": item.overdue_seconds,
            }
            for item in items
        ],
    }


def street_scope(org: Organisation | None, street: str | None, *, field: str) -> CaseScope:
    """The cases of ``street`` in the organisation in force; None: every case."""
    if street is None:
        return CaseScope()
    if org is None:
        raise RuleViolation(f"{field}: no organisation is in force (whistle org --apply FILE)")
    if street not in org.streets:
        raise RuleViolation(
            f"{field}: {street!r} is not a street of the organisation {org.version}"
        )
    return CaseScope(compounds=frozenset(compounds_of_street(org, street)))
