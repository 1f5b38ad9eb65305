"""The publishing activity on a real SQLite file, without a Temporal server:
a batch delivered twice (a retry after a lost reply, or a replayed workflow
task) lands once, and the rows keep the case's order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio.testing import ActivityEnvironment

from activities.publish import CasePublisher
from audit.verify import verify_case
from models.case import CaseEvent
from models.ledger import GENESIS, event_hash
from models.publication import CaseChanges, Notification
from models.tables import CaseEventRecord, CaseRecord, NotificationRecord
from store.engine import make_engine
from tests.rowkit import case_summary

CASE = "case-publish-1"
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'whistle.db'}")
    yield engine
    engine.dispose()


def chain(kinds: list[tuple[str, str]]) -> list[CaseEvent]:
    """Events of CASE, hashed as the workflow's ledger hashes them."""
    events, previous = [], GENESIS
    for seq, (kind, level) in enumerate(kinds, start=1):
        event = CaseEvent(
            seq=seq,
            kind=kind,
            at=T0 + timedelta(minutes=seq),
            actor="system",
            level=level,
            detail={"n": str(seq)},
        )
        event.hash = previous = event_hash(previous, CASE, event, event.detail)
        events.append(event)
    return events


EVENTS = chain(
    [
        ("raised", "emergency"),
        ("dispatched", "emergency"),
        ("report_in_missed", "emergency"),
        ("escalated", "enforcement"),
        ("dispatched", "enforcement"),
    ]
)


def notice(seq: int, department: str, kind: str, level: str) -> Notification:
    return Notification(
        key=f"{CASE}/{seq}/{department}/{kind}",
        case_id=CASE,
        department=department,
        level=level,
        kind=kind,
        message=f"{kind} for {department}",
        at=T0 + timedelta(minutes=seq),
    )


def batch(upto: int, first: int, level: str, status: str, notes: list[Notification]) -> CaseChanges:
    return CaseChanges(
        summary=case_summary(
            CASE, T0, level=level, status=status, updated_at=T0 + timedelta(minutes=upto)
        ),
        events=EVENTS[first:upto],
        notifications=notes,
    )


FIRST = batch(
    2,
    0,
    "emergency",
    "awaiting_report_in",
    [
        notice(2, "fire_rescue", "dispatch", "emergency"),
        notice(2, "police", "dispatch", "emergency"),
    ],
)
SECOND = batch(
    5,
    2,
    "enforcement",
    "awaiting_report_in",
    [
        notice(5, "fire_rescue", "dispatch", "enforcement"),
        notice(5, "police", "dispatch", "enforcement"),
    ],
)


def publish(engine: Engine, *batches: CaseChanges) -> None:
    publisher = CasePublisher(engine)
    environment = ActivityEnvironment()
    for changes in batches:
        environment.run(publisher.publish_case_changes, changes)


def rows(
    engine: Engine,
) -> tuple[list[CaseEventRecord], list[NotificationRecord], CaseRecord | None]:
    with Session(engine) as session:
        events = list(session.exec(select(CaseEventRecord).order_by(col(CaseEventRecord.id))))
        notes = list(
            session.exec(
                select(NotificationRecord).order_by(
                    col(NotificationRecord.at), col(NotificationRecord.key)
                )
            )
        )
        return events, notes, session.get(CaseRecord, CASE)


def test_each_batch_lands_once_in_order(engine: Engine) -> None:
    publish(engine, FIRST, FIRST, SECOND, SECOND)
    events, notes, case = rows(engine)
    assert [(e.seq, e.kind, e.level, e.hash) for e in events] == [
        (e.seq, e.kind, e.level, e.hash) for e in EVENTS
    ]
    assert [n.key for n in notes] == [n.key for n in FIRST.notifications + SECOND.notifications]
    assert case is not None
    assert (case.level, case.last_seq, case.head_hash) == ("enforcement", 5, EVENTS[-1].hash)
    assert verify_case(engine, CASE).ok, verify_case(engine, CASE).problem


def test_a_late_redelivery_of_an_older_batch_changes_nothing(engine: Engine) -> None:
    publish(engine, FIRST, SECOND)
    before = rows(engine)
    publish(engine, FIRST)
    events, notes, case = rows(engine)
    assert [(e.id, e.seq, e.hash) for e in events] == [(e.id, e.seq, e.hash) for e in before[0]]
    assert [n.key for n in notes] == [n.key for n in before[1]]
    assert case is not None and before[2] is not None
    assert (case.level, case.last_seq, case.updated_at) == (
        before[2].level,
        before[2].last_seq,
        before[2].updated_at,
    )
    assert verify_case(engine, CASE).ok
