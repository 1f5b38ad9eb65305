"""Working days (issue #11): the pure calendar, its counting rule, its pinned slice.

2026 as chinese-calendar 1.11.0 has it (the State Council's announcement): the
Mid-Autumn Festival is Fri 25 Sep to Sun 27 Sep, National Day Thu 1 Oct to
Wed 7 Oct; Sun 20 Sep and Sat 10 Oct are make-up working days (调休).
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from temporalio import workflow
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

with workflow.unsafe.imports_passed_through():
    from models.durations import (
        Span,
        format_duration,
        format_span,
        parse_deadline_spec,
        parse_duration,
    )
    from models.workdays import (
        WorkCalendar,
        WorkdayDeadline,
        add_working_days,
        calendar_slice,
    )
    from policy.calendar import build_calendar, supported_years

CST = timezone(timedelta(hours=8))


def at(day: str, clock: str = "10:00") -> datetime:
    """A China Standard Time instant."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=CST)


def local_midnight_after(day: str) -> datetime:
    """24:00 of ``day`` in China, in UTC."""
    return (at(day, "00:00") + timedelta(days=1)).astimezone(UTC)


@pytest.fixture(scope="module")
def cal2026() -> WorkCalendar:
    return build_calendar([2026])


def test_the_2026_arrangement_as_pinned(cal2026: WorkCalendar) -> None:
    assert cal2026.years == (2026,)
    assert cal2026.source == "chinese-calendar 1.11.0"
    assert cal2026.workdays == (
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    )
    national_day = [d for d in cal2026.holidays if d.startswith("2026-10")]
    assert national_day == ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"]
    assert not cal2026.is_working_day("2026-10-03")  # a weekend inside the holiday
    assert cal2026.is_working_day(date(2026, 10, 10))  # 调休 Saturday
    assert cal2026.is_working_day("2026-10-08")
    assert not cal2026.is_working_day("2026-10-11")  # a plain Sunday


def test_3wd_across_national_day(cal2026: WorkCalendar) -> None:
    # Raised Wed 30 Sep: 1-7 Oct are off; Thu 8, Fri 9 and the 调休 Sat 10 are worked.
    result = add_working_days(at("2026-09-30"), 3, cal2026, "Asia/Shanghai")
    assert result == WorkdayDeadline(
        deadline=local_midnight_after("2026-10-10"), last_day="2026-10-10", estimated=False
    )
    assert result.deadline.tzinfo == UTC
    assert result.deadline.isoformat() == "2026-10-10T16:00:00+00:00"


def test_a_make_up_sunday_counts(cal2026: WorkCalendar) -> None:
    # Raised Fri 18 Sep: Sat 19 is off, Sun 20 is worked (调休 for National Day).
    assert add_working_days(at("2026-09-18"), 1, cal2026).last_day == "2026-09-20"
    # Then Mon 21 to Thu 24, and Mid-Autumn (Fri 25 to Sun 27) is skipped.
    assert add_working_days(at("2026-09-18"), 6, cal2026).last_day == "2026-09-28"


def test_the_start_day_is_not_counted_whatever_the_hour(cal2026: WorkCalendar) -> None:
    early = add_working_days(at("2026-11-02", "00:05"), 1, cal2026)  # a Monday
    late = add_working_days(at("2026-11-02", "23:55"), 1, cal2026)
    assert early == late
    assert early.last_day == "2026-11-03"
    # The start day is the local one: 17:00 UTC on 1 Nov is already 2 Nov in China.
    from_utc = add_working_days(datetime(2026, 11, 1, 17, 0, tzinfo=UTC), 1, cal2026)
    assert from_utc.last_day == "2026-11-03"


def test_a_start_on_a_holiday(cal2026: WorkCalendar) -> None:
    # Raised on National Day itself (Mon 5 Oct): counting starts on Thu 8 Oct.
    assert add_working_days(at("2026-10-05"), 1, cal2026).last_day == "2026-10-08"
    assert add_working_days(at("2026-10-03"), 3, cal2026).last_day == "2026-10-10"


def test_a_district_closing_time(cal2026: WorkCalendar) -> None:
    result = add_working_days(at("2026-09-30"), 3, cal2026, closes_at="17:30")
    assert result.deadline == at("2026-10-10", "17:30").astimezone(UTC)
    with pytest.raises(ValueError, match="closes_at"):
        add_working_days(at("2026-09-30"), 3, cal2026, closes_at="5pm")


