"""What the role pages list: the deadline in force on a row, and the returns and
extensions waiting for the station, read from the projection."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.access import scope_of
from api.responses import CaseRow
from api.routes.cases import list_cases
from models.case import CaseStatus, EventKind
from models.principals import Principal
from models.tables import CaseEventRecord
from store.org import org_in_force
from store.reads import case_row_document
from store.worklist import NEAREST_DEADLINE, open_by_deadline

WORKLIST_SIZE = 100
"""Open cases a worklist shows at once, the nearest deadline first; the rest are counted."""


def deadline_of(row: CaseRow) -> str | None:
    """The deadline the case now runs against (None once closed)."""
    column = NEAREST_DEADLINE.get(row.status)
    return getattr(row, column) if column else None


@dataclass(frozen=True)
class Worklist:
    rows: list[CaseRow]
    total: int
    """Open cases in all; more than ``rows`` when the list is cut at ``WORKLIST_SIZE``."""


def open_cases(principal: Principal, engine: Engine, limit: int = WORKLIST_SIZE) -> Worklist:
    """The open cases the principal may see, the nearest deadline first, in the scope
    every listing of the API uses (``api.access.scope_of``)."""
    scope = scope_of(principal, org=org_in_force(engine))
    records, total = open_by_deadline(engine, scope, limit)
    rows = [CaseRow.model_validate(case_row_document(r)) for r in records]
    return Worklist(rows, total)


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
