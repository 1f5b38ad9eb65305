"""The deliveries of notifications, in SQL: planned from the outbox, claimed under a
lease, settled by the dispatcher that holds the lease (``notify.dispatcher``).

Several dispatchers may run at once. A delivery is claimed by setting a lease on it
in one statement whose WHERE re-checks that nobody holds it (PostgreSQL re-checks a
row it waited for; SQLite has one writer), so two dispatchers never hold the same
delivery; a dispatcher killed mid-send leaves a lease that runs out, and the
delivery is sent again under the same id (at least once). An attempt is counted
when it is claimed, so a message that kills its sender cannot loop forever.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Connection, Engine

from models.case import STATION
from models.notify import Recipient
from models.tables import (
    CaseRecord,
    ChannelWindowRecord,
    DeliveryRecord,
    NotificationRecord,
)
from store.upserts import insert_for, insert_ignoring_duplicates

DELIVERIES = DeliveryRecord.__table__  # type: ignore[attr-defined]
NOTIFICATIONS = NotificationRecord.__table__  # type: ignore[attr-defined]
WINDOWS = ChannelWindowRecord.__table__  # type: ignore[attr-defined]
CASES = CaseRecord.__table__  # type: ignore[attr-defined]

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
STATUSES = (PENDING, DELIVERED, FAILED)
DELIVERY_FAILED = "delivery_failed"
"""The kind of the notification that tells the station a delivery failed."""
NO_CHANNEL = "no channel serves the recipient"
TOO_OLD = "older than the notifier's maximum age when first seen"
ID_PREFIX_MIN = 8
"""The fewest characters of a delivery id that name it when retrying (CLI and API)."""


def delivery_id(notification_key: str, channel: str, recipient: Recipient) -> str:
    """Stable across retries and dispatchers: the same notification through the same
    channel to the same recipient (a person on duty: the same contact) is always the
    same delivery."""
    parts = [notification_key, channel, recipient.name, *recipient.phones, *recipient.emails]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Unplanned:
    key: str
    case_id: str
    department: str
    """The recipient as the outbox names it: a unit code, ``station`` or ``branch``."""
    at: datetime
    compound: str | None
    """The case's compound (None: the projection does not know the case)."""
    level: str
    kind: str


Router = Callable[[Unplanned], list[tuple[Recipient, list[str]]]]
"""A notification -> each recipient and the names of the channels that serve it
(none: the recipient cannot be named, e.g. an unknown case)."""


def plan(engine: Engine, route: Router, now: datetime, max_age: timedelta, batch: int) -> int:
    """Choose the channels of up to ``batch`` notifications not yet planned."""
    unplanned = select(NOTIFICATIONS.c.key).where(NOTIFICATIONS.c.planned_at.is_(None))
    unplanned = unplanned.order_by(NOTIFICATIONS.c.at).limit(batch)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            unplanned = unplanned.with_for_update(skip_locked=True)
        # Taken by writing first: two dispatchers never plan one notification, and a
        # SQLite transaction that writes first never reads a stale snapshot.
        taken = conn.execute(
            update(NOTIFICATIONS)
            .where(NOTIFICATIONS.c.key.in_(unplanned), NOTIFICATIONS.c.planned_at.is_(None))
            .values(planned_at=now)
            .returning(
                NOTIFICATIONS.c.key,
                NOTIFICATIONS.c.case_id,
                NOTIFICATIONS.c.department,
                NOTIFICATIONS.c.at,
                NOTIFICATIONS.c.level,
                NOTIFICATIONS.c.kind,
            )
        ).all()
        compounds: dict[str, str] = dict(
            conn.execute(
                select(CASES.c.case_id, CASES.c.compound).where(
                    CASES.c.case_id.in_({row.case_id for row in taken})
                )
            ).all()
        )
        for row in taken:
            item = Unplanned(
                row.key,
                row.case_id,
                row.department,
                row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC),
                compounds.get(row.case_id),
                row.level,
                row.kind,
            )
            too_old = item.at < now - max_age
            rows = [
                _new(item, recipient, channel, now)
                for recipient, channels in ([] if too_old else route(item))
                for channel in channels
            ]
            insert_ignoring_duplicates(conn, DELIVERIES, rows)
            why = TOO_OLD if too_old else (None if rows else NO_CHANNEL)
            conn.execute(
                update(NOTIFICATIONS)
                .where(NOTIFICATIONS.c.key == item.key)
                .values(routes=len(rows), unsent_why=why)
            )
    return len(taken)


def _new(item: Unplanned, recipient: Recipient, channel: str, now: datetime) -> dict[str, Any]:
    contact = {"phones": recipient.phones, "emails": recipient.emails}
    return {
        "delivery_id": delivery_id(item.key, channel, recipient),
        "notification_key": item.key,
        "case_id": item.case_id,
        "channel": channel,
        "recipient": recipient.name,
        "contact": json.dumps(contact) if recipient.phones or recipient.emails else "",
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
    }


@dataclass(frozen=True)
class Claimed:
    delivery_id: str
    notification_key: str
    case_id: str
    channel: str
    recipient: str
    attempts: int
    contact: str
    """A person on duty's own phones and addresses (JSON), or empty."""

    def reached(self) -> Recipient:
        """The recipient as it was planned, with a person's contact."""
        found = json.loads(self.contact) if self.contact else {}
        return Recipient(
            name=self.recipient,
            phones=tuple(found.get("phones", ())),
            emails=tuple(found.get("emails", ())),
        )


