"""The rules of the station's actions and the branch's request, as pure checks.

The street's station (综合执法进小区工作站) reviews returns (退单审核),
re-dispatches (改派) and supervises (督办); the branch may ask it to convene a
joint meeting. Who may act is the API's to check (api.access); these check
what the case allows. Update validators call them, as for models.rules.
"""

from __future__ import annotations

from models.case import (
    CaseState,
    CaseStatus,
    Redispatch,
    RequestJointMeeting,
    ReviewReturn,
    Supervise,
    UnitRef,
)
from models.levels import WhistleLevel
from models.limits import MAX_DEPARTMENTS
from models.rules import assigned, check_action, check_units
from models.text_rules import LONG_MAX, REASON_MAX, RuleViolation, check_text

HANDLED = (CaseStatus.AWAITING_REPORT_IN, CaseStatus.IN_PROGRESS, CaseStatus.JOINT_MEETING)
"""The statuses in which the station may re-dispatch or a branch ask for a meeting."""


def check_request_joint_meeting(state: CaseState, action: RequestJointMeeting) -> None:
    check_action(state, action)
    check_text(action.reason, field="reason", max_len=REASON_MAX, required=True)
    if state.status == CaseStatus.AWAITING_CONFIRMATION:
        raise RuleViolation("status: the case awaits confirmation; reopen it instead")
    if state.level == WhistleLevel.JOINT and state.status != CaseStatus.JOINT_MEETING:
        raise RuleViolation(
            "status: the joint meeting has agreed a plan; ask the station to supervise it"
        )


def check_review_return(state: CaseState, action: ReviewReturn) -> None:
    check_action(state, action)
    check_text(action.reason, field="reason", max_len=REASON_MAX, required=not action.approve)
    if state.status not in HANDLED:
        raise RuleViolation(
            f"status: returns are reviewed while the case is handled; it is {state.status}"
        )
    item = state.assignment(action.department)
    if item is None or item.return_requested_at is None:
        raise RuleViolation(f"department: {action.department!r} has no return awaiting review")
    if action.dispatch:
        if not action.approve:
            raise RuleViolation("dispatch: names the unit to send instead; only with an approval")
        _new_units(state, action.dispatch, field="dispatch")


def check_redispatch(state: CaseState, action: Redispatch) -> None:
    check_action(state, action)
    check_text(action.reason, field="reason", max_len=REASON_MAX, required=True)
    if state.status not in HANDLED:
        raise RuleViolation(
            f"status: units are re-dispatched while the case is handled; it is {state.status}"
        )
    if not action.add:
        raise RuleViolation("add: name at least one unit to dispatch")
    if action.replace is not None:
        assigned(state, action.replace)
    _new_units(state, action.add, field="add")


def _new_units(state: CaseState, units: list[UnitRef], field: str) -> None:
    check_units(units, state.policy, field=field)
    for unit in units:
        item = state.assignment(unit.code)
        if item is not None and item.active:
            raise RuleViolation(f"{field}: {unit.code!r} is already on the case")
        if item is not None:
            raise RuleViolation(f"{field}: {unit.code!r} has left this case; it is not sent back")
    if len(state.departments) + len(units) > MAX_DEPARTMENTS:
        raise RuleViolation(f"{field}: a case holds at most {MAX_DEPARTMENTS} units")


def check_supervise(state: CaseState, action: Supervise) -> None:
    check_action(state, action)
    check_text(action.note, field="note", max_len=LONG_MAX, multiline=True, required=True)
