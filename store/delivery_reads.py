"""Reads of the deliveries, for ``whistle notifications`` (and the API and pages).

``compounds`` narrows each read to the deliveries of cases in those compounds (a
station's street); None reads them all. A case the projection does not know is in
no compound."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.engine import Engine

from store.deliveries import CASES, DELIVERIES, FAILED, NOTIFICATIONS, STATUSES
from store.reads import compound_in, utc

Compounds = frozenset[str] | None
Query = TypeVar("Query", bound=Select[Any])

LISTED_MAX = 500


@dataclass(frozen=True)
class DeliveryRow:
    delivery_id: str
    case_id: str
    kind: str
    channel: str
    recipient: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    last_error: str


@dataclass(frozen=True)
class Unsent:
    """A notification no channel has: none serves its recipient, or it was too old."""

    key: str
    case_id: str
    department: str
    kind: str
    at: datetime | None
    why: str


def _of_cases_in(case_id: ColumnElement[str], compounds: frozenset[str]) -> ColumnElement[bool]:
    return case_id.in_(select(CASES.c.case_id).where(compound_in(compounds)))


def _scoped(query: Query, case_id: ColumnElement[str], compounds: Compounds) -> Query:
    return query if compounds is None else query.where(_of_cases_in(case_id, compounds))


def deliveries_by_status(engine: Engine, compounds: Compounds = None) -> dict[str, int]:
    query = select(DELIVERIES.c.status, func.count()).group_by(DELIVERIES.c.status)
    query = _scoped(query, DELIVERIES.c.case_id, compounds)
    with engine.connect() as conn:
        found: dict[str, int] = dict(conn.execute(query).all())
    return {status: int(found.get(status, 0)) for status in STATUSES}


def list_deliveries(
    engine: Engine,
    *,
    status: str | None = None,
    case_id: str | None = None,
    limit: int = 50,
    compounds: Compounds = None,
) -> list[DeliveryRow]:
    """The latest deliveries first, of a status or a case."""
    d, n = DELIVERIES.c, NOTIFICATIONS.c
    query = select(
        d.delivery_id,
        d.case_id,
        n.kind,
        d.channel,
        d.recipient,
        d.status,
        d.attempts,
        d.next_attempt_at,
        d.delivered_at,
        d.failed_at,
        d.last_error,
    ).select_from(DELIVERIES.join(NOTIFICATIONS, n.key == d.notification_key))
    if status is not None:
        query = query.where(d.status == status)
    if case_id is not None:
        query = query.where(d.case_id == case_id)
    query = _scoped(query, d.case_id, compounds)
    query = query.order_by(d.created_at.desc(), d.delivery_id).limit(min(limit, LISTED_MAX))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        DeliveryRow(
            *row[:7],
            next_attempt_at=utc(row.next_attempt_at),
            delivered_at=utc(row.delivered_at),
            failed_at=utc(row.failed_at),
            last_error=row.last_error,
        )
        for row in rows
    ]


def list_unsent(engine: Engine, limit: int = 50, compounds: Compounds = None) -> list[Unsent]:
    """The latest notifications that no channel had."""
    n = NOTIFICATIONS.c
    query = select(n.key, n.case_id, n.department, n.kind, n.at, n.unsent_why)
    query = _scoped(query.where(n.unsent_why.is_not(None)), n.case_id, compounds)
    query = query.order_by(n.at.desc()).limit(min(limit, LISTED_MAX))
    with engine.connect() as conn:
        return [Unsent(*row[:4], at=utc(row.at), why=row.unsent_why) for row in conn.execute(query)]


def failed_ids(engine: Engine, compounds: frozenset[str], prefixes: list[str] | None) -> list[str]:
    """The ids of the failed deliveries of cases in ``compounds`` (those starting
    with one of ``prefixes``, if given): what a station may send again."""
    d = DELIVERIES.c
    query = _scoped(select(d.delivery_id).where(d.status == FAILED), d.case_id, compounds)
    with engine.connect() as conn:
        found = [str(row.delivery_id) for row in conn.execute(query)]
    return found if prefixes is None else [i for i in found if i.startswith(tuple(prefixes))]


def delivery_document(row: DeliveryRow) -> dict[str, Any]:
    """A delivery as ``whistle notifications --json`` and ``GET /notifications`` give it."""
    return {
        "delivery_id": row.delivery_id,
        "case_id": row.case_id,
        "kind": row.kind,
        "channel": row.channel,
        "recipient": row.recipient,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": _iso(row.next_attempt_at),
        "delivered_at": _iso(row.delivered_at),
        "failed_at": _iso(row.failed_at),
        "error": row.last_error,
    }


def unsent_document(item: Unsent) -> dict[str, Any]:
    return {
        "key": item.key,
        "case_id": item.case_id,
        "to": item.department,
        "kind": item.kind,
        "at": _iso(item.at),
        "why": item.why,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