def claim(engine: Engine, owner: str, now: datetime, lease: timedelta, batch: int) -> list[Claimed]:
    """Lease up to ``batch`` deliveries that are due and nobody holds."""
    free = and_(
        DELIVERIES.c.status == PENDING,
        DELIVERIES.c.next_attempt_at <= now,
        or_(DELIVERIES.c.lease_until.is_(None), DELIVERIES.c.lease_until < now),
    )
    due = select(DELIVERIES.c.delivery_id).where(free)
    due = due.order_by(DELIVERIES.c.next_attempt_at).limit(batch)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        # One statement, writing first; its WHERE holds again for a row another
        # dispatcher leased meanwhile (PostgreSQL re-checks a row it waited for).
        taken = conn.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.delivery_id.in_(due), free)
            .values(lease_owner=owner, lease_until=now + lease, attempts=DELIVERIES.c.attempts + 1)
            .returning(
                DELIVERIES.c.delivery_id,
                DELIVERIES.c.notification_key,
                DELIVERIES.c.case_id,
                DELIVERIES.c.channel,
                DELIVERIES.c.recipient,
                DELIVERIES.c.attempts,
                DELIVERIES.c.contact,
            )
        )
        return sorted((Claimed(*row) for row in taken), key=lambda c: c.delivery_id)


def _mine(conn: Connection, claimed: Claimed, owner: str, **values: Any) -> bool:
    done = conn.execute(
        update(DELIVERIES)
        .where(DELIVERIES.c.delivery_id == claimed.delivery_id, DELIVERIES.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, **values)
    )
    return bool(done.rowcount)


def delivered(engine: Engine, claimed: Claimed, owner: str, now: datetime) -> bool:
    """Record a send that succeeded; the notification is delivered once all its are."""
    with engine.begin() as conn:
        if not _mine(conn, claimed, owner, status=DELIVERED, delivered_at=now, last_error=""):
            return False
        waiting = select(func.count()).where(
            DELIVERIES.c.notification_key == claimed.notification_key,
            DELIVERIES.c.status != DELIVERED,
        )
        if conn.execute(waiting).scalar_one() == 0:
            conn.execute(
                update(NOTIFICATIONS)
                .where(NOTIFICATIONS.c.key == claimed.notification_key)
                .values(delivered_at=now)
            )
    return True


def retry_later(
    engine: Engine, claimed: Claimed, owner: str, at: datetime, error: str, *, counted: bool = True
) -> bool:
    """Put the delivery back until ``at``; ``counted=False`` gives the attempt back (it
    was never made: the channel's minute was full)."""
    attempts = DELIVERIES.c.attempts if counted else DELIVERIES.c.attempts - 1
    with engine.begin() as conn:
        return _mine(
            conn, claimed, owner, next_attempt_at=at, last_error=error[:2000], attempts=attempts
        )


def dead_letter(engine: Engine, claimed: Claimed, owner: str, now: datetime, error: str) -> bool:
    """The delivery failed for good; the station is told (unless that is what failed)."""
    with engine.begin() as conn:
        if not _mine(conn, claimed, owner, status=FAILED, failed_at=now, last_error=error[:2000]):
            return False
        source = conn.execute(
            select(NOTIFICATIONS.c.kind, NOTIFICATIONS.c.level, NOTIFICATIONS.c.department).where(
                NOTIFICATIONS.c.key == claimed.notification_key
            )
        ).first()
        if source is not None and source.kind != DELIVERY_FAILED:
            message = (
                f"{source.kind} to {claimed.recipient} through {claimed.channel} failed"
                f" after {claimed.attempts} attempts: {error[:500]}"
            )
            insert_ignoring_duplicates(
                conn,
                NOTIFICATIONS,
                [
                    {
                        "key": f"{claimed.delivery_id}/{DELIVERY_FAILED}",
                        "case_id": claimed.case_id,
                        "department": STATION,
                        "level": source.level,
                        "kind": DELIVERY_FAILED,
                        "message": message,
                        "at": now,
                    }
                ],
            )
    return True


def take_slot(engine: Engine, channel: str, per_minute: int, now: datetime) -> bool:
    """One send of ``channel`` in this minute, if the minute has room (for every dispatcher)."""
    window = now.replace(second=0, microsecond=0)
    with engine.begin() as conn:
        conn.execute(
            insert_for(conn, WINDOWS)
            .values(channel=channel, window_start=window, used=0)
            .on_conflict_do_nothing()
        )
        conn.execute(  # a new minute starts empty
            update(WINDOWS)
            .where(WINDOWS.c.channel == channel, WINDOWS.c.window_start < window)
            .values(window_start=window, used=0)
        )
        taken = conn.execute(
            update(WINDOWS)
            .where(
                WINDOWS.c.channel == channel,
                WINDOWS.c.window_start == window,
                WINDOWS.c.used < per_minute,
            )
            .values(used=WINDOWS.c.used + 1)
        )
        return bool(taken.rowcount)


def retry_failed(engine: Engine, now: datetime, prefixes: Sequence[str] | None = None) -> int:
    """Send failed deliveries again, from a fresh count of attempts: those whose id
    starts with one of ``prefixes``, or every failed one."""
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
