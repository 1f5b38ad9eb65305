"""The worklist of a unit or a station: open cases in the reader's scope, by the
deadline each now runs against, nearest (most overdue) first, cut and counted."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session

from store.case_filters import CaseScope
from store.engine import make_engine
from store.worklist import IN_FORCE, open_by_deadline
from tests.rowkit import case_row

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_open_cases_by_the_deadline_they_run_against(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with Session(engine) as session:
        session.add_all(
            [
                case_row("resolve-in-5h", "in_progress", NOW, report_in=-20, resolve=5),
                case_row("report-in-1h", "awaiting_report_in", NOW, report_in=1, resolve=48),
                case_row("meeting-overdue", "joint_meeting", NOW, report_in=-2, resolve=-30),
                case_row("confirm-in-3h", "awaiting_confirmation", NOW, resolve=-1, confirmation=3),
                case_row("closed-long-ago", "closed", NOW, report_in=-100),
                case_row("withdrawn", "withdrawn", NOW, report_in=-200),
                case_row("other-compound", "in_progress", NOW, compound="b", resolve=-50),
                case_row("other-unit", "in_progress", NOW, units="u2", resolve=-60),
                case_row("no-deadline", "in_progress", NOW),
                # a resolve deadline capped (after a miss) before the report-in one
                case_row("capped", "awaiting_report_in", NOW, report_in=10, resolve=-70),
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
