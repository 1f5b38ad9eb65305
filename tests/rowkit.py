"""Rows of the projection made by hand, for the tests of its reads."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from models.publication import CaseSummary
from models.tables import CaseRecord


def case_row(
    case_id: str,
    status: str,
    now: datetime,
    *,
    compound: str = "a",
    units: str = "u1",
    **due_in_hours: int,
) -> CaseRecord:
    """A case raised a day before ``now``; ``report_in=-2`` puts its report-in
    deadline two hours before ``now`` (likewise ``resolve``, ``confirmation``)."""

    def at(name: str) -> datetime | None:
        hours = due_in_hours.get(name)
        return None if hours is None else now + timedelta(hours=hours)

    return CaseRecord(
        case_id=case_id,
        compound=compound,
        category="noise",
        title=case_id,
        level="emergency",
        status=status,
        departments=units,
        raised_by="branch:x",
        raised_at=now - timedelta(days=1),
        updated_at=now,
        policy_version="p",
        report_in_deadline=at("report_in"),
        resolve_deadline=at("resolve"),
        confirmation_deadline=at("confirmation"),
    )


def case_summary(case_id: str, raised_at: datetime, **fields: Any) -> CaseSummary:
    """A case's summary as the workflow publishes it, ``fields`` over plain defaults."""
    values: dict[str, Any] = {
        "case_id": case_id,
        "compound": "Anningyuan",
        "category": "fire_lane",
        "title": "Car blocking the fire lane",
        "level": "emergency",
        "status": "in_progress",
        "lead": "fire_rescue",
        "departments": ["fire_rescue", "police"],
        "raised_by": "branch",
        "raised_at": raised_at,
        "updated_at": raised_at,
        "report_in_deadline": None,
        "resolve_deadline": None,
        "confirmation_deadline": None,
        "satisfaction": None,
        "closing": None,
        "returns": 0,
        "redos": 0,
        "policy_version": "p-test",
        **fields,
    }
    return CaseSummary(**values)
