"""Write a case's changes to SQL, idempotently: a retried batch changes nothing."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from models.publication import CaseChanges
from models.tables import CaseEventRecord, CaseRecord, NotificationRecord
from store.credits import recredit


def _insert_ignoring_duplicates(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(postgresql.insert(table).on_conflict_do_nothing(), rows)
    elif dialect == "sqlite":
        conn.execute(sqlite.insert(table).on_conflict_do_nothing(), rows)
    else:  # pragma: no cover - other dialects are not supported yet
        raise RuntimeError(f"database dialect {dialect!r} is not supported")


def write_changes(engine: Engine, changes: CaseChanges) -> None:
    summary = changes.summary
    last_seq = max((e.seq for e in changes.events), default=0)
    case_row = {
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
        "last_seq": last_seq,
        "head_hash": changes.events[-1].hash if changes.events else "",
    }
    event_rows = [
        {
            "case_id": summary.case_id,
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
        for e in changes.events
    ]
    notification_rows = [
        {
            "key": n.key,
            "case_id": n.case_id,
            "department": n.department,
            "level": n.level,
            "kind": n.kind,
            "message": n.message,
            "at": n.at,
        }
        for n in changes.notifications
    ]
    cases = CaseRecord.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        _insert_ignoring_duplicates(conn, CaseEventRecord.__table__, event_rows)  # type: ignore[attr-defined]
        _insert_ignoring_duplicates(conn, NotificationRecord.__table__, notification_rows)  # type: ignore[attr-defined]
        _upsert_case(conn, cases, case_row)
        recredit(conn, [summary.case_id])  # the assessment counts what was written


def _upsert_case(conn: Connection, cases: Table, row: dict[str, Any]) -> None:
    """Insert the case row, or update it unless a newer batch already landed."""
    dialect = conn.dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    insert = module.insert(cases).values(**row)
    updates = {k: insert.excluded[k] for k in row if k != "case_id"}
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=[cases.c.case_id],
            set_=updates,
            where=cases.c.last_seq <= insert.excluded.last_seq,
        )
    )
