"""The case's rules as pure checks (models.rules), on hand-built states: no
Temporal server. Each refusal is a RuleViolation whose message starts with the
field it is about, which the API and the CLI show as they are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models import clock, plan_rules, records, rules, station_rules
from models.case import (
    Action,
    Assignment,
    CaseState,
    CaseStatus,
    Confirm,
    Deadlines,
    DecideExtension,
    Escalate,
    HoldJointMeeting,
    Outcome,
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
from models.evidence import Evidence
from models.levels import WhistleLevel
from models.limits import ACTION_ID_MAX, MAX_DEPARTMENTS, MAX_EXTENSION_SECONDS
from models.policy import Policy
from models.text_rules import REASON_MAX, TITLE_MAX, RuleViolation
from policy.loader import load_policy

POLICY = load_policy()
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)


def raise_request(**changes: Any) -> RaiseWhistle:
    request = RaiseWhistle(
        compound="Anningyuan",
        level=2,
        category="fire_lane",
        title="Car blocking the fire lane",
        policy=POLICY,
    )
    return replace(request, **changes)


def case(
    *,
    level: WhistleLevel = WhistleLevel.EMERGENCY,
    status: CaseStatus = CaseStatus.IN_PROGRESS,
    reported_in: bool = True,
    departments: tuple[str, ...] = ("fire_rescue", "police"),
    policy: Policy = POLICY,
) -> CaseState:
    """A case at ``level``: the first department leads; all reported in or none."""
    return CaseState(
        case_id="case-rules",
        compound="Anningyuan",
        category="fire_lane",
        title="Car blocking the fire lane",
        description="",
        location="",
        raised_by="branch",
        raised_at=T0,
        level=level,
        status=status,
        lead=departments[0] if level != WhistleLevel.JOINT else None,
        departments=[
            Assignment(
                department=name, dispatched_at=T0, reported_in_at=T0 if reported_in else None
            )
            for name in departments
        ],
        deadlines=Deadlines(resolve=T0 + timedelta(days=1)),
        policy=policy,
    )


def joint_in_progress() -> CaseState:
    """At the joint task force, with a plan naming fire_rescue only."""
    state = case(level=WhistleLevel.JOINT)
    state.lead = "fire_rescue"
    state.assignment("fire_rescue").in_plan = True  # type: ignore[union-attr]
    return state


def refused(check: Callable[[], object], field: str) -> str:
    with pytest.raises(RuleViolation) as err:
        check()
    message = str(err.value)
    assert message.startswith(f"{field}: "), message
    return message


# --- raising a whistle -------------------------------------------------------


def test_raise_accepts_a_level_by_rank_or_name_and_routes_the_category() -> None:
    # without an organisation, each department is its own unit (no kind)
    assert rules.check_raise(raise_request(level=2)) == (
        WhistleLevel.EMERGENCY,
        [UnitRef(code="fire_rescue", kind=""), UnitRef(code="police", kind="")],
    )
    assert rules.check_raise(raise_request(level="emergency"))[0] == WhistleLevel.EMERGENCY
    named = rules.check_raise(raise_request(level=4, departments=["housing"]))
    assert named == (WhistleLevel.JOINT, [UnitRef(code="housing", kind="")])
    # routed units are dispatched as they are
    units = [UnitRef(code="fire_station_3", kind="fire_rescue")]
    assert rules.check_raise(raise_request(units=units)) == (WhistleLevel.EMERGENCY, units)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"level": 5}, "level"),
        ({"level": "siren"}, "level"),
        ({"compound": "  "}, "compound"),
        ({"category": ""}, "category"),
        ({"category": "unicorns"}, "category"),
        ({"title": "x" * (TITLE_MAX + 1)}, "title"),
        ({"location": "line\nbreak"}, "location"),
        ({"departments": ["police", "police"]}, "departments"),
        ({"departments": ["ministry_of_magic"]}, "departments"),
        ({"departments": ["police"] * (MAX_DEPARTMENTS + 1)}, "departments"),
        ({"evidence": [Evidence(url="ftp://x", sha256="0" * 64)]}, "evidence[0].url"),
        ({"units": [UnitRef(code="ps_1", kind="army")]}, "units"),
        ({"units": [UnitRef(code="ps_1", kind="police")] * 2}, "units"),
    ],
)
def test_raise_refuses(changes: dict[str, object], field: str) -> None:
    refused(lambda: rules.check_raise(raise_request(**changes)), field)


# --- repeats -------------------------------------------------------------------


def test_a_repeat_is_recognised_and_a_reused_id_refused() -> None:
    state = case()
    action = ReportIn(action_id="a1", department="police")
    assert not records.is_repeat(state, action)
    state.action_digests["a1"] = records.action_digest(action)
    assert records.is_repeat(state, ReportIn(action_id="a1", department="police"))
    refused(
        lambda: records.is_repeat(state, ReportIn(action_id="a1", department="fire_rescue")),
        "action_id",
    )
    refused(lambda: records.is_repeat(state, Withdraw(action_id="a1", reason="x")), "action_id")


def test_the_digest_covers_the_content_not_an_empty_evidence_list() -> None:
    plain = SignOff(action_id="s", department="police", outcome="resolved")
    assert records.action_digest(plain) == records.action_digest(replace(plain, evidence=[]))
    assert records.action_digest(plain) != records.action_digest(replace(plain, note="towed"))
    assert records.action_digest(plain) != records.action_digest(replace(plain, actor="someone"))


# --- every action: open case, ids, record budget --------------------------------

EVERY_ACTION: list[tuple[Callable[[CaseState, Any], None], Action]] = [
    (rules.check_report_in, ReportIn(action_id="x", department="police")),
    (
        lambda state, action: rules.check_sign_off(state, action, NOW),
        SignOff(action_id="x", department="police", outcome="resolved"),
    ),
    (
        plan_rules.check_request_extension,
        RequestExtension(action_id="x", department="police", seconds=3600, reason="parts"),
    ),
    (
        plan_rules.check_decide_extension,
        DecideExtension(action_id="x", department="police", approve=True),
    ),
    (plan_rules.check_joint_meeting, HoldJointMeeting(action_id="x", lead="police")),
    (rules.check_escalate, Escalate(action_id="x", reason="ignored")),
    (rules.check_confirm, Confirm(action_id="x", satisfaction=5)),
    (rules.check_reopen, Reopen(action_id="x", reason="back again")),
    (rules.check_withdraw, Withdraw(action_id="x", reason="duplicate")),
    (
        station_rules.check_review_return,
        ReviewReturn(action_id="x", department="police", approve=True),
    ),
    (
        station_rules.check_redispatch,
        Redispatch(action_id="x", add=[UnitRef(code="ps_2", kind="police")], reason="nearer"),
    ),
    (station_rules.check_supervise, Supervise(action_id="x", note="act today")),
    (
        station_rules.check_request_joint_meeting,
        RequestJointMeeting(action_id="x", reason="overlap"),
    ),
]
"""One action for each of the thirteen checks of an action on a case."""

HELPERS = {"check_action", "check_units", "check_departments"}
"""Checks of models.rules that the others (and check_raise) build on."""


def test_every_action_covers_every_check() -> None:
    checks = {
        f"{module.__name__}.{name}"
        for module in (rules, plan_rules, station_rules)
        for name, value in vars(module).items()
        if name.startswith("check_")
        and name != "check_raise"
        and name not in HELPERS
        and getattr(value, "__module__", "") == module.__name__
    }
    covered = {f"{check.__module__}.{check.__name__}" for check, _ in EVERY_ACTION}
    covered.add("models.rules.check_sign_off")  # wrapped in a lambda for its ``now``
    assert checks == covered - {f"{__name__}.<lambda>"}
    assert len(EVERY_ACTION) == len(checks) == 13
    assert {type(action).__name__ for _, action in EVERY_ACTION} == {
        "ReportIn",
        "SignOff",
        "RequestExtension",
        "DecideExtension",
        "HoldJointMeeting",
        "Escalate",
        "Confirm",
        "Reopen",
        "Withdraw",
        "ReviewReturn",
        "Redispatch",
        "Supervise",
        "RequestJointMeeting",
    }


@pytest.mark.parametrize("status", [CaseStatus.CLOSED, CaseStatus.WITHDRAWN])
@pytest.mark.parametrize(("check", "action"), EVERY_ACTION)
def test_a_closed_case_takes_no_action(
    status: CaseStatus, check: Callable[[CaseState, Any], None], action: Action
) -> None:
    message = refused(lambda: check(case(status=status, reported_in=False), action), "case")
    assert status.value in message


@pytest.mark.parametrize(("check", "action"), EVERY_ACTION)
def test_action_ids_and_actors_are_bounded(
    check: Callable[[CaseState, Any], None], action: Action
) -> None:
    state = case(reported_in=False)
    refused(lambda: check(state, replace(action, action_id="")), "action_id")
    refused(lambda: check(state, replace(action, action_id="a" * (ACTION_ID_MAX + 1))), "action_id")
    refused(lambda: check(state, replace(action, actor="x\ty")), "actor")


def test_a_full_record_takes_only_confirm_or_withdraw() -> None:
    state = case(reported_in=False)
    state.recorded_bytes = records.CASE_RECORD_BUDGET
    refused(
        lambda: rules.check_report_in(state, ReportIn(action_id="r", department="police")), "case"
    )
    rules.check_withdraw(state, Withdraw(action_id="w", reason="duplicate"))
    state.status = CaseStatus.AWAITING_CONFIRMATION
    rules.check_confirm(state, Confirm(action_id="c", satisfaction=5))


# --- department actions ------------------------------------------------------------


def test_report_in() -> None:
    state = case(reported_in=False, status=CaseStatus.AWAITING_REPORT_IN)
    rules.check_report_in(state, ReportIn(action_id="r", department="police"))
    refused(
        lambda: rules.check_report_in(state, ReportIn(action_id="r", department="housing")),
        "department",
    )
    state.assignment("police").reported_in_at = NOW  # type: ignore[union-attr]
    message = refused(
        lambda: rules.check_report_in(state, ReportIn(action_id="r", department="police")),
        "department",
    )
    assert "emergency whistle" in message
    state.assignment("fire_rescue").outcome = Outcome.NOT_OURS  # type: ignore[union-attr]
    refused(
        lambda: rules.check_report_in(state, ReportIn(action_id="r", department="fire_rescue")),
        "department",
    )


def sign(state: CaseState, now: datetime = NOW, **changes: Any) -> None:
    action = replace(
        SignOff(action_id="s", department="fire_rescue", outcome="resolved"), **changes
    )
    rules.check_sign_off(state, action, now)


def test_sign_off() -> None:
    sign(case())
    refused(lambda: sign(case(), outcome="done"), "outcome")
    refused(lambda: sign(case(), note="\x00"), "note")
    refused(lambda: sign(case(reported_in=False)), "department")
    refused(lambda: sign(case(status=CaseStatus.AWAITING_CONFIRMATION)), "status")
    signed = case()
    signed.assignment("fire_rescue").outcome = Outcome.UNRESOLVED  # type: ignore[union-attr]
    refused(lambda: sign(signed), "department")


def test_a_return_needs_a_reason_code_within_the_window() -> None:
    publicity = case(level=WhistleLevel.PUBLICITY, reported_in=False)
    sign(publicity, outcome=Outcome.NOT_OURS, reason="wrong_locality")
    sign(case(), outcome=Outcome.NOT_OURS, reason="wrong_locality")
    refused(lambda: sign(case(), outcome=Outcome.NOT_OURS, reason="because"), "reason")
    window_ends = clock.return_window_ends(POLICY, T0).at
    sign(case(), outcome=Outcome.NOT_OURS, reason="duplicate", now=window_ends)
    late = window_ends + timedelta(seconds=1)
    with pytest.raises(RuleViolation, match=r"^outcome: a return is accepted within 2wd"):
        rules.check_sign_off(
            case(),
            SignOff(action_id="s", department="police", outcome="not-ours", reason="duplicate"),
            late,
        )
    refused(
        lambda: sign(joint_in_progress(), outcome=Outcome.NOT_OURS, reason="duplicate"), "outcome"
    )


def test_at_the_emergency_whistle_a_unit_reports_in_before_asking_to_return() -> None:
    message = refused(
        lambda: sign(case(reported_in=False), outcome=Outcome.NOT_OURS, reason="duplicate"),
        "outcome",
    )
    assert "at the emergency whistle a unit comes on site first" in message
    sign(case(), outcome=Outcome.NOT_OURS, reason="duplicate")  # on site: it may ask


def test_a_case_raised_before_the_review_returns_as_it_did() -> None:
    # its pinned policy has no return review: a not-ours leaves at once, on site or not
    before = replace(
        POLICY,
        rules=replace(POLICY.rules, return_review_seconds=0, return_review_working_days=0),
    )
    assert not clock.reviews_returns(before)
    sign(case(reported_in=False, policy=before), outcome=Outcome.NOT_OURS, reason="duplicate")


def test_a_return_awaiting_review_is_not_asked_twice() -> None:
    state = case()
    state.assignment("fire_rescue").return_requested_at = NOW  # type: ignore[union-attr]
    message = refused(
        lambda: sign(state, outcome=Outcome.NOT_OURS, reason="duplicate"), "department"
    )
    assert "awaiting the station's review" in message
    sign(state)  # acting lets the request lapse: a sign-off is still accepted


def check_review(state: CaseState, **changes: Any) -> None:
    action = replace(ReviewReturn(action_id="v", department="fire_rescue", approve=True), **changes)
    station_rules.check_review_return(state, action)


def test_review_return() -> None:
    refused(lambda: check_review(case()), "department")  # nothing to review
    state = case()
    state.assignment("fire_rescue").return_requested_at = NOW  # type: ignore[union-attr]
    check_review(state)
    check_review(state, approve=False, reason="your area")
    refused(lambda: check_review(state, approve=False), "reason")  # a refusal says why
    refused(lambda: check_review(state, department="housing"), "department")
    instead = [UnitRef(code="ps_2", kind="police")]
    check_review(state, dispatch=instead)
    refused(lambda: check_review(state, approve=False, reason="no", dispatch=instead), "dispatch")
    on_case = [UnitRef(code="police", kind="police")]
    message = refused(lambda: check_review(state, dispatch=on_case), "dispatch")
    assert "already on the case" in message
    refused(lambda: check_review(state, dispatch=[UnitRef(code="x", kind="army")]), "dispatch")


def test_at_the_joint_task_force_sign_offs_follow_the_plan() -> None:
    sign(joint_in_progress())
    refused(lambda: sign(joint_in_progress(), department="police"), "department")
    meeting_due = case(level=WhistleLevel.JOINT, status=CaseStatus.JOINT_MEETING)
    refused(lambda: sign(meeting_due), "status")


def ask(state: CaseState, seconds: int = 3600, department: str = "fire_rescue") -> None:
    action = RequestExtension(action_id="e", department=department, seconds=seconds, reason="tow")
    plan_rules.check_request_extension(state, action)


def test_request_extension() -> None:
    ask(case())
    refused(lambda: ask(case(), seconds=0), "by")
    refused(lambda: ask(case(), seconds=MAX_EXTENSION_SECONDS + 1), "by")
    cap = POLICY.level(WhistleLevel.EMERGENCY).extension_cap_seconds
    ask(case(), seconds=cap)
    message = refused(lambda: ask(case(), seconds=cap + 1), "by")
    assert "cap" in message
    refused(lambda: ask(case(reported_in=False)), "department")
    refused(lambda: ask(case(status=CaseStatus.AWAITING_CONFIRMATION)), "status")
    pending = case()
    pending.assignment("fire_rescue").pending_extension_seconds = 60  # type: ignore[union-attr]
    refused(lambda: ask(pending), "department")
    others_pending = case()
    others_pending.assignment("police").pending_extension_seconds = cap  # type: ignore[union-attr]
    refused(lambda: ask(others_pending, seconds=1), "by")
    refused(lambda: ask(joint_in_progress(), department="police"), "department")


# --- branch actions --------------------------------------------------------------------


def test_decide_extension() -> None:
    state = case()
    approve = DecideExtension(action_id="d", department="fire_rescue", approve=True)
    refused(lambda: plan_rules.check_decide_extension(state, approve), "department")
    state.assignment("fire_rescue").pending_extension_seconds = 3600  # type: ignore[union-attr]
    plan_rules.check_decide_extension(state, approve)
    refuse = replace(approve, approve=False)
    refused(lambda: plan_rules.check_decide_extension(state, refuse), "reason")
    plan_rules.check_decide_extension(state, replace(refuse, reason="not needed"))
    state.extension_granted_seconds = POLICY.level(WhistleLevel.EMERGENCY).extension_cap_seconds
    refused(lambda: plan_rules.check_decide_extension(state, approve), "approve")


def meet(state: CaseState, **changes: Any) -> None:
    action = replace(HoldJointMeeting(action_id="m", lead="police"), **changes)
    plan_rules.check_joint_meeting(state, action)


def test_joint_meeting() -> None:
    due = case(level=WhistleLevel.JOINT, status=CaseStatus.JOINT_MEETING)
    meet(due)
    meet(due, attendees=["police", "housing"], tasks={"housing": "inspect"})
    # a unit new to the case joins it by the meeting, with its kind
    meet(due, join=[UnitRef(code="ps_7", kind="police")], lead="ps_7", tasks={"ps_7": "patrol"})
    message = refused(lambda: meet(due, attendees=["police", "ps_7"]), "attendees")
    assert "bring a unit new to the case in with join" in message
    refused(lambda: meet(due, join=[UnitRef(code="ps_7", kind="army")]), "join")
    refused(lambda: meet(case()), "level")
    refused(lambda: meet(joint_in_progress()), "status")
    refused(lambda: meet(due, lead="housing"), "lead")
    refused(lambda: meet(due, attendees=["police", "police"]), "attendees")
    refused(lambda: meet(due, tasks={"housing": "inspect"}), "tasks")
    refused(lambda: meet(due, tasks={"police": "x" * (REASON_MAX + 1)}), "tasks.police")
    whole_plan = {
        "police": "x" * REASON_MAX,
        **{name: "y" * REASON_MAX for name in POLICY.departments},
    }
    refused(lambda: meet(due, attendees=list(POLICY.departments), tasks=whole_plan), "tasks")
    refused(lambda: meet(due, deadline_seconds=0), "deadline")


def test_escalate() -> None:
    rules.check_escalate(case(), Escalate(action_id="x", reason="ignored"))
    refused(lambda: rules.check_escalate(case(), Escalate(action_id="x", reason=" ")), "reason")
    refused(
        lambda: rules.check_escalate(joint_in_progress(), Escalate(action_id="x", reason="r")),
        "level",
    )
    awaiting = case(status=CaseStatus.AWAITING_CONFIRMATION)
    refused(lambda: rules.check_escalate(awaiting, Escalate(action_id="x", reason="r")), "status")


@pytest.mark.parametrize("satisfaction", [0, 6, -1, True])
def test_confirm_scores_one_to_five(satisfaction: int) -> None:
    awaiting = case(status=CaseStatus.AWAITING_CONFIRMATION)
    confirm = Confirm(action_id="c", satisfaction=satisfaction)
    refused(lambda: rules.check_confirm(awaiting, confirm), "satisfaction")


def test_confirm_and_reopen_only_a_resolved_case() -> None:
    awaiting = case(status=CaseStatus.AWAITING_CONFIRMATION)
    rules.check_confirm(awaiting, Confirm(action_id="c", satisfaction=1))
    rules.check_reopen(awaiting, Reopen(action_id="r", reason="still blocked"))
    refused(lambda: rules.check_reopen(awaiting, Reopen(action_id="r", reason="")), "reason")
    refused(lambda: rules.check_confirm(case(), Confirm(action_id="c", satisfaction=5)), "status")
    refused(lambda: rules.check_reopen(case(), Reopen(action_id="r", reason="x")), "status")


def test_withdraw_needs_a_reason() -> None:
    rules.check_withdraw(case(), Withdraw(action_id="w", reason="duplicate"))
    refused(lambda: rules.check_withdraw(case(), Withdraw(action_id="w", reason="")), "reason")


# --- the levels --------------------------------------------------------------------------


def test_levels_go_up_one_at_a_time_and_stop_at_the_joint_task_force() -> None:
    assert [level.rank for level in WhistleLevel] == [1, 2, 3, 4]
    assert [level.next_up() for level in WhistleLevel] == [
        WhistleLevel.EMERGENCY,
        WhistleLevel.ENFORCEMENT,
        WhistleLevel.JOINT,
        WhistleLevel.JOINT,
    ]
    for level in WhistleLevel:
        assert WhistleLevel.parse(level.rank) is level
        assert WhistleLevel.parse(f" {level.value.upper()} ") is level
    # the names the state, the events, the database and the policy file hold
    assert list(POLICY.levels) == [level.label for level in WhistleLevel]
    assert [level.label for level in WhistleLevel] == [
        "publicity",
        "emergency",
        "enforcement",
        "joint",
    ]
