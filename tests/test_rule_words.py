"""The rules' messages in Chinese (web.rule_words), on the real messages: each is
produced by calling the rule that gives it, on hand-built states (no Temporal
server), and must come out in Chinese with its codes and numbers kept, as a
whole ("field: rule", as a refusal of the case shows it) and without its field
(as the form shows it next to the field)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import HTTPException

from api.access import acting_department, require_kind, require_reader_of_all, require_station_for
from api.schemas import _level as level_choice
from audit.ranking import assessment_rules, check_kind, red_black
from casework.routing import org_compound, route_units, unit_refs
from models import clock, plan_rules, records, rules, station_rules
from models.case import (
    Assignment,
    CaseState,
    CaseStatus,
    Confirm,
    Deadlines,
    DecideExtension,
    Escalate,
    HoldJointMeeting,
    RaiseWhistle,
    Redispatch,
    Reopen,
    ReportIn,
    RequestExtension,
    RequestJointMeeting,
    ReviewReturn,
    SignOff,
    Supervise,
    UnitRef,
    Withdraw,
)
from models.durations import parse_deadline_spec, parse_duration
from models.evidence import Evidence, check_evidence, parse_evidence_option
from models.levels import WhistleLevel
from models.limits import MAX_DEPARTMENTS, PLAN_TASKS_MAX, UPLOAD_FILE_MAX_BYTES, UPLOAD_FILES_MAX
from models.periods import parse_period, quarter_bounds
from models.principals import Principal, PrincipalKind
from models.text_rules import REASON_MAX, check_text
from org.loader import example_path, load_org
from policy.loader import load_policy
from store.board import street_scope
from store.evidence import check_upload
from store.keyset import decode_cursor
from store.sign_in import check_password_rule
from web.rule_words import FIELDS, PATTERNS, VALUES, rule_in
from web.uploads import keep_photos

POLICY = load_policy()
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
SHA = "a" * 64
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def case(
    *,
    level: WhistleLevel = WhistleLevel.EMERGENCY,
    status: CaseStatus = CaseStatus.IN_PROGRESS,
    reported_in: bool = True,
) -> CaseState:
    """A case at ``level`` with fire_rescue (leading) and police on it."""
    return CaseState(
        case_id="case-words",
        compound="Anningyuan",
        category="fire_lane",
        title="Car blocking the fire lane",
        description="",
        location="",
        raised_by="branch",
        raised_at=T0,
        level=level,
        status=status,
        lead="fire_rescue" if level != WhistleLevel.JOINT else None,
        departments=[
            Assignment(
                department=name, dispatched_at=T0, reported_in_at=T0 if reported_in else None
            )
            for name in ("fire_rescue", "police")
        ],
        deadlines=Deadlines(resolve=T0 + timedelta(days=1)),
        policy=POLICY,
    )


def with_unit(state: CaseState, **changes: object) -> CaseState:
    """``state`` with fire_rescue's assignment changed."""
    item = state.assignment("fire_rescue")
    assert item is not None
    for name, value in changes.items():
        setattr(item, name, value)
    return state


def joint(status: CaseStatus = CaseStatus.IN_PROGRESS) -> CaseState:
    return with_unit(case(level=WhistleLevel.JOINT, status=status), in_plan=True)


def sign(state: CaseState, now: datetime = NOW, **changes: Any) -> None:
    action = SignOff(action_id="s", department="fire_rescue", outcome="resolved")
    rules.check_sign_off(state, replace(action, **changes), now)


def ask(state: CaseState, **changes: Any) -> None:
    action = RequestExtension(action_id="e", department="fire_rescue", seconds=3600, reason="tow")
    plan_rules.check_request_extension(state, replace(action, **changes))


def decide(state: CaseState, **changes: Any) -> None:
    action = DecideExtension(action_id="d", department="fire_rescue", approve=True)
    plan_rules.check_decide_extension(state, replace(action, **changes))


def meet(state: CaseState, **changes: Any) -> None:
    action = HoldJointMeeting(action_id="m", lead="police")
    plan_rules.check_joint_meeting(state, replace(action, **changes))


def review(state: CaseState, **changes: Any) -> None:
    action = ReviewReturn(action_id="v", department="fire_rescue", approve=True)
    station_rules.check_review_return(state, replace(action, **changes))


def redispatch(state: CaseState, *units: str) -> None:
    add = [UnitRef(code=code, kind="police") for code in units]
    station_rules.check_redispatch(state, Redispatch(action_id="x", add=add, reason="r"))


