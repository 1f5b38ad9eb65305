"""Reads of the projection, for the CLI and the API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, not_, or_, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from casework.views import unknown_department
from models.case import CaseStatus
from models.limits import LIST_LIMIT_DEFAULT
from models.tables import SEARCHED_TEXT_SQL, CaseEventRecord, CaseRecord
from store import sqlite_hints  # noqa: F401  (SQLite writes INDEXED BY)
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


@dataclass(frozen=True)
class CaseFilter:
    status: str | None = None
    level: str | None = None
    compound: str | None = None
    department: str | None = None
    overdue: bool | None = None
    text: str | None = None
    limit: int = LIST_LIMIT_DEFAULT
    offset: int = 0
    after: str | None = None
    """A cursor (``store.keyset``): the rows after the one it names. The way to page;
    ``offset`` is kept for old links and costs a scan of the rows it skips."""


@dataclass(frozen=True)
class CaseScope:
    """Which cases a reader may see; None on a field means no restriction.

    ``compounds`` match whatever their case (``compound_in``): a case raised
    before an organisation was put in force records the compound as the branch
    wrote it (``Anningyuan``), the organisation knows it by its code
    (``anningyuan``).
    """

    compounds: frozenset[str] | None = None
    department: str | None = None


def compound_in(compounds: frozenset[str]) -> ColumnElement[bool]:
    """The case's compound is one of ``compounds``, case-insensitively.

    ``lower()`` on both sides, in SQL on the column (SQLite and PostgreSQL
    alike). SQLite's ``lower`` folds ASCII letters only: compound codes are
    ASCII, and names in Chinese characters have no case to fold.

    One compound (a branch's) reads its index, ``lower(compound)`` in the list's
    order (migration 0012). Several (a station's street) are matched on an
    expression that index does not hold: read from it, a street's cases (a sixth
    of a district's) would all be sorted for one page, while the list's own order
    meets a page of them within a few hundred rows.
    """
    wanted = _folded(compounds)
    folded = func.lower(col(CaseRecord.compound))
    if len(wanted) == 1:
        return folded == wanted[0]
    return folded.concat("").in_(wanted)


def _folded(compounds: frozenset[str]) -> list[str]:
    return sorted({compound.lower() for compound in compounds})


DEADLINES_IN_FORCE: dict[str, tuple[CaseStatus, ...]] = {
    "report_in_deadline": (CaseStatus.AWAITING_REPORT_IN, CaseStatus.JOINT_MEETING),
    "resolve_deadline": (CaseStatus.AWAITING_REPORT_IN, CaseStatus.IN_PROGRESS),
    "confirmation_deadline": (CaseStatus.AWAITING_CONFIRMATION,),
}
"""Each deadline column of the projection and the statuses in which it runs (as in
the workflow): a deadline counts only there. ``report_in_deadline`` holds the joint
meeting's while the case awaits it."""


def past_deadline(now: datetime) -> ColumnElement[bool]:
    """The case is past a deadline in force at ``now``: overdue."""
    return or_(
        *(
            and_(
                col(CaseRecord.status).in_([s.value for s in statuses]),
                func.coalesce(getattr(CaseRecord, column) < now, False),
            )
            for column, statuses in DEADLINES_IN_FORCE.items()
        )
    )


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
    if scope.compounds is not None and len(_folded(scope.compounds)) == 1:
        return FOLDED_INDEX
    if where.overdue:
        return OPEN_INDEX
    return None


SEARCHED_TEXT: ColumnElement[str] = literal_column(SEARCHED_TEXT_SQL)
"""What a text search reads: the title, category and compound, a line each; the very
expression of PostgreSQL's trigram index (models.tables), so that it is used."""


def text_matches(words: str) -> ColumnElement[bool]:
    """``words`` occur in the title, category or compound, in any letter case."""
    pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return SEARCHED_TEXT.ilike(pattern, escape="\\")


def lists_department(department: str) -> ColumnElement[bool]:
    """The comma-separated department list contains ``department`` exactly.

    Four patterns on the column itself rather than one on ``',' || departments || ','``:
    PostgreSQL estimates a pattern on a column from its statistics (one in fifteen
    cases, say), and on an expression it has none of as two rows in all, which made
    it read every case and sort them instead of walking the list's order.
    """
    listed = col(CaseRecord.departments)
    return or_(
        listed == department,
        listed.startswith(f"{department},", autoescape=True),
        listed.endswith(f",{department}", autoescape=True),
        listed.contains(f",{department},", autoescape=True),
    )
