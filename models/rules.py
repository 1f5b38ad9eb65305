"""The rules of a case, as pure checks.

Update validators call these, so a broken rule rejects the action before
anything is written to the history. Clients call ``check_raise`` before they
start a case, because a workflow start cannot be validated by the workflow.
"""

from __future__ import annotations

from datetime import datetime

from models import clock
from models.case import (
    Action,
    CaseState,
    CaseStatus,
    Confirm,
    Escalate,
    Outcome,
    RaiseWhistle,
    Reopen,
    ReportIn,
    SignOff,
    UnitRef,
    Withdraw,
)
from models.evidence import check_evidence
from models.levels import WhistleLevel
from models.limits import (
    ACTION_ID_MAX,
    MAX_DEPARTMENTS,
    SATISFACTION_MAX,
    SATISFACTION_MIN,
    check_code,
)
from models.policy import Policy
from models.records import CASE_RECORD_BUDGET
from models.text_rules import (
    LONG_MAX,
    REASON_MAX,
    SHORT_MAX,
    TITLE_MAX,
    RuleViolation,
    check_text,
)


def check_raise(request: RaiseWhistle) -> tuple[WhistleLevel, list[UnitRef]]:
    """The whistle's level and what it dispatches, or RuleViolation.

    Routed units (``request.units``) are dispatched as they are; without them,
    the named or routed departments, each its own kind (``UnitRef.kind`` empty).

    The workflow runs this in its init, on every replay too: tightening a rule
    here would fail the replay of open cases raised under the old rule, so such
    a change must go behind ``workflow.patched``.
    """
    try:
        level = WhistleLevel.parse(request.level)
    except ValueError as err:
        raise RuleViolation(str(err)) from None
    check_text(request.compound, field="compound", max_len=SHORT_MAX, required=True)
    category = check_text(request.category, field="category", max_len=SHORT_MAX, required=True)
    check_text(request.title, field="title", max_len=TITLE_MAX, required=True)
    check_text(request.description, field="description", max_len=LONG_MAX, multiline=True)
    check_text(request.location, field="location", max_len=SHORT_MAX)
    check_text(request.raised_by, field="raised_by", max_len=SHORT_MAX)
    check_evidence(request.evidence)
    if request.units:
        check_units(request.units, request.policy, field="units")
        return level, list(request.units)
    departments = list(request.departments)
    if departments:
        check_departments(departments, request.policy, field="departments")
    else:
        routed = request.policy.routing.get(category)
        if not routed:
            known = ", ".join(sorted(request.policy.routing))
            raise RuleViolation(
                f"category: {category!r} has no routing in policy "
                f"{request.policy.version}; name the departments or use one of: {known}"
            )
        departments = list(routed)
    return level, [UnitRef(code=name, kind="") for name in departments]


def check_units(units: list[UnitRef], policy: Policy, *, field: str) -> None:
    """Units to dispatch: distinct codes, each of a department kind of the policy."""
    if len(units) > MAX_DEPARTMENTS:
        raise RuleViolation(f"{field}: at most {MAX_DEPARTMENTS} units")
    codes = [unit.code for unit in units]
    if len(set(codes)) != len(codes):
        raise RuleViolation(f"{field}: a unit is named twice")
    for unit in units:
        check_code(unit.code, field=field)
        if unit.kind not in policy.departments:
            known = ", ".join(sorted(policy.departments))
            raise RuleViolation(
                f"{field}: unit {unit.code!r} is of unknown department kind {unit.kind!r}; "
                f"known: {known}"
            )


def check_departments(departments: list[str], policy: Policy, *, field: str) -> None:
    if len(departments) > MAX_DEPARTMENTS:
        raise RuleViolation(f"{field}: at most {MAX_DEPARTMENTS} departments")
    if len(set(departments)) != len(departments):
        raise RuleViolation(f"{field}: a department is named twice")
    for name in departments:
        if name not in policy.departments:
            known = ", ".join(sorted(policy.departments))
            raise RuleViolation(f"{field}: unknown department {name!r}; known: {known}")


def check_action(state: CaseState, action: Action) -> None:
    check_text(action.action_id, field="action_id", max_len=ACTION_ID_MAX, required=True)
    check_text(action.actor, field="actor", max_len=SHORT_MAX)
    if not state.status.is_open:
        raise RuleViolation(f"case: {state.case_id} is {state.status}; no more actions")
    if state.recorded_bytes >= CASE_RECORD_BUDGET and not isinstance(action, Confirm | Withdraw):
        raise RuleViolation(
            f"case: its record is full ({state.recorded_bytes // 1024} KiB of events); "
            "it can only be confirmed or withdrawn; raise a new whistle for what remains"
        )


def assigned(state: CaseState, department: str) -> None:
    item = state.assignment(department)
    if item is None:
        raise RuleViolation(f"department: {department!r} is not assigned to case {state.case_id}")
    if item.removed:
        raise RuleViolation(
            f"department: {department!r} was replaced on case {state.case_id} by the station"
        )
    if not item.active:
        raise RuleViolation(
            f"department: {department!r} returned case {state.case_id} and has left it"
        )


