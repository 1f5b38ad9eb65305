"""The assessment, against values worked out by hand on a fixture of cases
that covers every outcome (resolved, redone, unsatisfied, returned, withdrawn,
missed report-in, missed resolution, still open, outside the period).

Issue 11 changed two definitions the fixture meets: a withdrawn case (c3) is
charged to no one, so housing (on c3 only) has no row and urban management
loses c3's return and its unresolved end; resolution is the branch's
confirmation (c1 and c2 were confirmed, so no value moved for that)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from audit.ranking import red_black
from audit.stats import compute, load_cases, stats, unit_kinds
from models.periods import quarter_bounds
from models.policy import AssessmentRules
from models.tables import CaseEventRecord, CaseRecord
from store.credits import rebuild
from store.engine import make_engine

T0 = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)


class CaseBuilder:
    def __init__(self, case_id: str, compound: str, level: str, start: datetime = T0) -> None:
        self.case = CaseRecord(
            case_id=case_id,
            compound=compound,
            category="c",
            title="t",
            level=level,
            status="in_progress",
            raised_by="branch",
            raised_at=start,
            updated_at=start,
            policy_version="p-test",
        )
        self.start = start
        self.level = level
        self.events: list[CaseEventRecord] = []
        self.add(0, "raised")

    def add(self, seconds: int, kind: str, department: str | None = None, **detail: str) -> None:
        self.events.append(
            CaseEventRecord(
                case_id=self.case.case_id,
                seq=len(self.events) + 1,
                kind=kind,
                at=self.start + timedelta(seconds=seconds),
                actor="x",
                level=self.level,
                department=department,
                detail=json.dumps(detail),
            )
        )

    def dispatch(self, seconds: int, *departments: str) -> None:
        self.add(seconds, "dispatched", departments=",".join(departments))

    def escalate(self, seconds: int, to: str) -> None:
        self.level = to
        self.add(seconds, "escalated")


def save(engine: Engine, *built: CaseBuilder) -> None:
    """Rows written around the projection, as a restore would, then credited."""
    with Session(engine) as session:
        for case in built:
            session.add(case.case)
            session.add_all(case.events)
        session.commit()
    rebuild(engine)


def checked_stats(engine: Engine, **period: Any) -> dict[str, dict[str, Any]]:
    """``stats``' rows, checked against a full recomputation from the ledger."""
    by = period.get("by", "department")
    groups: dict[str, dict[str, Any]] = stats(engine, **period)["groups"]
    start, end = period.get("start"), period.get("end")
    assert groups == compute(load_cases(engine, start, end), by, unit_kinds(engine))
    return groups


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Engine]:
    c1 = CaseBuilder("c1", "A", "emergency")
    c1.dispatch(0, "fire_rescue", "police")
    c1.add(600, "reported_in", "fire_rescue")
    c1.add(1200, "reported_in", "police")
    c1.add(3600, "signed_off", "fire_rescue", outcome="resolved")
    c1.add(3600, "resolved")
    c1.add(7200, "confirmed", satisfaction="5")
    c1.add(7200, "closed")

    c2 = CaseBuilder("c2", "A", "enforcement")
    c2.dispatch(0, "police", "urban_management")
    c2.add(1800, "reported_in", "police")
    c2.add(7200, "report_in_missed", "urban_management")
    c2.escalate(7200, "joint")
    c2.dispatch(7200, "police", "urban_management")
    c2.add(8000, "joint_meeting_held", "police")
    c2.add(10000, "signed_off", "police", outcome="resolved")
    c2.add(11000, "signed_off", "urban_management", outcome="resolved")
    c2.add(11000, "resolved")
    c2.add(12000, "reopened")
    c2.add(13000, "signed_off", "police", outcome="resolved")
    c2.add(14000, "signed_off", "urban_management", outcome="resolved")
    c2.add(14000, "resolved")
    c2.add(15000, "confirmed", satisfaction="2")
    c2.add(15000, "closed")

    c3 = CaseBuilder("c3", "B", "enforcement")
    c3.dispatch(0, "urban_management", "housing")
    c3.add(100, "returned", "urban_management")
    c3.add(100, "lead_changed", "housing")
    c3.add(200, "returned", "housing")
    c3.escalate(200, "joint")
    c3.dispatch(200, "urban_management", "housing")
    c3.add(300, "withdrawn")

    c4 = CaseBuilder("c4", "B", "emergency")
    c4.dispatch(0, "police")
    c4.add(900, "reported_in", "police")
    c4.add(86400, "resolve_missed", "police")
    c4.escalate(86400, "enforcement")
    c4.dispatch(86400, "police")

    c5 = CaseBuilder("c5", "A", "emergency", start=datetime(2026, 9, 30, tzinfo=UTC))
    c5.dispatch(0, "fire_rescue")
    c5.add(5, "report_in_missed", "fire_rescue")

    engine = make_engine(f"sqlite:///{tmp_path}/stats.db")
    save(engine, c1, c2, c3, c4, c5)
    yield engine
    engine.dispose()


def q4(engine: Engine, by: str) -> dict[str, dict[str, Any]]:
    start, end = quarter_bounds("2026Q4", UTC)
    return checked_stats(engine, start=start, end=end, by=by)