def raise_with(**changes: Any) -> None:
    request = RaiseWhistle(
        compound="Anningyuan", level=2, category="fire_lane", title="Car", policy=POLICY
    )
    rules.check_raise(replace(request, **changes))


def report_in(state: CaseState, department: str = "fire_rescue") -> None:
    rules.check_report_in(state, ReportIn(action_id="r", department=department))


def evidence(*items: Evidence) -> None:
    check_evidence(list(items))


def reused_action_id() -> None:
    state = case()
    state.action_digests["a1"] = records.action_digest(ReportIn(action_id="a1", department="x"))
    records.is_repeat(state, Withdraw(action_id="a1", reason="x"))


def full_record() -> CaseState:
    state = case()
    state.recorded_bytes = records.CASE_RECORD_BUDGET
    return state


BRANCH = Principal(name="anningyuan", kind=PrincipalKind.BRANCH, compounds=frozenset({"A"}))
STATION = Principal(name="anning", kind=PrincipalKind.STATION, street="other")
ORG = load_org(example_path(), POLICY)
UNIT = Principal(name="fire-3", kind=PrincipalKind.DEPARTMENT, department="fire_rescue")
WINDOW = clock.return_window_ends(POLICY, T0).at + timedelta(seconds=1)
CAP = POLICY.level(WhistleLevel.EMERGENCY).extension_cap_seconds