def test_beyond_the_covered_years_weekends_alone(cal2026: WorkCalendar) -> None:
    first, last = supported_years()
    assert (first, last) == (2004, 2026)
    # Raised Wed 30 Dec 2026: Thu 31 Dec is known; 2027 is not announced in this
    # release, so Fri 1 Jan 2027 counts (weekends alone are off), then Mon 4 Jan.
    result = add_working_days(at("2026-12-30"), 3, cal2026)
    assert result.last_day == "2027-01-04"
    assert result.estimated
    assert "2027-01-01" in result.note and "weekends alone" in result.note
    assert result.deadline == local_midnight_after("2027-01-04")
    with pytest.raises(ValueError, match="covers 2004 to 2026"):
        build_calendar([2027])


def test_an_empty_calendar_is_weekends_alone() -> None:
    result = add_working_days(at("2026-09-30"), 3, WorkCalendar())
    assert (result.last_day, result.estimated) == ("2026-10-05", True)


def test_a_district_extra_holiday(cal2026: WorkCalendar) -> None:
    district = build_calendar([2026], extra_holidays=["2026-11-16"])
    assert district.source == "chinese-calendar 1.11.0; district: 1 day(s) off, 0 day(s) worked"
    # Raised Fri 13 Nov: Mon 16 is off locally, so one working day ends on Tue 17.
    assert add_working_days(at("2026-11-13"), 1, cal2026).last_day == "2026-11-16"
    assert add_working_days(at("2026-11-13"), 1, district).last_day == "2026-11-17"


def test_district_days_undo_national_ones() -> None:
    district = build_calendar(
        [2026], extra_holidays=[date(2026, 10, 10)], extra_workdays=["2026-10-07", "2026-11-21"]
    )
    assert not district.is_working_day("2026-10-10")  # the 调休 Saturday is off here
    assert district.is_working_day("2026-10-07")  # a holiday worked here
    assert district.is_working_day("2026-11-21")  # a Saturday worked here


@pytest.mark.parametrize(
    ("holidays", "workdays", "message"),
    [
        (["2026-10-03"], [], "calendar.holidays: 2026-10-03 is already a day off"),
        ([], ["2026-10-08"], "calendar.workdays: 2026-10-08 is already a working day"),
        (["2026-11-16"], ["2026-11-16"], "2026-11-16 is in both"),
        (["2027-01-04"], [], "outside the calendar's years"),
        (["16/11/2026"], [], "calendar.holidays: must be an ISO date"),
    ],
)
def test_district_days_refused(holidays: list[str], workdays: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_calendar([2026], extra_holidays=holidays, extra_workdays=workdays)


def test_years_must_be_consecutive() -> None:
    with pytest.raises(ValueError, match="consecutive"):
        build_calendar([2024, 2026])
    assert build_calendar(range(2025, 2027)).years == (2025, 2026)


async def test_a_slice_round_trips_as_json_and_gives_the_same_deadline(
    cal2026: WorkCalendar,
) -> None:
    start = at("2026-09-30")
    full = add_working_days(start, 3, cal2026)
    pinned = calendar_slice(cal2026, start.date(), full.last_day)
    assert pinned.first_day == "2026-09-30" and pinned.last_day == "2026-10-10"
    assert pinned.workdays == ("2026-10-10",)
    converter = DataConverter.default
    payloads = await converter.encode([pinned])
    document = json.loads(payloads[0].data)
    assert document["holidays"] == [
        "2026-10-01",
        "2026-10-02",
        "2026-10-05",
        "2026-10-06",
        "2026-10-07",
    ]
    [decoded] = await converter.decode(payloads, [WorkCalendar])
    assert decoded == pinned
    assert add_working_days(start, 3, decoded) == full
    # Past the slice, the deadline says it is estimated rather than silently wrong.
    assert add_working_days(start, 4, decoded).estimated
    assert not add_working_days(start, 4, cal2026).estimated


def test_slices_outside_the_calendar() -> None:
    full = build_calendar([2026])
    assert calendar_slice(full, "2027-01-01", "2027-02-01") == WorkCalendar(source=full.source)
    assert calendar_slice(full, "2025-12-01", "2026-01-05").first_day == "2026-01-01"
    with pytest.raises(ValueError, match="after end"):
        calendar_slice(full, "2026-02-01", "2026-01-01")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"holidays": ("2026-10-03",)}, "must be a weekday"),
        ({"workdays": ("2026-10-08",)}, "must be a weekend day"),
        ({"holidays": ("2026-10-02", "2026-10-01")}, "sorted and unique"),
        ({"holidays": ("2026-1-2",)}, "must be an ISO date|YYYY-MM-DD"),
        ({"first_day": "", "last_day": ""}, "inside the covered span"),
    ],
)
def test_a_calendar_checks_its_days(kwargs: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "first_day": "2026-01-01",
        "last_day": "2026-12-31",
        "holidays": ("2026-10-01",),
    }
    values.update(kwargs)
    with pytest.raises(ValueError, match=message):
        WorkCalendar(**values)  # type: ignore[arg-type]