def check_report_in(state: CaseState, action: ReportIn) -> None:
    check_action(state, action)
    assigned(state, action.department)
    if state.status == CaseStatus.AWAITING_CONFIRMATION:
        raise RuleViolation("status: the case awaits the branch's confirmation")
    item = state.assignment(action.department)
    assert item is not None
    if item.reported_in_at is not None:
        raise RuleViolation(
            f"department: {action.department!r} has already reported in "
            f"at the {state.level} whistle"
        )


def check_sign_off(state: CaseState, action: SignOff, now: datetime) -> None:
    check_action(state, action)
    assigned(state, action.department)
    outcomes = [o.value for o in Outcome]
    if action.outcome not in outcomes:
        raise RuleViolation(
            f"outcome: must be one of {', '.join(outcomes)}; got {action.outcome!r}"
        )
    check_text(action.note, field="note", max_len=LONG_MAX, multiline=True)
    check_evidence(action.evidence)
    item = state.assignment(action.department)
    assert item is not None
    if state.status == CaseStatus.AWAITING_CONFIRMATION:
        raise RuleViolation("status: the case awaits the branch's confirmation")
    if item.outcome is not None:
        raise RuleViolation(
            f"department: {action.department!r} has already signed off "
            f"({item.outcome}) at the {state.level} whistle"
        )
    if action.outcome == Outcome.NOT_OURS.value:
        _check_return(state, action, now)
        return
    check_text(action.reason, field="reason", max_len=REASON_MAX)
    if item.reported_in_at is None:
        raise RuleViolation(f"department: {action.department!r} must report in before signing off")
    if state.level == WhistleLevel.JOINT:
        if state.status == CaseStatus.JOINT_MEETING:
            raise RuleViolation(
                "status: the joint meeting has not agreed a plan yet; sign-offs follow the plan"
            )
        if not item.in_plan:
            raise RuleViolation(
                f"department: {action.department!r} is not in the joint meeting's plan"
            )


def _check_return(state: CaseState, action: SignOff, now: datetime) -> None:
    policy = state.policy
    if state.level == WhistleLevel.JOINT:
        raise RuleViolation(
            "outcome: not-ours is not accepted at the joint task force; "
            "the joint meeting's plan binds its departments"
        )
    if action.reason not in policy.return_reasons:
        codes = ", ".join(sorted(policy.return_reasons))
        raise RuleViolation(
            f"reason: a not-ours sign-off needs a reason code, one of: {codes}; "
            f"got {action.reason!r}"
        )
    item = state.assignment(action.department)
    assert item is not None
    rules = policy.rules
    if now > clock.return_window_ends(policy, item.dispatched_at).at:
        window = clock.describe(rules.return_window_seconds, rules.return_window_working_days)
        raise RuleViolation(
            f"outcome: a return is accepted within {window} of dispatch; "
            f"{action.department!r} was dispatched at {item.dispatched_at.isoformat()}"
        )
    if clock.reviews_returns(policy):
        if item.return_requested_at is not None:
            raise RuleViolation(
                f"department: {action.department!r} has a return awaiting the station's review"
            )
        if state.level == WhistleLevel.EMERGENCY and item.reported_in_at is None:
            raise RuleViolation(
                "outcome: at the emergency whistle a unit comes on site first: report in, "
                "then ask to return the case; you stay while the station reviews it"
            )


def check_escalate(state: CaseState, action: Escalate) -> None:
    check_action(state, action)
    check_text(action.reason, field="reason", max_len=REASON_MAX, required=True)
    if state.level == WhistleLevel.JOINT:
        raise RuleViolation("level: the case is at the joint task force, the highest whistle")
    if state.status == CaseStatus.AWAITING_CONFIRMATION:
        raise RuleViolation("status: the case awaits confirmation; reopen it instead of escalating")


def check_confirm(state: CaseState, action: Confirm) -> None:
    check_action(state, action)
    if isinstance(action.satisfaction, bool) or not (
        SATISFACTION_MIN <= action.satisfaction <= SATISFACTION_MAX
    ):
        raise RuleViolation(
            f"satisfaction: must be a whole number from {SATISFACTION_MIN} to "
            f"{SATISFACTION_MAX}; got {action.satisfaction!r}"
        )
    check_text(action.note, field="note", max_len=LONG_MAX, multiline=True)
    _awaiting_confirmation(state)


def check_reopen(state: CaseState, action: Reopen) -> None:
    check_action(state, action)
    check_text(action.reason, field="reason", max_len=REASON_MAX, required=True)
    _awaiting_confirmation(state)


def check_withdraw(state: CaseState, action: Withdraw) -> None:
    check_action(state, action)
    check_text(action.reason, field="reason", max_len=REASON_MAX, required=True)


def _awaiting_confirmation(state: CaseState) -> None:
    if state.status != CaseStatus.AWAITING_CONFIRMATION:
        raise RuleViolation(
            f"status: the case is {state.status}; only a resolved case awaiting "
            "confirmation can be confirmed or reopened"
        )