# (what produces a real message, values its Chinese wording keeps)
REAL: list[tuple[str, Callable[[], object], tuple[str, ...]]] = [
    # the case as a whole
    ("closed", lambda: report_in(case(status=CaseStatus.CLOSED)), ("case-words",)),
    ("full", lambda: report_in(full_record()), ()),
    # report in
    ("not on case", lambda: report_in(case(), "housing"), ("housing", "case-words")),
    ("replaced", lambda: report_in(with_unit(case(), removed=True)), ("fire_rescue",)),
    ("returned", lambda: report_in(with_unit(case(), outcome="not-ours")), ("fire_rescue",)),
    ("reported", lambda: report_in(case()), ("fire_rescue", "应急哨")),
    ("awaits branch", lambda: report_in(case(status=CaseStatus.AWAITING_CONFIRMATION)), ()),
    # sign off
    ("outcome", lambda: sign(case(), outcome="done"), ("done", "resolved")),
    ("note", lambda: sign(case(), note="x" * 5000), ("4000", "5000")),
    ("control", lambda: sign(case(), note="\x00"), ()),
    ("not reported", lambda: sign(case(reported_in=False)), ("fire_rescue",)),
    ("signed", lambda: sign(with_unit(case(), outcome="unresolved")), ("fire_rescue", "未解决")),
    ("reason code", lambda: sign(case(), outcome="not-ours", reason="because"), ("because",)),
    ("window", lambda: sign(case(), WINDOW, outcome="not-ours", reason="duplicate"), ("2",)),
    ("joint return", lambda: sign(joint(), outcome="not-ours", reason="duplicate"), ()),
    ("on site", lambda: sign(case(reported_in=False), outcome="not-ours", reason="duplicate"), ()),
    (
        "review pending",
        lambda: sign(
            with_unit(case(), return_requested_at=NOW), outcome="not-ours", reason="duplicate"
        ),
        ("fire_rescue",),
    ),
    ("no plan", lambda: sign(joint(CaseStatus.JOINT_MEETING)), ()),
    ("not in plan", lambda: sign(with_unit(joint(), in_plan=False)), ("fire_rescue",)),
    # extensions
    ("ask status", lambda: ask(case(status=CaseStatus.AWAITING_CONFIRMATION)), ()),
    ("ask before report", lambda: ask(case(reported_in=False)), ("fire_rescue",)),
    ("ask signed", lambda: ask(with_unit(case(), outcome="resolved")), ("fire_rescue",)),
    ("ask pending", lambda: ask(with_unit(case(), pending_extension_seconds=60)), ("fire_rescue",)),
    ("ask cap", lambda: ask(case(), seconds=CAP + 3600), ("应急哨",)),
    ("ask zero", lambda: ask(case(), seconds=0), ("366",)),
    ("ask days", lambda: ask(case(), working_days=300), ("250",)),
    ("ask reason", lambda: ask(case(), reason=""), ()),
    ("decide none", lambda: decide(case()), ("fire_rescue",)),
    (
        "refusal",
        lambda: decide(with_unit(case(), pending_extension_seconds=60), approve=False),
        (),
    ),
    (
        "decide status",
        lambda: decide(
            with_unit(case(status=CaseStatus.AWAITING_CONFIRMATION), pending_extension_seconds=60)
        ),
        ("待确认",),
    ),
    (
        "approve over cap",
        lambda: decide(with_unit(case(), pending_extension_seconds=CAP + 60)),
        ("应急哨",),
    ),
    # joint meeting
    ("meet level", lambda: meet(case()), ("应急哨",)),
    ("meet status", lambda: meet(joint()), ("处置中",)),
    ("lead", lambda: meet(joint(CaseStatus.JOINT_MEETING), lead="housing"), ("housing",)),
    ("twice", lambda: meet(joint(CaseStatus.JOINT_MEETING), attendees=["police", "police"]), ()),
    (
        "neither",
        lambda: meet(joint(CaseStatus.JOINT_MEETING), attendees=["police", "ps_7"]),
        ("ps_7",),
    ),
    (
        "replaced attendee",
        lambda: meet(
            with_unit(joint(CaseStatus.JOINT_MEETING), removed=True),
            attendees=["fire_rescue", "police"],
        ),
        ("fire_rescue",),
    ),
    (
        "task",
        lambda: meet(joint(CaseStatus.JOINT_MEETING), tasks={"housing": "inspect"}),
        ("housing",),
    ),
    (
        "plan",
        lambda: meet(
            joint(CaseStatus.JOINT_MEETING),
            attendees=list(POLICY.departments),
            tasks={name: "y" * REASON_MAX for name in POLICY.departments},
        ),
        (str(PLAN_TASKS_MAX), str(REASON_MAX * len(POLICY.departments))),
    ),
    ("deadline", lambda: meet(joint(CaseStatus.JOINT_MEETING), deadline_seconds=0), ()),
    (
        "unit kind",
        lambda: meet(joint(CaseStatus.JOINT_MEETING), join=[UnitRef(code="ps_7", kind="army")]),
        ("ps_7", "army"),
    ),
    # the branch
    ("highest", lambda: rules.check_escalate(joint(), Escalate(action_id="x", reason="r")), ()),
    (
        "escalate awaiting",
        lambda: rules.check_escalate(
            case(status=CaseStatus.AWAITING_CONFIRMATION), Escalate(action_id="x", reason="r")
        ),
        (),
    ),
    (
        "satisfaction",
        lambda: rules.check_confirm(
            case(status=CaseStatus.AWAITING_CONFIRMATION), Confirm(action_id="c", satisfaction=9)
        ),
        ("1", "5", "9"),
    ),
    (
        "confirm status",
        lambda: rules.check_confirm(case(), Confirm(action_id="c", satisfaction=5)),
        ("处置中",),
    ),
    (
        "redo reason",
        lambda: rules.check_reopen(
            case(status=CaseStatus.AWAITING_CONFIRMATION), Reopen(action_id="r", reason=" ")
        ),
        (),
    ),
    ("withdraw", lambda: rules.check_withdraw(case(), Withdraw(action_id="w", reason="")), ()),
    (
        "meeting awaiting",
        lambda: station_rules.check_request_joint_meeting(
            case(status=CaseStatus.AWAITING_CONFIRMATION),
            RequestJointMeeting(action_id="j", reason="r"),
        ),
        (),
    ),
    (
        "plan agreed",
        lambda: station_rules.check_request_joint_meeting(
            joint(), RequestJointMeeting(action_id="j", reason="r")
        ),
        (),
    ),
    # the station
    ("no return", lambda: review(case()), ("fire_rescue",)),
    ("review status", lambda: review(case(status=CaseStatus.AWAITING_CONFIRMATION)), ("待确认",)),
    (
        "dispatch refusal",
        lambda: review(
            with_unit(case(), return_requested_at=NOW),
            approve=False,
            reason="no",
            dispatch=[UnitRef(code="ps_2", kind="police")],
        ),
        (),
    ),
    ("on the case", lambda: redispatch(case(), "police"), ("police",)),
    ("sent back", lambda: redispatch(with_unit(case(), removed=True), "fire_rescue"), ()),
    ("add none", lambda: redispatch(case()), ()),
    (
        "too many",
        lambda: redispatch(case(), *(f"ps_{n}" for n in range(MAX_DEPARTMENTS))),
        (str(MAX_DEPARTMENTS),),
    ),
    (
        "redispatch status",
        lambda: redispatch(case(status=CaseStatus.AWAITING_CONFIRMATION), "ps_2"),
        (),
    ),
    (
        "supervise",
        lambda: station_rules.check_supervise(case(), Supervise(action_id="s", note="")),
        (),
    ),
    # raising a whistle
    ("level", lambda: raise_with(level="purple"), ("purple",)),
    ("title", lambda: raise_with(title=""), ()),
    ("category", lambda: raise_with(category="moon_dust"), ("moon_dust", "parking")),
    ("unknown", lambda: raise_with(departments=["army"]), ("army",)),
    ("named twice", lambda: raise_with(departments=["police", "police"]), ()),
    ("description", lambda: raise_with(description="x" * 4001), ("4000", "4001")),
    ("code", lambda: raise_with(units=[UnitRef(code="Fire!", kind="police")]), ("Fire!",)),
    ("evidence count", lambda: evidence(*[Evidence(url="https://a/b", sha256=SHA)] * 11), ("11",)),
    ("sha", lambda: evidence(Evidence(url="https://a/b", sha256="abc")), ()),
    ("http", lambda: evidence(Evidence(url="http://a/b", sha256=SHA)), ()),
    ("spaces", lambda: evidence(Evidence(url="https://a/b c", sha256=SHA)), ()),
    ("credentials", lambda: evidence(Evidence(url="https://u:p@a/b", sha256=SHA)), ()),
    ("store", lambda: evidence(Evidence(url=f"/evidence/{'b' * 64}", sha256=SHA)), ()),
    ("same file", lambda: evidence(*[Evidence(url="https://a/b", sha256=SHA)] * 2), ()),
    ("hash form", lambda: parse_evidence_option("https://a/b"), ("https://a/b",)),
    # spans, text, uploads, passwords
    ("span", lambda: parse_deadline_spec("banana", field="by"), ("banana",)),
    ("mixed", lambda: parse_deadline_spec("1d3wd", field="by"), ("1d3wd",)),
    ("zero", lambda: parse_deadline_spec("0wd", field="deadline"), ("0wd",)),
    ("no wd", lambda: parse_duration("3wd", field="expires_in"), ("3wd",)),
    ("duration", lambda: parse_duration("soon", field="expires_in"), ("soon",)),
    ("empty", lambda: check_text(" ", field="title", max_len=9, required=True), ()),
    ("long", lambda: check_text("x" * 12, field="reason", max_len=10), ("10", "12")),
    ("password", lambda: check_password_rule("short"), ("10", "128", "5")),
    ("empty file", lambda: check_upload(b"", field="photos"), ()),
    ("file kind", lambda: check_upload(b"xx", field="photos"), ("JPEG", "PDF")),
    ("big file", lambda: check_upload(b"x" * (UPLOAD_FILE_MAX_BYTES + 1), field="photos"), ("10",)),
    # who may act
    ("kind", lambda: require_kind(UNIT, PrincipalKind.BRANCH, "reopen a case"), ("fire-3",)),
    ("department", lambda: acting_department(UNIT, "police"), ("fire_rescue",)),
    (
        "station",
        lambda: require_station_for(BRANCH, "A", None, "supervise a case"),
        ("anningyuan",),
    ),
    ("no org", lambda: require_station_for(STATION, "A", None, "supervise a case"), ("A",)),
    (
        "street",
        lambda: require_station_for(STATION, "anningyuan", ORG, "review a return"),
        ("other", "anningyuan"),
    ),
    ("compound", lambda: org_compound(ORG, "nowhere"), ("nowhere", ORG.version)),
    (
        "no unit covers",
        lambda: route_units(ORG, POLICY, "anningyuan", "noise", ["army"]),
        ("army", "安宁苑", "anningyuan"),
    ),
    ("street scope", lambda: street_scope(ORG, "x", field="street"), ("x", ORG.version)),
    ("no org scope", lambda: street_scope(None, "x", field="street"), ()),
    ("action id", reused_action_id, ("a1",)),
    ("unit", lambda: unit_refs(ORG, ["ps_999"], field="departments"), ("ps_999", ORG.version)),
    ("reader", lambda: require_reader_of_all(BRANCH, "read the assessment"), ("anningyuan",)),
    # what a page's own query or form can still bring back from the API's checks
    (
        "files",
        lambda: asyncio.run(
            keep_photos(
                None,  # type: ignore[arg-type]  # refused before the store is touched
                None,  # type: ignore[arg-type]
                [None] * (UPLOAD_FILES_MAX + 1),  # type: ignore[list-item]
                case_id="c",
                actor="a",
            )
        ),
        (str(UPLOAD_FILES_MAX), str(UPLOAD_FILES_MAX + 1)),
    ),
    ("quarter year", lambda: quarter_bounds("0999Q1", UTC), ("1970", "9998", "999")),
    ("quarter or period", lambda: parse_period("2026-10-01", None, "2026Q4", zone=UTC), ()),
    ("cursor", lambda: decode_cursor("not-a-cursor"), ()),
    ("whistle choice", lambda: level_choice("loud"), ("publicity",)),
    ("kind", lambda: check_kind("army", POLICY), ("army", "police")),
    (
        "kind and each kind",
        lambda: red_black({}, assessment_rules(POLICY), kind="police", each_kind=True),
        (),
    ),
]