def test_add_working_days_refuses_bad_input(cal2026: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_days(datetime(2026, 9, 30, 10), 3, cal2026)
    with pytest.raises(ValueError, match="at least 1"):
        add_working_days(at("2026-09-30"), 0, cal2026)
    with pytest.raises(ValueError, match="unknown IANA zone"):
        add_working_days(at("2026-09-30"), 3, cal2026, "Asia/Peking")


def test_another_time_zone_counts_its_own_days(cal2026: WorkCalendar) -> None:
    # 00:30 on Tue 3 Nov in China is still Mon 2 Nov, 22:30, in Urumqi time (UTC+6).
    start = at("2026-11-03", "00:30")
    assert add_working_days(start, 1, cal2026, "Asia/Shanghai").last_day == "2026-11-04"
    urumqi = add_working_days(start, 1, cal2026, "Asia/Urumqi")
    assert urumqi.last_day == "2026-11-03"
    assert urumqi.deadline == datetime(2026, 11, 3, 18, 0, tzinfo=UTC)


def test_deadline_specs() -> None:
    assert parse_deadline_spec("3wd", field="resolve") == Span(working_days=3)
    assert parse_deadline_spec(" 10 WD ", field="resolve") == Span(working_days=10)
    assert parse_deadline_spec("1h30m", field="resolve") == Span(seconds=5400)
    assert format_span(Span(working_days=3)) == "3wd"
    assert format_span(Span(seconds=90000)) == "1d1h"
    for text in ("3wd", "30m", "1d1h"):
        assert format_span(parse_deadline_spec(text, field="x")) == text
    # The existing parser is unchanged for durations.
    assert parse_duration("1h30m", field="x") == 5400
    assert format_duration(1800) == "30m"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0wd", "levels.enforcement.resolve: must be longer than zero"),
        ("1wd2h", "levels.enforcement.resolve: working days stand alone"),
        (
            "3 days",
            "levels.enforcement.resolve: must be a duration such as 30m, 2h or 5d, or working days",
        ),
        ("", "levels.enforcement.resolve: must be a duration"),
    ],
)
def test_deadline_spec_errors_name_the_field(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_deadline_spec(text, field="levels.enforcement.resolve")


def test_durations_refuse_working_days_naming_the_field() -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration("2wd", field="rules.return_window")
    assert str(caught.value) == (
        "rules.return_window: working days are accepted where deadlines are; here give a "
        "duration such as 30m, 2h or 5d; got '2wd'"
    )
    with pytest.raises(ValueError, match="must be a duration such as 10s"):
        parse_duration("2w", field="x")
    with pytest.raises(ValueError):
        Span(seconds=60, working_days=1)


@workflow.defn(sandboxed=True)
class CountsWorkingDays:
    """Computes a deadline from a pinned slice, as the case workflow will."""

    @workflow.run
    async def run(self, calendar: WorkCalendar, start: str) -> WorkdayDeadline:
        return add_working_days(datetime.fromisoformat(start), 3, calendar, "Asia/Shanghai")


async def test_the_strict_sandbox_computes_from_the_pinned_slice(
    env: WorkflowEnvironment, cal2026: WorkCalendar
) -> None:
    start = at("2026-09-30")
    pinned = calendar_slice(cal2026, start.date(), "2026-10-31")
    queue = f"workdays-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(1) as executor:
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[CountsWorkingDays],
            workflow_runner=SandboxedWorkflowRunner(),
            activity_executor=executor,
        ):
            got = await env.client.execute_workflow(
                CountsWorkingDays.run, args=[pinned, start.isoformat()], id=queue, task_queue=queue
            )
    assert got == add_working_days(start, 3, cal2026)
    assert got.deadline == datetime(2026, 10, 10, 16, 0, tzinfo=UTC) and not got.estimated
