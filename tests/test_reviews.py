"""A station's waiting list: a return or an extension asked for stands until an
event settles it, as the workflow clears it (the decision, the unit signing off
or leaving, the unit replaced, the whistle moving on, the case ending)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from models.case import EventKind
from models.tables import CaseEventRecord
from store.case_filters import CaseScope
from store.engine import make_engine
from store.reviews import waiting_for_review
from tests.rowkit import case_row

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
E = EventKind


def _events(
    case_id: str, *steps: tuple[EventKind, str | None, dict[str, str]]
) -> list[CaseEventRecord]:
    return [
        CaseEventRecord(
            case_id=case_id,
            seq=seq,
            kind=kind.value,
            at=T0 + timedelta(minutes=seq),
            actor="x",
            level="emergency",
            department=unit,
            detail=json.dumps(detail),
            reason="not_our_duty" if kind == E.RETURN_REQUESTED else None,
        )
        for seq, (kind, unit, detail) in enumerate(steps, start=1)
    ]


def test_requests_stand_until_settled(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    none: dict[str, str] = {}
    with Session(engine) as session:
        session.add_all(
            [
                case_row("standing", "in_progress", T0),
                case_row("decided", "in_progress", T0),
                case_row("acted", "in_progress", T0),
                case_row("replaced", "in_progress", T0),
                case_row("moved-on", "in_progress", T0),
                case_row("closed", "closed", T0),
                case_row("elsewhere", "in_progress", T0, compound="b"),
            ]
        )
        session.add_all(
            _events(
                "standing", (E.RETURN_REQUESTED, "u1", none), (E.EXTENSION_REQUESTED, "u2", none)
            )
            + _events(
                "decided",
                (E.RETURN_REQUESTED, "u1", none),
                (E.RETURN_REFUSED, "u1", none),
                (E.EXTENSION_REQUESTED, "u1", none),
                (E.EXTENSION_APPROVED, "u1", none),
            )
            + _events(
                "acted",
                (E.EXTENSION_REQUESTED, "u1", none),
                (E.SIGNED_OFF, "u1", none),
                (E.EXTENSION_REQUESTED, "u2", none),
            )
            + _events(
                "replaced",
                (E.RETURN_REQUESTED, "u1", none),
                (E.REDISPATCHED, None, {"added": "u3", "removed": "u1"}),
            )
            + _events("moved-on", (E.RETURN_REQUESTED, "u1", none), (E.ESCALATED, None, none))
            + _events("closed", (E.RETURN_REQUESTED, "u1", none))
            + _events("elsewhere", (E.RETURN_REQUESTED, "u1", none))
        )
        session.commit()
    found = waiting_for_review(engine, CaseScope(compounds=frozenset({"a"})), limit=10)
    assert [(w.case_id, w.department, w.kind) for w in found] == [  # the oldest first
        ("standing", "u1", "return_requested"),
        ("standing", "u2", "extension_requested"),
        ("acted", "u2", "extension_requested"),  # u1's was settled by signing off
    ]
    assert found[0].reason == "not_our_duty"
    assert len(waiting_for_review(engine, CaseScope(), limit=10)) == 4  # "elsewhere" too
    assert len(waiting_for_review(engine, CaseScope(), limit=2)) == 2
