"""Reads of the deliveries, for ``whistle notifications`` (and the API and pages).

``compounds`` narrows each read to the deliveries of cases in those compounds (a
station's street); None reads them all. A case the projection does not know is in
no compound."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import Engine

from models.limits import DELIVERED_COUNTED_HOURS
from store import sqlite_hints  # noqa: F401  (SQLite writes INDEXED BY)
from store.case_filters import compound_in
from store.deliveries import (
    CASES,
    DELIVERED,
    DELIVERIES,
    FAILED,
    NOTIFICATIONS,
    PENDING,
    STATUSES,
)
from store.reads import utc

Compounds = frozenset[str] | None

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


def _deliveries_in(compounds: Compounds) -> list[ColumnElement[bool]]:
    """Deliveries of cases in ``compounds``: by the compound each keeps (folded as a
    scope matches it), so a street's are ranges of the status index."""
    if compounds is None:
        return []
    return [DELIVERIES.c.compound.in_(sorted({c.lower() for c in compounds}))]


def counted_as(status: str) -> str:
    """What a status's count counts, in words (``delivered in the last 24h``)."""
    return f"{status} in the last {DELIVERED_COUNTED_HOURS}h" if status == DELIVERED else status


def deliveries_by_status(
    engine: Engine, compounds: Compounds = None, now: datetime | None = None
) -> dict[str, int]:
    """How many are pending and failed, and how many were delivered in the last
    ``DELIVERED_COUNTED_HOURS``: what stands now, however long the history."""
    now = now or datetime.now(UTC)
    d = DELIVERIES.c
    standing = select(d.status, func.count()).where(d.status.in_([PENDING, FAILED]))
    standing = standing.where(*_deliveries_in(compounds)).group_by(d.status)
    recent = select(func.count()).where(
        d.delivered_at >= now - timedelta(hours=DELIVERED_COUNTED_HOURS), *_deliveries_in(compounds)
    )
    with engine.connect() as conn:
        found: dict[str, int] = {str(k): int(v) for k, v in conn.execute(standing).all()}
        found[DELIVERED] = int(conn.execute(recent).scalar_one())
    return {status: found.get(status, 0) for status in STATUSES}


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
    else:
        index = _newest_first_index(status, compounds)
        query = query.with_hint(DELIVERIES, f"INDEXED BY {index}", "sqlite")
    query = query.where(*_deliveries_in(compounds))
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


def _newest_first_index(status: str | None, compounds: Compounds) -> str:
    """The index a list of the newest reads on SQLite, which keeps no statistics to
    choose by. A street's pending or failed ones (what stands: few) are read whole
    from their ranges and sorted; any other list walks newest first and stops at its
    page, past the other streets' (a street holds a fair share of the deliveries)."""
    if status is None:
        return "ix_deliveries_created_at"
    if compounds is not None and status in (PENDING, FAILED):
        return "ix_deliveries_status_compound_created"
    return "ix_deliveries_status_created"


def list_unsent(engine: Engine, limit: int = 50, compounds: Compounds = None) -> list[Unsent]:
    """The latest notifications that no channel had."""
    n = NOTIFICATIONS.c
    query = select(n.key, n.case_id, n.department, n.kind, n.at, n.unsent_why)
    query = query.where(n.unsent_why.is_not(None))
    if compounds is not None:
        # Probed case by case, newest first: a street's unsent are among the few
        # newest, while the street's cases would all be read to match them in bulk.
        query = query.where(
            select(CASES.c.case_id)
            .where(CASES.c.case_id == n.case_id, compound_in(compounds))
            .exists()
        )
    query = query.order_by(n.at.desc()).limit(min(limit, LISTED_MAX))
    with engine.connect() as conn:
        return [Unsent(*row[:4], at=utc(row.at), why=row.unsent_why) for row in conn.execute(query)]


def failed_ids(engine: Engine, compounds: frozenset[str], prefixes: list[str] | None) -> list[str]:
    """The ids of the failed deliveries of cases in ``compounds`` (those starting
    with one of ``prefixes``, if given): what a station may send again."""
    d = DELIVERIES.c
    query = select(d.delivery_id).where(d.status == FAILED, *_deliveries_in(compounds))
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