def message_of(produce: Callable[[], object]) -> tuple[str, str]:
    """The message ``produce`` is refused with, and how: by a "rule" or "access"."""
    with pytest.raises((ValueError, HTTPException)) as err:
        produce()
    if isinstance(err.value, HTTPException):
        assert err.value.status_code == 403
        return str(err.value.detail), "access"
    return str(err.value), "rule"


def without_field(message: str) -> str:
    """The message as the form shows it next to its field (web.forms._field_of)."""
    head, sep, rest = message.partition(":")
    return rest.strip() if sep and " " not in head.strip() else message


@pytest.mark.parametrize(
    ("produce", "kept"), [(p, k) for _, p, k in REAL], ids=[n for n, *_ in REAL]
)
def test_a_real_message_is_worded_in_chinese_keeping_its_values(
    produce: Callable[[], object], kept: tuple[str, ...]
) -> None:
    message, refused = message_of(produce)
    shown_as = (message, without_field(message)) if refused == "rule" else (message,)
    for shown in shown_as:
        worded = rule_in(shown, "zh-CN")
        assert CHINESE.search(worded), (shown, worded)
        assert not re.search(r"\\\d|\\g<|\{field\}", worded), worded
        for value in kept:
            assert value in worded, (value, message, worded)


def test_values_named_in_the_message_are_worded_too() -> None:
    assert rule_in("title: must not be empty", "zh-CN") == "标题不能为空"
    assert rule_in("must not be empty", "zh-CN") == "不能为空"
    assert rule_in("evidence[1].url: must not carry credentials", "zh-CN").startswith(
        "佐证材料第 2 项的链接"
    )
    worded = rule_in("case: was never opened: title: must not be empty", "zh-CN")
    assert worded == "本案未能立案：标题不能为空"
    cap = "by: the total extension at the joint whistle would be 3d2h, over the policy's cap of 3wd"
    assert rule_in(cap, "zh-CN") == "攻坚哨累计延期将达 3 天 2 小时，超过政策上限 3 个工作日"


