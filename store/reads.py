"""Reads of the projection, for the CLI and the API: one case with its events, as
documents, and a page of a list (what it filters on: ``store.case_filters``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import not_, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from casework.views import unknown_department
from models.case import CaseStatus
from models.tables import CaseEventRecord, CaseRecord
from store import sqlite_hints  # noqa: F401  (SQLite writes INDEXED BY)
from store.case_filters import (
    CaseFilter,
    CaseScope,
    compound_in,
    folded,
    lists_department,
    past_deadline,
    text_matches,
)
from store.keyset import after_cursor, cursor_of, decode_cursor
from store.text_index import rare_matches


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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
    """A case as a list shows it: the projection's row (a summary, without events)."""
    return {
        "case_id": row.case_id,
        "compound": row.compound,
        "category": row.category,
        "title": row.title,
        "level": row.level,
        "status": row.status,
        "lead": row.lead,
        "departments": _departments(row),
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


def projected_case_document(row: CaseRecord, events: list[CaseEventRecord]) -> dict[str, Any]:
    """The case document of ``casework.views`` (the live shape), from the projection.

    What the projection does not hold is null: ``description``, ``location``,
    ``meeting``, ``extension_granted_seconds`` and every detail of a department
    but its name. ``source`` is ``projection``.

    The row keeps one first deadline, ``report_in_deadline``: the report-in
    deadline, or the joint meeting's while the case awaits its meeting (status
    ``joint_meeting``); it is shown under that name, the other one null.
    """
    first = _iso(row.report_in_deadline)
    at_meeting = row.status == CaseStatus.JOINT_MEETING
    return {
        "case_id": row.case_id,
        "compound": row.compound,
        "category": row.category,
        "title": row.title,
        "description": None,
        "location": None,
        "raised_by": row.raised_by,
        "raised_at": _iso(row.raised_at),
        "updated_at": _iso(row.updated_at),
        "level": row.level,
        "status": row.status,
        "lead": row.lead,
        "departments": [unknown_department(name) for name in _departments(row)],
        "deadlines": {
            "report_in": None if at_meeting else first,
            "joint_meeting": first if at_meeting else None,
            "resolve": _iso(row.resolve_deadline),
            "confirmation": _iso(row.confirmation_deadline),
        },
        "meeting": None,
        "returns": row.returns,
        "redos": row.redos,
        "extension_granted_seconds": None,
        "satisfaction": row.satisfaction,
        "closing": row.closing,
        "policy_version": row.policy_version,
        "source": "projection",
        "events": [event_row_document(e) for e in events],
    }


def _departments(row: CaseRecord) -> list[str]:
    return [name for name in row.departments.split(",") if name]


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


OPEN_INDEX = "ix_cases_open_raised_at"
COMPOUND_INDEX = "ix_cases_compound_raised_at"
FOLDED_INDEX = "ix_cases_compound_folded"
OPEN_STATUSES_SQL = next(
    str(index.dialect_options["sqlite"]["where"])
    for index in CaseRecord.__table__.indexes  # type: ignore[attr-defined]
    if index.name == OPEN_INDEX
)
"""The open cases' partial index's predicate, as the model declares it: a query that
repeats it word for word may read that index (SQLite matches it by its text)."""


def search_cases(
    engine: Engine, where: CaseFilter, scope: CaseScope, now: datetime
) -> list[CaseRecord]:
    """One page of the cases matching ``where`` in ``scope``, newest first."""
    return search_page(engine, where, scope, now)[0]


def search_page(
    engine: Engine, where: CaseFilter, scope: CaseScope, now: datetime
) -> tuple[list[CaseRecord], str | None]:
    """One page of the cases matching ``where`` in ``scope``, newest first
    (``raised_at`` descending, then ``case_id``), and the cursor of the next page
    (None on the last).

    Every filter reads an index in the list's order and stops at ``limit`` rows
    (migrations 0010 and 0012): status ``(status, raised_at)``, level and compound
    ``(level|compound, raised_at, case_id)``, a branch's own compound
    ``(lower(compound), raised_at, case_id)``, overdue the open cases' partial index
    ``(raised_at, case_id, status, deadlines)``; a unit, a text, a street's compounds
    or no filter walk ``(raised_at, case_id)`` until ``limit`` rows match. A text of three characters or more also has a trigram
    index for when matches are rare: ``pg_trgm`` on PostgreSQL, FTS5 on SQLite
    (``store.text_index``).
    """
    query = select(CaseRecord)
    if scope.compounds is not None:
        query = query.where(compound_in(scope.compounds))
    for department in (scope.department, where.department):
        if department is not None:
            query = query.where(lists_department(department))
    if where.status:
        query = query.where(CaseRecord.status == where.status)
    if where.level:
        query = query.where(CaseRecord.level == where.level)
    if where.compound:
        query = query.where(CaseRecord.compound == where.compound)
    if where.text:
        query = query.where(text_matches(where.text))
    if where.overdue is not None:
        late = past_deadline(now)
        if where.overdue:
            # Redundant with past_deadline, written as the partial index's own predicate
            # so that both databases read that index (only open cases are ever late).
            query = query.where(text(OPEN_STATUSES_SQL), late)
        else:
            query = query.where(not_(late))
    if (index := _sqlite_index(where, scope)) is not None:
        query = query.with_hint(CaseRecord, f"INDEXED BY {index}", "sqlite")
    if where.after is not None:
        query = query.where(after_cursor(*decode_cursor(where.after)))
    query = query.order_by(col(CaseRecord.raised_at).desc(), col(CaseRecord.case_id))
    if where.offset:
        query = query.offset(where.offset)
    query = query.limit(where.limit + 1)
    with Session(engine) as session:
        if where.text and (rare := rare_matches(session.connection(), where.text)) is not None:
            query = query.where(col(CaseRecord.case_id).in_(rare))
        rows = list(session.exec(query))
    if len(rows) > where.limit:
        return rows[: where.limit], cursor_of(rows[where.limit - 1])
    return rows, None


def _sqlite_index(where: CaseFilter, scope: CaseScope) -> str | None:
    """The index SQLite is told to read, where it would choose worse.

    SQLite keeps no statistics here (nothing runs ``ANALYZE``), so between two
    indexes that fit it may take the status's and walk the closed cases of every
    compound, or read every open case and sort them for overdue. A compound is the
    narrowest filter a list has (hundreds of them, a handful of statuses and
    whistles); then the open cases, for overdue. PostgreSQL chooses from its
    statistics.
    """
    if where.compound:
        return COMPOUND_INDEX
    if scope.compounds is not None and len(folded(scope.compounds)) == 1:
        return FOLDED_INDEX
    if where.overdue:
        return OPEN_INDEX
    return None
