"""The policy's rules of issue 11: working-day deadlines, what a miss does, redos,
the district's calendar and the assessment; and the working time a case pins."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from temporalio.converter import DataConverter

from models.errors import PolicyError
from models.policy import AssessmentRules, OnMiss, Policy
from models.workdays import add_working_days
from policy import calendar as policy_calendar
from policy.calendar import pin_working_time, supported_years
from policy.files import content_version
from policy.loader import parse_policy, policy_document, policy_from_document, policy_version

CST = timezone(timedelta(hours=8))
DISTRICT = """
[levels.emergency]
report_in = "15m"
resolve = "12h"
on_miss = "supervise"
supervise_every = "15m"

[levels.enforcement]
report_in = "1wd"
resolve = "7wd"
extension_cap = "5d"

[rules]
return_window = "3wd"
confirmation = "2d"
return_review = "4h"
redo_below = 0
redo_cap = 10

[calendar]
closes_at = "17:30"
holidays = ["2026-11-16", 2026-11-17, "2027-03-02"]
workdays = ["2026-11-21"]

[assessment]
min_dispatches = 12
list_size = 5
"""


def district() -> Policy:
    return parse_policy(DISTRICT, source="district.toml")


def test_every_new_key_parses() -> None:
    policy = district()
    emergency, enforcement = policy.levels["emergency"], policy.levels["enforcement"]
    assert (emergency.report_in_seconds, emergency.resolve_seconds) == (900, 12 * 3600)
    assert (emergency.report_in_working_days, emergency.resolve_working_days) == (0, 0)
    assert (emergency.on_miss, emergency.supervise_every_seconds) == (OnMiss.SUPERVISE, 900)
    assert (enforcement.report_in_seconds, enforcement.report_in_working_days) == (0, 1)
    assert (enforcement.resolve_seconds, enforcement.resolve_working_days) == (0, 7)
    assert enforcement.extension_cap_seconds == 5 * 86400
    assert enforcement.supervise_every_seconds == 2 * 3600  # from the default file
    rules = policy.rules
    assert (rules.return_window_seconds, rules.return_window_working_days) == (0, 3)
    assert (rules.confirmation_seconds, rules.confirmation_working_days) == (2 * 86400, 0)
    assert (rules.return_review_seconds, rules.return_review_working_days) == (4 * 3600, 0)
    assert (rules.redo_below, rules.redo_cap) == (0, 10)
    assert policy.closes_at == "17:30"
    # TOML dates and ISO texts alike; a year chinese-calendar does not know yet is kept
    assert policy.extra_holidays == ("2026-11-16", "2026-11-17", "2027-03-02")
    assert policy.extra_workdays == ("2026-11-21",)
    assert policy.assessment == AssessmentRules(min_dispatches=12, list_size=5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[levels.emergency]\nreport_in = "2wd1h"\n',
            "levels.emergency.report_in: working days stand alone",
        ),
        (
            '[levels.emergency]\nresolve = "0wd"\n',
            "levels.emergency.resolve: must be longer than zero",
        ),
        (
            "[levels.emergency]\nresolve = 3\n",
            "levels.emergency.resolve: must be a duration string",
        ),
        # a working day is at least a day: 6d may outlast 5wd, 1wd surely outlasts 12h
        (
            '[levels.enforcement]\nreport_in = "6d"\n',
            "levels.enforcement.report_in: must not be longer",
        ),
        (
            '[levels.enforcement]\nreport_in = "6wd"\n',
            "levels.enforcement.report_in: must not be longer",
        ),
        (
            '[levels.emergency]\nreport_in = "1wd"\nresolve = "12h"\n',
            "levels.emergency.report_in: must not be longer than levels.emergency.resolve",
        ),
        (
            '[levels.emergency]\non_miss = "ignore"\n',
            "levels.emergency.on_miss: must be one of escalate, supervise",
        ),
        ("[levels.emergency]\non_miss = 1\n", "levels.emergency.on_miss: must be one of"),
        (
            '[levels.joint]\non_miss = "escalate"\n',
            "levels.joint.on_miss: the joint task force has no whistle above",
        ),
        (
            '[levels.emergency]\nsupervise_every = "1wd"\n',
            "levels.emergency.supervise_every: supervision .* is a clock interval",
        ),
        (
            '[levels.emergency]\nsupervise_every = "0m"\n',
            "levels.emergency.supervise_every: must be longer than zero",
        ),
        (
            '[levels.enforcement]\nextension_cap = "10wd"\n',
            "levels.enforcement.extension_cap: extensions are counted in clock time",
        ),
        ('[rules]\nconfirmation = "3 days"\n', "rules.confirmation: must be a duration"),
        ('[rules]\nreturn_review = "0s"\n', "rules.return_review: must be longer than zero"),
        (
            "[rules]\nredo_below = 6\n",
            "rules.redo_below: must be a whole number from 0 to 5; got 6",
        ),
        ("[rules]\nredo_below = -1\n", "rules.redo_below: must be a whole number from 0 to 5"),
        ("[rules]\nredo_below = 2.5\n", "rules.redo_below: must be a whole number"),
        ("[rules]\nredo_cap = 11\n", "rules.redo_cap: must be a whole number from 0 to 10; got 11"),
        ("[rules]\nredo_cap = true\n", "rules.redo_cap: must be a whole number"),
        ('[calendar]\nclosing = "17:00"\n', "calendar.closing: unknown key"),
        (
            '[calendar]\ncloses_at = "00:00"\n',
            "calendar.closes_at: must be a local time from 00:01 to 24:00",
        ),
        ('[calendar]\ncloses_at = "7:30"\n', "calendar.closes_at: must be a local time"),
        ("[calendar]\ncloses_at = 1730\n", "calendar.closes_at: must be a local time"),
        ('[calendar]\nholidays = "2026-11-16"\n', "calendar.holidays: must be a list of ISO dates"),
        ('[calendar]\nholidays = ["16/11/2026"]\n', "calendar.holidays: must be an ISO date"),
        (
            "[calendar]\nworkdays = [2026-11-21T08:00:00]\n",
            "calendar.workdays: give a date, not a datetime",
        ),
        (
            '[calendar]\nholidays = ["2026-10-02"]\n',
            "calendar.holidays: 2026-10-02 is already a day off",
        ),
        (
            '[calendar]\nholidays = ["2026-11-21"]\n',
            "calendar.holidays: 2026-11-21 is already a day off",
        ),
        (
            '[calendar]\nworkdays = ["2026-11-16"]\n',
            "calendar.workdays: 2026-11-16 is already a working day",
        ),
        (
            '[calendar]\nworkdays = ["2026-10-10"]\n',
            "calendar.workdays: 2026-10-10 is already a working day",
        ),
        (
            '[calendar]\nholidays = ["2027-03-02"]\nworkdays = ["2027-03-02"]\n',
            "calendar.holidays and calendar.workdays: 2027-03-02 is in both",
        ),
        (
            '[calendar]\nholidays = ["2026-11-16", "2026-11-16"]\n',
            "calendar.holidays: names a day twice",
        ),
        (
            "[assessment]\nmin_dispatches = 0\n",
            "assessment.min_dispatches: must be a whole number from 1 to",
        ),
        (
            "[assessment]\nlist_size = 21\n",
            "assessment.list_size: must be a whole number from 1 to 20",
        ),
        ("[assessment]\nquarterly = true\n", "assessment.quarterly: unknown key"),
        ("assessment = 3\n", "assessment: must be a table"),
    ],
)
def test_bad_values_are_refused_naming_the_key(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(text, source="district.toml")


@pytest.mark.parametrize(
    ("report_in", "resolve"), [("2h", "5wd"), ("5d", "5wd"), ("5wd", "5wd"), ("1wd", "1d")]
)
def test_report_in_within_resolve_across_units(report_in: str, resolve: str) -> None:
    text = f'[levels.enforcement]\nreport_in = "{report_in}"\nresolve = "{resolve}"\n'
    parse_policy(text, source="district.toml")


def test_the_document_round_trips_every_field() -> None:
    policy = pin_working_time(district(), timezone="Asia/Shanghai", today=date(2026, 11, 2))
    assert policy.working_time is not None
    document = json.loads(json.dumps(policy_document(policy)))
    assert document["closes_at"] == "17:30"
    assert document["levels"]["enforcement"]["resolve_working_days"] == 7
    assert policy_from_document(document) == policy
    document["rules"]["redo_cap"] = 3
    with pytest.raises(PolicyError, match="does not match its version"):
        policy_from_document(document)


def test_a_policy_stored_before_the_new_fields_keeps_its_version() -> None:
    current = policy_document(parse_policy("", source="default"))
    legacy: dict[str, object] = {
        "levels": {
            name: {
                "report_in_seconds": 1800,
                "resolve_seconds": 86400,
                "remind_at": 0.5,
                "extension_cap_seconds": 86400,
            }
            for name in current["levels"]
        },
        "rules": {
            "return_window_seconds": 172800,
            "returns_to_joint": 2,
            "confirmation_seconds": 259200,
        },
        "departments": current["departments"],
        "routing": current["routing"],
        "return_reasons": current["return_reasons"],
    }
    # the version as it was computed before issue 11: the hash of exactly these keys
    legacy["version"] = content_version("p", legacy, ascii_only=True)
    policy = policy_from_document(legacy)
    assert policy.version == legacy["version"]
    assert policy.levels["joint"].on_miss == OnMiss.ESCALATE and policy.rules.redo_below == 0
    assert policy.assessment is None and policy.working_time is None
    assert not policy.uses_working_days


def test_a_district_policy_is_stored_and_read_back(tmp_path: Path) -> None:
    from store.engine import make_engine
    from store.policies import activate_policy, policy_in_force

    engine = make_engine(f"sqlite:///{tmp_path / 'policy.db'}")
    try:
        activate_policy(engine, district(), source="district.toml")
        assert policy_in_force(engine) == district()
    finally:
        engine.dispose()


def test_pinning_leaves_the_version_alone() -> None:
    policy = district()
    pinned = pin_working_time(policy, timezone="Asia/Shanghai", today=date(2026, 11, 2))
    assert pinned.working_time is not None
    assert pinned.working_time.timezone == "Asia/Shanghai"
    assert pinned.working_time.closes_at == "17:30"
    assert policy_version(pinned) == pinned.version == policy.version
    assert replace(pinned, working_time=None) == policy


def test_a_policy_without_working_days_pins_nothing() -> None:
    clock = parse_policy(
        "\n".join(
            f'[levels.{name}]\nreport_in = "1h"\nresolve = "2d"\n'
            for name in ("publicity", "enforcement", "joint")
        )
        + '[rules]\nreturn_window = "2d"\nconfirmation = "3d"\nreturn_review = "1d"\n',
        source="clock.toml",
    )
    assert not clock.uses_working_days
    assert pin_working_time(clock, timezone="Asia/Shanghai", today=date(2026, 11, 2)) is clock


def test_a_district_holiday_shows_in_the_pinned_slice() -> None:
    pinned = pin_working_time(district(), timezone="Asia/Shanghai", today=date(2026, 11, 2))
    assert pinned.working_time is not None
    calendar = pinned.working_time.calendar
    assert (calendar.first_day, calendar.last_day) == ("2026-11-01", "2026-12-31")
    assert "2026-11-16" in calendar.holidays and "2026-11-17" in calendar.holidays
    assert "2026-11-21" in calendar.workdays
    assert "2026-10-01" not in calendar.holidays  # before the slice
    assert "district: 2 day(s) off, 1 day(s) worked" in calendar.source  # 2027-03-02 dropped
    # Fri 13 Nov + 3 working days: Mon 16 and Tue 17 are off locally, Sat 21 is worked
    found = add_working_days(
        datetime(2026, 11, 13, 9, tzinfo=CST), 3, calendar, "Asia/Shanghai", closes_at="17:30"
    )
    assert (found.last_day, found.estimated) == ("2026-11-20", False)
    assert found.deadline == datetime(2026, 11, 20, 17, 30, tzinfo=CST)


def test_a_pin_across_the_year_boundary() -> None:
    _, high = supported_years()
    pinned = pin_working_time(district(), timezone="Asia/Shanghai", today=date(2026, 12, 30))
    assert pinned.working_time is not None
    calendar = pinned.working_time.calendar
    assert calendar.first_day == "2026-12-29"
    assert calendar.last_day == ("2028-12-30" if high >= 2028 else f"{high}-12-31")
    found = add_working_days(datetime(2026, 12, 30, 9, tzinfo=CST), 3, calendar, "Asia/Shanghai")
    assert found.estimated == (high < 2027)
    if high < 2027:
        assert "from 2027-01-01 weekends alone" in found.note


def test_a_pin_beyond_every_known_year_is_weekends_alone() -> None:
    _, high = supported_years()
    today = date(high + 2, 3, 2)
    pinned = pin_working_time(district(), timezone="Asia/Shanghai", today=today)
    assert pinned.working_time is not None
    calendar = pinned.working_time.calendar
    assert calendar.first_day == "" and calendar.holidays == ()
    found = add_working_days(datetime(high + 2, 3, 2, 9, tzinfo=CST), 1, calendar)
    assert found.estimated


def test_a_day_a_newer_calendar_already_makes_does_not_fail_the_raise() -> None:
    # the policy was checked against an older chinese-calendar that did not know 1 October
    policy = replace(district(), extra_holidays=("2026-10-01", "2026-11-16"))
    pinned = pin_working_time(policy, timezone="Asia/Shanghai", today=date(2026, 9, 1))
    assert pinned.working_time is not None
    assert "2026-11-16" in pinned.working_time.calendar.holidays
    assert "district: 1 day(s) off" in pinned.working_time.calendar.source


def test_pinning_is_cached_and_checks_the_zone() -> None:
    policy = district()
    pin_working_time(policy, timezone="Asia/Shanghai", today=date(2026, 5, 6))
    hits = policy_calendar._cached_calendar.cache_info().hits
    pin_working_time(policy, timezone="Asia/Shanghai", today=date(2026, 5, 7))
    assert policy_calendar._cached_calendar.cache_info().hits >= hits + 2
    with pytest.raises(ValueError, match="time zone: unknown IANA zone"):
        pin_working_time(policy, timezone="Mars/Olympus", today=date(2026, 5, 6))


async def test_the_pinned_policy_survives_the_case_input() -> None:
    pinned = pin_working_time(district(), timezone="Asia/Shanghai", today=date(2026, 11, 2))
    converter = DataConverter.default
    payloads = await converter.encode([pinned])
    assert json.loads(payloads[0].data)["working_time"]["calendar"]["first_day"] == "2026-11-01"
    [decoded] = await converter.decode(payloads, [Policy])
    assert decoded == pinned
