"""Reads of the projection, for the CLI (and later the API)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.tables import CaseEventRecord, CaseRecord


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def list_cases(engine: Engine, *, status: str | None = None, limit: int = 200) -> list[CaseRecord]:
    with Session(engine) as session:
        query = select(CaseRecord).order_by(col(CaseRecord.raised_at).desc()).limit(limit)
        if status:
            query = query.where(CaseRecord.status == status)
        return list(session.exec(query))


def get_case(engine: Engine, case_id: str) -> CaseRecord | None:
    with Session(engine) as session:
        return session.get(CaseRecord, case_id)


def case_events(engine: Engine, case_id: str) -> list[CaseEventRecord]:
    with Session(engine) as session:
        query = (
            select(CaseEventRecord)
            .where(CaseEventRecord.case_id == case_id)
            .order_by(col(CaseEventRecord.seq))
        )
        return list(session.exec(query))


def case_row_document(row: CaseRecord) -> dict[str, Any]:
    return {
        "case_id": row.case_id,
        "compound": row.compound,
        "category": row.category,
        "title": row.title,
        "level": row.level,
        "status": row.status,
        "lead": row.lead,
        "departments": [d for d in row.departments.split(",") if d],
        "raised_by": row.raised_by,
        "raised_at": _iso(row.raised_at),
        "updated_at": _iso(row.updated_at),
        "report_in_deadline": _iso(row.report_in_deadline),
        "resolve_deadline": _iso(row.resolve_deadline),
        "confirmation_deadline": _iso(row.confirmation_deadline),
        "satisfaction": row.satisfaction,
        "closing": row.closing,
        "returns": row.returns,
        "redos": row.redos,
        "policy_version": row.policy_version,
    }


def event_row_document(row: CaseEventRecord) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "kind": row.kind,
        "at": _iso(row.at),
        "actor": row.actor,
        "level": row.level,
        "department": row.department,
        "from_level": row.from_level,
        "to_level": row.to_level,
        "reason": row.reason,
        "detail": json.loads(row.detail),
    }


def _iso(value: datetime | None) -> str | None:
    moment = utc(value)
    return moment.isoformat() if moment else None
