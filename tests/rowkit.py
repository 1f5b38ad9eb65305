"""Rows of the projection made by hand, for the tests of its reads."""

from __future__ import annotations

from datetime import datetime, timedelta

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
