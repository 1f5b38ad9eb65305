"""Periods of the assessment are the district's: local days and local quarters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from models.errors import RuleViolation
from models.periods import current_quarter, parse_period, quarter_bounds

BEIJING = ZoneInfo("Asia/Shanghai")


def test_a_quarter_starts_at_local_midnight() -> None:
    start, end = quarter_bounds("2026Q4", BEIJING)
    assert start == datetime(2026, 9, 30, 16, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 16, tzinfo=UTC)
    # a whistle blown at 01:00 on 1 October in Beijing counts in Q4, not Q3
    raised = datetime(2026, 9, 30, 17, tzinfo=UTC)
    assert start <= raised < end
    q3_start, q3_end = quarter_bounds("2026Q3", BEIJING)
    assert not q3_start <= raised < q3_end


def test_this_quarter_is_the_local_one() -> None:
    new_year_in_beijing = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert current_quarter(BEIJING, new_year_in_beijing) == "2027Q1"
    assert current_quarter(UTC, new_year_in_beijing) == "2026Q4"


def test_days_are_local_and_an_explicit_offset_is_kept() -> None:
    first, last = parse_period("2026-10-01", "2026-10-08T12:00+00:00", None, zone=BEIJING)
    assert first == datetime(2026, 9, 30, 16, tzinfo=UTC)
    assert last == datetime(2026, 10, 8, 12, tzinfo=UTC)
    assert last is not None and last.utcoffset() == timedelta(0)
    naive, _ = parse_period("2026-10-01T08:00", None, None, zone=BEIJING)
    assert naive == datetime(2026, 10, 1, 8, tzinfo=timezone(timedelta(hours=8)))


@pytest.mark.parametrize(
    ("start", "end", "quarter", "message"),
    [
        ("2026-10-01", None, "2026Q4", "quarter: give a quarter or from/to, not both"),
        ("yesterday", None, None, "from: must be a day"),
        ("2026-10-08", "2026-10-01", None, "to: must be after from"),
        (None, None, "2026Q5", "quarter: must look like 2026Q4"),
    ],
)
def test_bad_periods_name_the_field(
    start: str | None, end: str | None, quarter: str | None, message: str
) -> None:
    with pytest.raises(RuleViolation, match=message):
        parse_period(start, end, quarter, zone=BEIJING)
