"""Write a case's changes to SQL, idempotently: a retried batch changes nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Engine

from models.case import CaseEvent
from models.publication import CaseChanges, Notification
from models.tables import CaseEventRecord, CaseRecord, NotificationRecord
from store.credits import recredit
from store.upserts import insert_for, insert_ignoring_duplicates


def write_changes(engine: Engine, changes: CaseChanges) -> None:
    write_many(engine, [changes])


def write_many(engine: Engine, batches: Sequence[CaseChanges]) -> None:
    """Several batches in one transaction (a restore, the benchmark's fill)."""
    case_rows = [case_values(changes) for changes in batches]
    event_rows = [event_values(c.summary.case_id, e) for c in batches for e in c.events]
    notification_rows = [_notification_row(n) for c in batches for n in c.notifications]
    cases = CaseRecord.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        insert_ignoring_duplicates(conn, CaseEventRecord.__table__, event_rows)  # type: ignore[attr-defined]
        insert_ignoring_duplicates(conn, NotificationRecord.__table__, notification_rows)  # type: ignore[attr-defined]
        _upsert_cases(conn, cases, case_rows)
        # The assessment counts what was written, no more and no less.
        recredit(conn, [row["case_id"] for row in case_rows])


def case_values(changes: CaseChanges) -> dict[str, Any]:
    summary = changes.summary
    return {
        "case_id": summary.case_id,
        "compound": summary.compound,
        "category": summary.category,
        "title": summary.title,
        "level": summary.level,
        "status": summary.status,
        "lead": summary.lead,
        "departments": ",".join(summary.departments),
        "raised_by": summary.raised_by,
        "raised_at": summary.raised_at,
        "updated_at": summary.updated_at,
        "report_in_deadline": summary.report_in_deadline,
        "resolve_deadline": summary.resolve_deadline,
        "confirmation_deadline": summary.confirmation_deadline,
        "satisfaction": summary.satisfaction,
        "closing": summary.closing,
        "returns": summary.returns,
        "redos": summary.redos,
        "policy_version": summary.policy_version,
        "last_seq": max((e.seq for e in changes.events), default=0),
        "head_hash": changes.events[-1].hash if changes.events else "",
    }


def event_values(case_id: str, e: CaseEvent) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "seq": e.seq,
        "kind": e.kind,
        "at": e.at,
        "actor": e.actor,
        "level": e.level,
        "department": e.department,
        "from_level": e.from_level,
        "to_level": e.to_level,
        "reason": e.reason,
        "detail": json.dumps(e.detail, ensure_ascii=False, sort_keys=True),
        "hash": e.hash,
    }


def _notification_row(n: Notification) -> dict[str, Any]:
    return {
        "key": n.key,
        "case_id": n.case_id,
        "department": n.department,
        "level": n.level,
        "kind": n.kind,
        "message": n.message,
        "at": n.at,
    }


def _upsert_cases(conn: Connection, cases: Table, rows: list[dict[str, Any]]) -> None:
    """Insert each case row, or update it unless a newer batch already landed."""
    insert = insert_for(conn, cases)
    updates = {k: insert.excluded[k] for k in rows[0] if k != "case_id"}
    upsert = insert.on_conflict_do_update(
        index_elements=[cases.c.case_id],
        set_=updates,
        where=cases.c.last_seq <= insert.excluded.last_seq,
    )
    for row in rows:  # one at a time: two batches of a case in order
        conn.execute(upsert, row)
