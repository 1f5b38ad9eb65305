"""The notifications outbox and its deliveries, for ``python -m bench --pages N``.

A random life (``bench.lives``) tells the notifications its workflow would have
queued, keyed and worded as ``workflows.ledger`` does; they are written with the
case's batch (``store.projection.write_many`` writes them to the outbox as a worker
would). ``plan`` then sets them out as the dispatcher (``notify.dispatcher``,
``store.deliveries``, ``store.delivery_outcomes``) would have left them: two
channels a notification, most delivered, a few failed or still pending, one in a
hundred unsent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection

from bench.lives import Life
from models.case import BRANCH, STATION, EventKind
from models.notify import Recipient
from models.org import Organisation
from models.publication import Notification
from notify.dispatcher import recipient_of
from store.deliveries import (
    DELIVERED,
    DELIVERIES,
    FAILED,
    NO_CHANNEL,
    NOTIFICATIONS,
    PENDING,
    TOO_OLD,
    Unplanned,
    new_delivery,
)

CHANNELS = ("wecom", "sms")
"""Each notification goes through both."""
UNSENT, FAILED_SHARE, PENDING_SHARE = 0.01, 0.02, 0.01
ERRORS = ("HTTP 503 from the robot", "timed out after 10s", "recipient has no phone")
MISSES = {
    EventKind.REPORT_IN_MISSED: "report-in deadline missed",
    EventKind.RESOLVE_MISSED: "resolve deadline missed",
}


def notifications_of(life: Life) -> list[Notification]:
    """What the case's workflow queued along this life, one a key."""
    out: dict[str, Notification] = {}

    def notify(seq: int, level: str, at: datetime, department: str, kind: str, text: str) -> None:
        key = (
            f"{life.case_id}/{level}/{department}/dispatch"
            if kind == "dispatch"
            else f"{life.case_id}/{seq}/{department}/{kind}"
        )
        out.setdefault(
            key,
            Notification(
                key=key,
                case_id=life.case_id,
                department=department,
                level=level,
                kind=kind,
                message=text,
                at=at,
            ),
        )

    title = f"{life.case_id}：消防通道被占用"
    units: list[str] = []
    for e in life.events:
        said = (e.seq, e.level, e.at)
        unit = e.department or ""
        if e.kind == EventKind.DISPATCHED:
            units = [u for u in e.detail.get("departments", "").split(",") if u]
            for name in units:
                notify(*said, name, "dispatch", f"{e.level} whistle: {title}")
        elif e.kind == EventKind.REDISPATCHED:
            added, removed = e.detail.get("added", ""), e.detail.get("removed", "")
            units = [u for u in units if u != removed] + [added]
            notify(*said, added, "dispatch", f"{e.level} whistle: {title}")
        elif e.kind in MISSES:
            reason = MISSES[EventKind(e.kind)]
            notify(*said, unit, "supervision", reason)
            notify(*said, STATION, "overdue", f"{reason}: {unit}")
        elif e.kind == EventKind.RETURN_REQUESTED:
            notify(*said, STATION, "return_review", f"{unit} asks to return the case")
        elif e.kind == EventKind.RETURN_REFUSED:
            notify(*said, unit, "return_refused", "return refused; your deadlines stand")
        elif e.kind == EventKind.SUPERVISED:
            notify(*said, unit, "supervision", "please hurry")
        elif e.kind == EventKind.RESOLVED:
            notify(*said, BRANCH, "confirm", "resolved: confirm within 3 days")
        elif e.kind == EventKind.WITHDRAWN:
            for name in units:
                notify(*said, name, "withdrawn", "the whistle was withdrawn")
    return list(out.values())


@dataclass
class Planned:
    """Rows for one transaction: the outbox's columns to set, and new deliveries."""

    notifications: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]


def plan(
    rng: random.Random,
    items: list[tuple[Notification, str]],
    now: datetime,
    org: Organisation | None,
) -> Planned:
    """Channels and outcomes for each (notification, its case's compound), each sent to
    the recipient the dispatcher names (``notify.dispatcher.recipient_of``)."""
    out = Planned([], [])
    for item, compound in items:
        planned = min(item.at + timedelta(seconds=rng.uniform(0.5, 5)), now)
        unplanned = Unplanned(
            item.key, item.case_id, item.department, item.at, compound, item.level, item.kind
        )
        recipient = recipient_of(unplanned, org)
        if recipient is None or rng.random() < UNSENT:
            why = TOO_OLD if recipient is not None and rng.random() < 0.5 else NO_CHANNEL
            out.notifications.append(_outbox(item.key, planned, 0, why, None))
            continue
        settled: list[datetime | None] = []
        for channel in CHANNELS:
            row = _delivery(rng, unplanned, channel, recipient, planned, now)
            settled.append(row["delivered_at"])
            out.deliveries.append(row)
        every = None if None in settled else max(d for d in settled if d is not None)
        out.notifications.append(_outbox(item.key, planned, len(CHANNELS), None, every))
    return out


def _outbox(
    key: str, planned: datetime, routes: int, why: str | None, delivered: datetime | None
) -> dict[str, Any]:
    return {
        "k": key,
        "planned_at": planned,
        "routes": routes,
        "unsent_why": why,
        "delivered_at": delivered,
    }


def _delivery(
    rng: random.Random,
    unplanned: Unplanned,
    channel: str,
    recipient: Recipient,
    planned: datetime,
    now: datetime,
) -> dict[str, Any]:
    """The row ``store.deliveries`` plans, with an outcome drawn."""
    roll = rng.random()
    status = (
        FAILED
        if roll < FAILED_SHARE
        else PENDING
        if roll < FAILED_SHARE + PENDING_SHARE
        else DELIVERED
    )
    sent = min(planned + timedelta(seconds=rng.uniform(0.2, 30)), now)
    row = new_delivery(unplanned, recipient, channel, planned)
    row.update(status=status, attempts=1, delivered_at=None, failed_at=None)
    if status == DELIVERED:
        row["delivered_at"] = sent
    elif status == FAILED:
        row.update(attempts=5, failed_at=sent, last_error=rng.choice(ERRORS))
    else:
        row.update(
            attempts=rng.randint(1, 3),
            next_attempt_at=now + timedelta(minutes=rng.uniform(1, 60)),
            last_error=rng.choice(ERRORS),
        )
    return row


def write(conn: Connection, planned: Planned) -> None:
    """Both in bulk (executemany), in the caller's transaction."""
    if planned.notifications:
        conn.execute(
            update(NOTIFICATIONS)
            .where(NOTIFICATIONS.c.key == bindparam("k"))
            .values(
                planned_at=bindparam("planned_at"),
                routes=bindparam("routes"),
                unsent_why=bindparam("unsent_why"),
                delivered_at=bindparam("delivered_at"),
            ),
            planned.notifications,
        )
    if planned.deliveries:
        conn.execute(DELIVERIES.insert(), planned.deliveries)
