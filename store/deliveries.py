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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection, Engine

from models.notify import Recipient
from models.tables import (
    CaseRecord,
    ChannelWindowRecord,
    DeliveryRecord,
    NotificationRecord,
)
from models.text_rules import SHORT_MAX
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
ERROR_MAX = 2000
"""Characters of a delivery's last error kept."""
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
                new_delivery(item, recipient, channel, now)
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


def new_delivery(
    item: Unplanned, recipient: Recipient, channel: str, now: datetime
) -> dict[str, Any]:
    """The row of a delivery planned at ``now``: pending, due at once."""
    contact = {"phones": recipient.phones, "emails": recipient.emails}
    return {
        "delivery_id": delivery_id(item.key, channel, recipient),
        "notification_key": item.key,
        "case_id": item.case_id,
        "compound": (item.compound or "").lower()[:SHORT_MAX],  # as a scope matches it
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


def claim(
    engine: Engine,
    owner: str,
    now: datetime,
    lease: timedelta,
    batch: int,
    per_minute: Mapping[str, int],
) -> list[Claimed]:
    """Lease up to ``batch`` deliveries that are due and nobody holds, each within its
    channel's ``per_minute`` (shared by every dispatcher); those over it wait for the
    next minute, their attempt given back."""
    free = and_(
        DELIVERIES.c.status == PENDING,
        DELIVERIES.c.next_attempt_at <= now,
        or_(DELIVERIES.c.lease_until.is_(None), DELIVERIES.c.lease_until < now),
    )
    due = select(DELIVERIES.c.delivery_id).where(free)
    due = due.order_by(DELIVERIES.c.created_at).limit(batch)  # the oldest first, always
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
                DELIVERIES.c.created_at,
            )
        )
        # A channel's minute goes to its oldest deliveries first.
        rows = sorted(taken, key=lambda row: (str(row.created_at), row.delivery_id))
        claimed = [Claimed(*row[:-1]) for row in rows]
        by_channel: dict[str, list[Claimed]] = {}
        for item in claimed:
            by_channel.setdefault(item.channel, []).append(item)
        kept: list[Claimed] = []
        window = now.replace(second=0, microsecond=0)
        for channel, items in sorted(by_channel.items()):  # one order: no deadlock
            limit = per_minute.get(channel)
            granted = (
                len(items) if limit is None else _slots(conn, channel, limit, window, len(items))
            )
            kept += items[:granted]
            over = [item.delivery_id for item in items[granted:]]
            if over:
                conn.execute(
                    update(DELIVERIES)
                    .where(DELIVERIES.c.delivery_id.in_(over))
                    .values(
                        lease_owner=None,
                        lease_until=None,
                        attempts=DELIVERIES.c.attempts - 1,
                        next_attempt_at=window + timedelta(minutes=1),
                    )
                )
        return kept


def renew(engine: Engine, owner: str, ids: Sequence[str], until: datetime) -> None:
    """Hold these deliveries longer: their sends are still running."""
    with engine.begin() as conn:
        conn.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.delivery_id.in_(list(ids)), DELIVERIES.c.lease_owner == owner)
            .values(lease_until=until)
        )


def _slots(conn: Connection, channel: str, per_minute: int, window: datetime, wanted: int) -> int:
    """Up to ``wanted`` sends of ``channel`` in the minute starting at ``window``."""
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
    used = select(WINDOWS.c.used).where(WINDOWS.c.channel == channel)
    if conn.dialect.name == "postgresql":
        used = used.with_for_update()
    granted = max(0, min(wanted, per_minute - int(conn.execute(used).scalar_one())))
    if granted:
        conn.execute(
            update(WINDOWS)
            .where(WINDOWS.c.channel == channel)
            .values(used=WINDOWS.c.used + granted)
        )
    return granted
