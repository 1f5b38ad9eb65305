"""The worklist of a unit or a station: open cases in the reader's scope, by the
deadline each now runs against, nearest (most overdue) first, cut and counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from models.tables import CaseRecord
from store.engine import make_engine
from store.reads import CaseScope
from store.worklist import IN_FORCE, open_by_deadline

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _case(
    case_id: str, status: str, compound: str = "a", units: str = "u1", **due: int
) -> CaseRecord:
    def at(name: str) -> datetime | None:
        return NOW + timedelta(hours=due[name]) if name in due else None

    return CaseRecord(
        case_id=case_id,
        compound=compound,
        category="noise",
        title=case_id,
        level="emergency",
        status=status,
        departments=units,
        raised_by="branch:x",
        raised_at=NOW - timedelta(days=1),
        updated_at=NOW,
        policy_version="p",
        report_in_deadline=at("report_in"),
        resolve_deadline=at("resolve"),
        confirmation_deadline=at("confirmation"),
    )


def test_open_cases_by_the_deadline_they_run_against(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with Session(engine) as session:
        session.add_all(
            [
                _case("resolve-in-5h", "in_progress", report_in=-20, resolve=5),
                _case("report-in-1h", "awaiting_report_in", report_in=1, resolve=48),
                _case("meeting-overdue", "joint_meeting", report_in=-2, resolve=-30),
                _case("confirm-in-3h", "awaiting_confirmation", resolve=-1, confirmation=3),
                _case("closed-long-ago", "closed", report_in=-100),
                _case("withdrawn", "withdrawn", report_in=-200),
                _case("other-compound", "in_progress", compound="b", resolve=-50),
                _case("other-unit", "in_progress", units="u2", resolve=-60),
                _case("no-deadline", "in_progress"),
                # a resolve deadline capped (after a miss) before the report-in one
                _case("capped", "awaiting_report_in", report_in=10, resolve=-70),
            ]
        )
        session.commit()
    rows, total = open_by_deadline(engine, CaseScope(compounds=frozenset({"A"})), limit=10)
    assert [r.case_id for r in rows] == [
        "capped",  # its resolve deadline, 70 h past, not its report-in in 10 h
        "other-unit",  # 60 h past its resolve deadline
        "meeting-overdue",  # the meeting's deadline, kept in report_in_deadline, not resolve's
        "report-in-1h",  # its report-in, not its resolve deadline
        "confirm-in-3h",
        "resolve-in-5h",  # its resolve deadline, not the report-in long past
        "no-deadline",  # last: nothing to count down
    ]
    assert total == 7
    rows, total = open_by_deadline(engine, CaseScope(department="u1"), limit=2)
    assert [r.case_id for r in rows] == ["capped", "other-compound"] and total == 7
    assert set(IN_FORCE) == {
        "awaiting_report_in",
        "in_progress",
        "joint_meeting",
        "awaiting_confirmation",
    }
