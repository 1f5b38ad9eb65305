"""Working days (工作日): China's official holidays and 调休 make-up working days.

Pure and deterministic, no I/O beyond ``zoneinfo``'s reading of the time-zone
database: safe inside the Temporal workflow sandbox. The calendar itself is
built outside the workflow (``policy.calendar.build_calendar``, from the
``chinese-calendar`` package plus a district's own days) and pinned in the case
(``calendar_slice``), so a replay years later computes the same deadlines.

How a deadline of ``n`` working days is counted (``add_working_days``), as
Chinese law counts periods and as 12345 work-order rules apply it
("自受理之日起N个工作日内"):

- the start day is not counted, whatever the hour and whether or not it is a
  working day; counting begins the next day (民法典 第二百零一条: "开始的当日不计入，
  自下一日开始计算");
- only working days count: Monday to Friday that are not official holidays,
  plus the make-up working days (调休) that are worked though on a weekend
  (行政许可法 第八十二条: "以工作日计算，不含法定节假日");
- the period ends at 24:00 local time of the n-th working day, or at the close
  of business when a district sets one (民法典 第二百零三条: "期间的最后一日的截止时间为
  二十四时；有业务时间的，停止业务活动的时间为截止时间").

Beyond the days the calendar covers (a year the State Council has not announced
yet, or past the slice pinned in a case), weekends alone are off and the result
says it is ``estimated``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.errors import RuleViolation

DEFAULT_TIMEZONE = "Asia/Shanghai"
"""The district's time zone unless ``WHISTLE_TIMEZONE`` names another."""
END_OF_DAY = "24:00"
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def as_date(value: date | str, what: str) -> date:
    """``value`` as a date (an ISO ``YYYY-MM-DD`` text or a date, never a datetime).

    RuleViolation naming ``what`` otherwise.
    """
    if isinstance(value, datetime):
        raise RuleViolation(f"{what}: give a date, not a datetime; got {value!r}")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise RuleViolation(
            f"{what}: must be an ISO date such as 2026-10-08; got {value!r}"
        ) from None


def _iso_days(values: tuple[str, ...], what: str) -> None:
    days = [as_date(v, what) for v in values]
    if any(d.isoformat() != v for d, v in zip(days, values, strict=True)):
        raise ValueError(f"{what}: dates must be written YYYY-MM-DD")
    if list(values) != sorted(set(values)):
        raise ValueError(f"{what}: dates must be sorted and unique")