def test_other_languages_and_unknown_messages_pass_unchanged() -> None:
    message, _ = message_of(lambda: report_in(case()))
    assert rule_in(message, "en") == message
    assert rule_in(message, "") == message
    for unknown in ("", "something new went wrong", "quarterly: the moon is not in force"):
        assert rule_in(unknown, "zh-CN") == unknown


def test_every_pattern_compiles_and_names_only_its_own_groups() -> None:
    assert len(PATTERNS) >= 60
    for pattern, words in PATTERNS:
        assert isinstance(pattern, re.Pattern)
        assert CHINESE.search(words), pattern.pattern
        for number in re.findall(r"\\(\d+)", words):
            assert 1 <= int(number) <= pattern.groups, (pattern.pattern, words)
        for name in re.findall(r"\\g<(\w+)>", words):
            assert name in pattern.groupindex, (pattern.pattern, words)
        assert not re.search(r"\{(?!field\})", words), words
    assert "withdrawn" in VALUES and "title" in FIELDS


@pytest.mark.parametrize(
    ("recorded", "worded"),
    [
        (
            "the branch requested a joint meeting: 多部门职责交叉",
            "支部申请召开联席会议：多部门职责交叉",
        ),
        ("returned 2 times: responsibilities overlap", "已退单 2 次：职责交叉"),
        ("report-in deadline missed by police_a", "police_a 超时未报到"),
        ("resolve deadline missed", "超时未办结"),
        ("joint plan overdue", "联席会议方案超期"),
    ],
)
def test_reasons_the_workflow_records_read_in_chinese_on_the_timeline(
    recorded: str, worded: str
) -> None:
    assert rule_in(recorded, "zh-CN") == worded
    assert rule_in(recorded, "en") == recorded


def test_every_refusal_a_page_words_has_its_chinese() -> None:
    """What a page says it was refused ("only a station may <doing>") is worded."""
    pages = Path(__file__).parent.parent / "web"
    doings = set()
    for path in pages.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        doings |= set(re.findall(r'require(?:_reader|_kind)?\([^"]*"([^"]+)"\)', text))
    assert {"read the station's page", "audit a case"} <= doings
    assert sorted(d for d in doings if d not in VALUES) == []
