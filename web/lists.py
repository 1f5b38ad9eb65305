"""What the role pages list: the deadline in force on a row, and the returns and
extensions waiting for the station, read from the projection."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.responses import CaseRow
from api.routes.cases import list_cases
from models.case import CaseStatus, EventKind
from models.principals import Principal
from models.tables import CaseEventRecord

DEADLINE_OF_STATUS = {
    "awaiting_report_in": "report_in_deadline",
    "in_progress": "resolve_deadline",
    "joint_meeting": "resolve_deadline",
    "awaiting_confirmation": "confirmation_deadline",
}


def deadline_of(row: CaseRow) -> str | None:
    """The deadline the case is now running against (None once closed)."""
    name = DEADLINE_OF_STATUS.get(row.status)
    return getattr(row, name) if name else None


def by_nearest_deadline(rows: Iterable[CaseRow]) -> list[CaseRow]:
    """Open cases first, the nearest (or most overdue) deadline first."""
    return sorted(rows, key=lambda r: (deadline_of(r) is None, deadline_of(r) or ""))


def open_cases(principal: Principal, engine: Engine) -> list[CaseRow]:
    """The open cases the principal may see, the nearest deadline first, through the
    API's own listing: one status at a time, so each read stays on the status index
    however many closed cases the projection holds."""
    rows: list[CaseRow] = []
    for status in CaseStatus:
        if status.is_open:
            rows += list_cases(principal, engine, status_=status).cases
    return by_nearest_deadline(rows)


def closed_cases(principal: Principal, engine: Engine, limit: int) -> list[CaseRow]:
    """The latest closed and withdrawn cases the principal may see, newest first."""
    rows: list[CaseRow] = []
    for status in CaseStatus:
        if not status.is_open:
            rows += list_cases(principal, engine, status_=status, limit=limit).cases
    return sorted(rows, key=lambda r: r.raised_at or "", reverse=True)[:limit]


# A request, and the events that settle it.
_SETTLED_BY = {
    EventKind.RETURN_REQUESTED: (EventKind.RETURNED, EventKind.RETURN_REFUSED),
    EventKind.EXTENSION_REQUESTED: (EventKind.EXTENSION_APPROVED, EventKind.EXTENSION_REFUSED),
}


@dataclass(frozen=True)
class Waiting:
    case_id: str
    department: str
    kind: str
    """``return_requested`` or ``extension_requested``."""
    at: str
    reason: str | None


def waiting_for_review(engine: Engine, case_ids: list[str]) -> list[Waiting]:
    """Returns and extensions on ``case_ids`` that no decision has settled yet."""
    if not case_ids:
        return []
    kinds = [k.value for k in _SETTLED_BY] + [k.value for ks in _SETTLED_BY.values() for k in ks]
    query = (
        select(CaseEventRecord)
        .where(col(CaseEventRecord.case_id).in_(case_ids), col(CaseEventRecord.kind).in_(kinds))
        .order_by(col(CaseEventRecord.case_id), col(CaseEventRecord.seq))
    )
    open_requests: dict[tuple[str, str, str], CaseEventRecord] = {}
    with Session(engine) as session:
        for event in session.exec(query):
            for asked, settling in _SETTLED_BY.items():
                key = (event.case_id, event.department or "", asked.value)
                if event.kind == asked.value:
                    open_requests[key] = event
                elif event.kind in {s.value for s in settling}:
                    open_requests.pop(key, None)
    return [
        Waiting(e.case_id, e.department or "", e.kind, e.at.isoformat(), e.reason)
        for e in open_requests.values()
    ]
