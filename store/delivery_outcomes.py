"""What became of the deliveries a dispatcher claimed (``store.deliveries``):
delivered, tried again later, or failed for good and told to the station; and
failed ones sent again by hand. Only the dispatcher that holds a delivery's lease
records its outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Connection, Engine

from models.case import STATION
from store.deliveries import (
    DELIVERED,
    DELIVERIES,
    DELIVERY_FAILED,
    ERROR_MAX,
    FAILED,
    NOTIFICATIONS,
    PENDING,
    Claimed,
)
from store.upserts import insert_ignoring_duplicates


@dataclass(frozen=True)
class Settled:
    """What became of a claimed delivery: delivered, tried again at ``retry_at``, or
    failed for good (a dead letter)."""

    claimed: Claimed
    ok: bool
    retry_at: datetime | None = None
    error: str = ""


def settle(engine: Engine, owner: str, now: datetime, outcomes: Sequence[Settled]) -> int:
    """Record a round's outcomes in one transaction; those whose lease ran out and
    another dispatcher took are left to it. The count recorded."""
    recorded = 0
    with engine.begin() as conn:
        for outcome in outcomes:
            claimed, error = outcome.claimed, outcome.error[:ERROR_MAX]
            if outcome.ok:
                done = _mine(
                    conn, claimed, owner, status=DELIVERED, delivered_at=now, last_error=""
                )
                if done:
                    _maybe_delivered(conn, claimed.notification_key, now)
            elif outcome.retry_at is not None:
                done = _mine(
                    conn, claimed, owner, next_attempt_at=outcome.retry_at, last_error=error
                )
            else:
                done = _mine(conn, claimed, owner, status=FAILED, failed_at=now, last_error=error)
                if done:
                    _tell_the_station(conn, claimed, now, error)
            recorded += done
    return recorded


def _mine(conn: Connection, claimed: Claimed, owner: str, **values: Any) -> bool:
    done = conn.execute(
        update(DELIVERIES)
        .where(DELIVERIES.c.delivery_id == claimed.delivery_id, DELIVERIES.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, **values)
    )
    return bool(done.rowcount)


def _maybe_delivered(conn: Connection, key: str, now: datetime) -> None:
    """The notification is delivered once every channel had it. Its row is locked
    first, so of two dispatchers settling its last two deliveries one sees both."""
    conn.execute(
        update(NOTIFICATIONS).where(NOTIFICATIONS.c.key == key).values(key=NOTIFICATIONS.c.key)
    )
    waiting = select(func.count()).where(
        DELIVERIES.c.notification_key == key, DELIVERIES.c.status != DELIVERED
    )
    if conn.execute(waiting).scalar_one() == 0:
        conn.execute(
            update(NOTIFICATIONS).where(NOTIFICATIONS.c.key == key).values(delivered_at=now)
        )


def _tell_the_station(conn: Connection, claimed: Claimed, now: datetime, error: str) -> None:
    """A dead letter is queued for the station (unless that is what failed)."""
    source = conn.execute(
        select(NOTIFICATIONS.c.kind, NOTIFICATIONS.c.level).where(
            NOTIFICATIONS.c.key == claimed.notification_key
        )
    ).first()
    if source is None or source.kind == DELIVERY_FAILED:
        return
    message = (
        f"{source.kind} to {claimed.recipient} through {claimed.channel} failed"
        f" after {claimed.attempts} attempts: {error[:500]}"
    )
    row = {
        # One per failure: a delivery sent again by hand that fails again is told again.
        "key": f"{claimed.delivery_id}/{DELIVERY_FAILED}/{now:%Y%m%dT%H%M%S%f}",
        "case_id": claimed.case_id,
        "department": STATION,
        "level": source.level,
        "kind": DELIVERY_FAILED,
        "message": message,
        "at": now,
    }
    insert_ignoring_duplicates(conn, NOTIFICATIONS, [row])


def retry_failed(engine: Engine, now: datetime, prefixes: Sequence[str] | None = None) -> int:
    """Send failed deliveries again, from a fresh count of attempts: those whose id
    starts with one of ``prefixes``, or every failed one."""
    if prefixes is not None and not prefixes:
        return 0  # none named is none, not every one
    chosen = DELIVERIES.c.status == FAILED
    if prefixes is not None:
        chosen = and_(chosen, or_(*(DELIVERIES.c.delivery_id.startswith(p) for p in prefixes)))
    with engine.begin() as conn:
        done = conn.execute(
            update(DELIVERIES)
            .where(chosen)
            .values(status=PENDING, attempts=0, next_attempt_at=now, failed_at=None)
        )
        return int(done.rowcount)