@dataclass(frozen=True)
class WorkCalendar:
    """The days off and on that differ from the plain week, over a covered span.

    ``holidays``: weekdays that are off (法定节假日 falling Monday to Friday, and a
    district's own days off). ``workdays``: weekend days that are worked (调休
    补班). Both are sorted ISO dates, so the calendar travels as JSON in a
    case's input. ``first_day``..``last_day`` (inclusive, ISO) is the span they
    are known for; both empty when the calendar covers no day at all.
    ``source`` says where the days came from, for people and audits.
    """

    first_day: str = ""
    last_day: str = ""
    holidays: tuple[str, ...] = ()
    workdays: tuple[str, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        # Decoded from JSON the tuples may arrive as lists: keep the dataclass hashable.
        object.__setattr__(self, "holidays", tuple(self.holidays))
        object.__setattr__(self, "workdays", tuple(self.workdays))
        if bool(self.first_day) != bool(self.last_day):
            raise ValueError(
                "WorkCalendar: first_day and last_day are given together or not at all"
            )
        if self.first_day:
            first = as_date(self.first_day, "WorkCalendar.first_day")
            last = as_date(self.last_day, "WorkCalendar.last_day")
            if first > last:
                raise ValueError(
                    f"WorkCalendar: first_day {self.first_day} is after last_day {self.last_day}"
                )
        _iso_days(self.holidays, "WorkCalendar.holidays")
        _iso_days(self.workdays, "WorkCalendar.workdays")
        for value in self.holidays:
            if not self.covers(value) or as_date(value, "").weekday() >= 5:
                raise ValueError(
                    f"WorkCalendar.holidays: {value} must be a weekday inside the covered span"
                )
        for value in self.workdays:
            if not self.covers(value) or as_date(value, "").weekday() < 5:
                raise ValueError(
                    f"WorkCalendar.workdays: {value} must be a weekend day inside the covered span"
                )

    @property
    def years(self) -> tuple[int, ...]:
        """The years the covered span reaches into, wholly or in part."""
        if not self.first_day:
            return ()
        return tuple(range(int(self.first_day[:4]), int(self.last_day[:4]) + 1))

    def covers(self, day: date | str) -> bool:
        """Whether the holidays and make-up days of ``day`` are known."""
        iso = as_date(day, "day").isoformat()
        return bool(self.first_day) and self.first_day <= iso <= self.last_day

    def is_working_day(self, day: date | str) -> bool:
        """Monday to Friday except a holiday, or a make-up weekend day.

        Outside the covered span only weekends are off (see ``covers``).
        """
        value = as_date(day, "day")
        iso = value.isoformat()
        if _holds(self.holidays, iso):
            return False
        if _holds(self.workdays, iso):
            return True
        return value.weekday() < 5


def _holds(days: tuple[str, ...], iso: str) -> bool:
    at = bisect.bisect_left(days, iso)
    return at < len(days) and days[at] == iso


@dataclass(frozen=True)
class WorkdayDeadline:
    """When ``n`` working days after a start run out."""

    deadline: datetime
    """Timezone-aware, in UTC."""
    last_day: str
    """The n-th working day, an ISO local date."""
    estimated: bool
    """A day counted lay outside the calendar: weekends alone were off from then."""
    note: str = ""
    """For the event when estimated: from which day and why."""


def zone(name: str, *, field: str = "time zone") -> ZoneInfo:
    """The named IANA zone; RuleViolation naming ``field`` when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuleViolation(
            f"{field}: unknown IANA zone {name!r}, e.g. {DEFAULT_TIMEZONE}"
        ) from None


def add_working_days(
    start: datetime,
    n: int,
    calendar: WorkCalendar,
    tz: str = DEFAULT_TIMEZONE,
    *,
    closes_at: str = END_OF_DAY,
) -> WorkdayDeadline:
    """The end of the ``n``-th working day after ``start``'s local day.

    ``start`` must be timezone-aware; its day in ``tz`` is not counted.
    ``closes_at`` is the local "HH:MM" at which the last day ends: "24:00"
    (the law's default) or a district's close of business such as "17:30".
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError(f"start: must be timezone-aware; got {start!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"working days: must be a whole number of at least 1; got {n!r}")
    local_zone = zone(tz)
    closing = _closing_time(closes_at)
    day = start.astimezone(local_zone).date()
    counted = 0
    first_uncovered: date | None = None
    while counted < n:
        day += timedelta(days=1)
        if first_uncovered is None and not calendar.covers(day):
            first_uncovered = day
        if calendar.is_working_day(day):
            counted += 1
    if closing is None:
        local_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=local_zone)
    else:
        local_end = datetime.combine(day, closing, tzinfo=local_zone)
    note = ""
    if first_uncovered is not None:
        span = f"{calendar.first_day} to {calendar.last_day}" if calendar.first_day else "no day"
        note = (
            f"estimated: from {first_uncovered.isoformat()} weekends alone were taken as days "
            f"off; the working-day calendar covers {span}"
        )
    return WorkdayDeadline(
        deadline=local_end.astimezone(UTC),
        last_day=day.isoformat(),
        estimated=first_uncovered is not None,
        note=note,
    )


def _closing_time(text: str) -> time | None:
    """None for 24:00 (the next day's midnight), else the local time the day closes."""
    if text == END_OF_DAY:
        return None
    found = _CLOCK.match(text)
    if not found or text == "00:00":
        raise ValueError(
            f"closes_at: must be a local time from 00:01 to 24:00 as HH:MM; got {text!r}"
        )
    return time(int(found.group(1)), int(found.group(2)))


def calendar_slice(calendar: WorkCalendar, start: date | str, end: date | str) -> WorkCalendar:
    """Only the days from ``start`` to ``end`` (inclusive): what a case pins.

    The slice covers the part of ``start``..``end`` the calendar covers; a
    deadline computed past its end is ``estimated``, so pin up to the latest
    day a case's deadlines can reach.
    """
    first = as_date(start, "start").isoformat()
    last = as_date(end, "end").isoformat()
    if first > last:
        raise ValueError(f"calendar_slice: start {first} is after end {last}")
    if not calendar.first_day:
        return WorkCalendar(source=calendar.source)
    first = max(first, calendar.first_day)
    last = min(last, calendar.last_day)
    if first > last:
        return WorkCalendar(source=calendar.source)
    return WorkCalendar(
        first_day=first,
        last_day=last,
        holidays=tuple(d for d in calendar.holidays if first <= d <= last),
        workdays=tuple(d for d in calendar.workdays if first <= d <= last),
        source=calendar.source,
    )
