"""What the role pages list: worklists by the deadline in force, and the latest
closed cases, in the scope every listing of the API uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from api.access import scope_of
from api.responses import CaseRow
from api.routes.cases import list_cases
from models.case import CaseStatus
from models.principals import Principal
from store.org import org_in_force
from store.reads import case_row_document
from store.worklist import IN_FORCE, nearest_of, open_by_deadline
from web.i18n import as_time

WORKLIST_SIZE = 100
"""Open cases a worklist shows at once, the nearest deadline first; the rest are counted."""


def deadline_of(row: CaseRow) -> datetime | None:
    """The deadline the case now runs against (None once closed)."""
    columns = IN_FORCE.get(row.status, ())
    return nearest_of(row.status, {c: as_time(getattr(row, c)) for c in columns})


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
