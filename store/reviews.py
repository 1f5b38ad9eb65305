"""Returns and extensions waiting for the station's review, read from the ledger
in the projection: a request stands until an event settles it.

What settles one mirrors what clears it in the workflow (``workflows/``): the
station's decision; the unit signing off (it acted) or leaving; the station
replacing the unit; the whistle moving on (escalation, a joint plan failing),
the case resolved, reopened, closed or withdrawn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.case import CaseStatus, EventKind
from models.tables import CaseEventRecord, CaseRecord
from store.case_filters import CaseScope, compound_in

REQUESTS = (EventKind.RETURN_REQUESTED, EventKind.EXTENSION_REQUESTED)
_DECIDED = {
    EventKind.RETURN_REQUESTED: (EventKind.RETURNED, EventKind.RETURN_REFUSED),
    EventKind.EXTENSION_REQUESTED: (EventKind.EXTENSION_APPROVED, EventKind.EXTENSION_REFUSED),
}
_UNIT_ACTED = (EventKind.SIGNED_OFF, EventKind.RETURNED)
"""Settle every request of the unit the event names."""
_CASE_MOVED_ON = (
    EventKind.ESCALATED,
    EventKind.JOINT_MEETING_RECONVENED,
    EventKind.RESOLVED,
    EventKind.REOPENED,
    EventKind.CLOSED,
    EventKind.WITHDRAWN,
)
"""Settle every request on the case."""
_KINDS = sorted(
    {k.value for k in REQUESTS}
    | {k.value for ks in _DECIDED.values() for k in ks}
    | {k.value for k in _UNIT_ACTED}
    | {k.value for k in _CASE_MOVED_ON}
    | {EventKind.REDISPATCHED.value}
)


@dataclass(frozen=True)
class Waiting:
    case_id: str
    department: str
    kind: str
    """``return_requested`` or ``extension_requested``."""
    at: str
    reason: str | None


def _settle(standing: dict[tuple[str, str], CaseEventRecord], event: CaseEventRecord) -> None:
    unit = event.department or ""
    for asked, decided in _DECIDED.items():
        if event.kind in {d.value for d in decided}:
            standing.pop((unit, asked.value), None)
    if event.kind in {k.value for k in _UNIT_ACTED}:
        for asked in REQUESTS:
            standing.pop((unit, asked.value), None)
    if event.kind == EventKind.REDISPATCHED:
        removed = json.loads(event.detail).get("removed", "")
        for name in filter(None, removed.split(",")):
            for asked in REQUESTS:
                standing.pop((name, asked.value), None)
    if event.kind in {k.value for k in _CASE_MOVED_ON}:
        standing.clear()


def waiting_for_review(engine: Engine, scope: CaseScope, limit: int) -> list[Waiting]:
    """Standing requests on the open cases in ``scope``, the oldest first."""
    # The open cases in scope where a request was ever made: driven by the open cases,
    # which stay few however long the ledger grows, each probed by the (kind, case_id)
    # index; then the events that may settle a request there.
    made = (
        select(CaseEventRecord.case_id)
        .where(
            col(CaseEventRecord.case_id) == col(CaseRecord.case_id),
            col(CaseEventRecord.kind).in_([k.value for k in REQUESTS]),
        )
        .exists()
    )
    asked = select(CaseRecord.case_id).where(
        col(CaseRecord.status).in_([s.value for s in CaseStatus if s.is_open]), made
    )
    if scope.compounds is not None:
        asked = asked.where(compound_in(scope.compounds))
    query = (
        select(CaseEventRecord)
        .where(col(CaseEventRecord.case_id).in_(asked), col(CaseEventRecord.kind).in_(_KINDS))
        .order_by(col(CaseEventRecord.case_id), col(CaseEventRecord.seq))
    )
    standing: dict[str, dict[tuple[str, str], CaseEventRecord]] = {}
    with Session(engine) as session:
        for event in session.exec(query):
            on_case = standing.setdefault(event.case_id, {})
            if event.kind in {k.value for k in REQUESTS}:
                on_case[(event.department or "", event.kind)] = event
            else:
                _settle(on_case, event)
    found = [e for on_case in standing.values() for e in on_case.values()]
    found.sort(key=lambda e: (e.at, e.case_id))
    return [
        Waiting(e.case_id, e.department or "", e.kind, e.at.isoformat(), e.reason)
        for e in found[:limit]
    ]
