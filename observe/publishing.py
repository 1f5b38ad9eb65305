"""What the publishing activity observes: the events a batch newly projects.

A batch may be published again (a retry after a lost reply, a reset workflow),
and the projection then writes nothing: the metrics count only the events that
were not in SQL before the write. Two attempts of one batch racing each other
could both count it; Temporal runs them one after the other unless an attempt
times out while still writing, so that is rare and only ever over-counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from models.case import SYSTEM, CaseEvent, EventKind
from models.publication import CaseChanges
from models.tables import CaseEventRecord
from observe.metrics import (
    DEADLINES_MISSED,
    ESCALATION_LAG,
    ESCALATIONS,
    EVENTS_PROJECTED,
    PROJECTION_LAG,
)

EVENTS = CaseEventRecord.__table__  # type: ignore[attr-defined]

MISSES = {
    EventKind.REPORT_IN_MISSED.value: ("report_in", "deadline"),
    EventKind.RESOLVE_MISSED.value: ("resolve", "deadline"),
    EventKind.JOINT_MEETING_OVERDUE.value: ("joint_meeting", "missed"),
}
"""Kinds of a missed deadline -> the deadline's name and the detail key holding it."""


def unprojected(engine: Engine, changes: CaseChanges) -> set[int]:
    """The seqs of the batch's events not yet in SQL: one range read of the (case,
    seq) key."""
    if not changes.events:
        return set()
    first = min(e.seq for e in changes.events)
    query = select(EVENTS.c.seq).where(
        EVENTS.c.case_id == changes.summary.case_id, EVENTS.c.seq >= first
    )
    with engine.connect() as conn:
        stored = set(conn.scalars(query))
    return {e.seq for e in changes.events} - stored


def observe_projected(
    events: Sequence[CaseEvent], fresh: set[int], now: datetime | None = None
) -> None:
    """Count the events of ``fresh`` (seqs) just written, and how late they came."""
    written = now or datetime.now(UTC)
    # Event time -> a deadline missed then: a deadline's task records its misses and
    # the escalation they cause together, so they share the workflow's clock (and a batch).
    missed_at = {
        e.at: deadline
        for e in events
        if e.kind in MISSES and (deadline := _when(e.detail.get(MISSES[e.kind][1])))
    }
    for event in events:
        if event.seq not in fresh:
            continue
        EVENTS_PROJECTED.labels(event.kind).inc()
        PROJECTION_LAG.observe(max(0.0, (written - event.at).total_seconds()))
        if event.kind in MISSES:
            DEADLINES_MISSED.labels(MISSES[event.kind][0], event.level).inc()
        elif event.kind == EventKind.ESCALATED.value:
            deadline = missed_at.get(event.at) if event.actor == SYSTEM else None
            cause = "action" if deadline is None else "deadline_missed"
            ESCALATIONS.labels(event.from_level or "", event.to_level or "", cause).inc()
            if deadline is not None:
                ESCALATION_LAG.observe(max(0.0, (event.at - deadline).total_seconds()))


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