def test_by_department(ledger: Engine) -> None:
    table = q4(ledger, "department")
    assert set(table) == {"fire_rescue", "police", "urban_management"}  # c3 withdrawn
    expected: dict[str, dict[str, Any]] = {
        "fire_rescue": dict(
            cases=1,
            response_rate=1.0,
            resolution_rate=1.0,
            satisfaction_rate=1.0,
            return_rate=0.0,
            redo_rate=0.0,
            on_time_completion_rate=1.0,
            mean_report_in_seconds=600.0,
            p90_report_in_seconds=600.0,
            mean_resolve_seconds=3600.0,
            whistles_per_compound=1.0,
        ),
        "police": dict(
            cases=3,
            dispatches=3,
            kind="police",  # no organisation in force: the code is the kind
            response_rate=1.0,
            resolution_rate=1.0,
            satisfaction_rate=0.0,
            return_rate=0.0,
            redo_rate=0.5,
            on_time_completion_rate=0.6667,
            mean_report_in_seconds=1300.0,
            p90_report_in_seconds=1800.0,
            mean_resolve_seconds=11000.0,
            whistles_per_compound=1.5,
        ),
        "urban_management": dict(  # issue 11: c3 (withdrawn) no longer counts
            cases=1,  # was 2
            dispatches=1,
            response_rate=0.0,
            resolution_rate=1.0,  # was 0.5: c3's withdrawal was charged as unresolved
            satisfaction_rate=0.0,
            return_rate=0.0,  # was 0.25: c3's return
            redo_rate=0.5,
            on_time_completion_rate=1.0,
            mean_report_in_seconds=None,
            mean_resolve_seconds=11000.0,
        ),
    }
    for department, values in expected.items():
        row = table[department]
        assert {k: row[k] for k in values} == values, department


def test_by_compound(ledger: Engine) -> None:
    table = q4(ledger, "compound")
    assert {
        k: table["A"][k]
        for k in (
            "cases",
            "response_rate",
            "resolution_rate",
            "satisfaction_rate",
            "return_rate",
            "redo_rate",
            "on_time_completion_rate",
            "mean_report_in_seconds",
            "p90_report_in_seconds",
            "mean_resolve_seconds",
            "p90_resolve_seconds",
            "whistles_per_compound",
        )
    } == dict(
        cases=2,
        response_rate=0.75,
        resolution_rate=1.0,
        satisfaction_rate=0.5,
        return_rate=0.0,
        redo_rate=0.3333,
        on_time_completion_rate=1.0,
        mean_report_in_seconds=1200.0,
        p90_report_in_seconds=1800.0,
        mean_resolve_seconds=7300.0,
        p90_resolve_seconds=11000.0,
        whistles_per_compound=2.0,
    )
    assert {
        k: table["B"][k]
        for k in (
            "cases",
            "response_rate",
            "resolution_rate",
            "satisfaction_rate",
            "return_rate",
            "on_time_completion_rate",
            "mean_report_in_seconds",
        )
    } == dict(
        cases=2,  # c3, withdrawn, is still a whistle blown
        response_rate=1.0,
        resolution_rate=None,  # issue 11, was 0.0: c3 withdrawn, c4 open
        satisfaction_rate=None,
        return_rate=0.0,  # issue 11, was 0.3333: c3's returns are charged to no one
        on_time_completion_rate=0.0,
        mean_report_in_seconds=900.0,
    )


def test_by_level(ledger: Engine) -> None:
    table = q4(ledger, "level")
    # issue 11: c3 (withdrawn) left out; were 4 units, and 0.4
    assert table["joint"]["return_rate"] == 0.0 and table["joint"]["return_units"] == 2
    assert table["enforcement"]["return_rate"] == 0.0 and table["enforcement"]["return_units"] == 3
    assert table["emergency"]["response_rate"] == 1.0 and table["emergency"]["response_units"] == 3


def test_the_period_excludes_other_quarters(ledger: Engine) -> None:
    everything = stats(ledger, by="department")["groups"]
    assert everything["fire_rescue"]["response_rate"] == 0.5  # c5, raised in Q3, counts here
    assert q4(ledger, "department")["fire_rescue"]["response_rate"] == 1.0


def test_red_black_list(ledger: Engine) -> None:
    # issue 11: housing (c3 only, withdrawn) is gone; three units ranked, so each
    # list takes one and police, in the middle, is on neither
    rules = AssessmentRules(min_dispatches=1, list_size=3)
    (lists,) = red_black(q4(ledger, "department"), rules)["lists"]
    assert [r["unit"] for r in lists["ranked"]] == ["fire_rescue", "police", "urban_management"]
    assert [r["unit"] for r in lists["red"]] == ["fire_rescue"]
    assert [r["unit"] for r in lists["black"]] == ["urban_management"]
    assert lists["black"][0]["score"] == 0.3333


def test_quarters() -> None:
    assert quarter_bounds("2026Q4", UTC) == (
        datetime(2026, 10, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert quarter_bounds("2026q1", UTC)[1] == datetime(2026, 4, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="quarter: must look like 2026Q4"):
        quarter_bounds("2026Q5", UTC)
    with pytest.raises(ValueError, match="quarter: the year must be between"):
        quarter_bounds("0000Q1", UTC)
