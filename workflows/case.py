"""One durable case: from the whistle, up the levels, to its closing.

This is the Temporal shell: the run loop, the query, the updates with their
validators (models.rules), and the publisher. What actions do is in
workflows.transitions, what deadlines do in workflows.deadlines, the moves they
share in workflows.lifecycle, the event chain and outbox in workflows.ledger.
Time comes from ``workflow.now()``; the SQL projection and the notification
outbox are written by one activity, fed in order by the publisher
(workflows.publisher) so that a database outage never holds up a deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.deadlines import fall_due, next_due
from workflows.ledger import Ledger
from workflows.publisher import Publisher
from workflows.search import SearchAttributes
from workflows.transitions import Transitions

with workflow.unsafe.imports_passed_through():
    # The payload converter resolves a dataclass's annotations through
    # sys.modules, which in the sandbox holds only the modules imported here:
    # import every module whose types an input, update or result carries
    # (models.policy: RaiseWhistle.policy's LevelRules and CaseRules).
    import models.policy  # noqa: F401
    from models import plan_rules, records, rules, station_rules
    from models.case import (
        BRANCH,
        Action,
        ActionResult,
        Assignment,
        CaseState,
        CaseStatus,
        Confirm,
        Deadlines,
        DecideExtension,
        Escalate,
        EventKind,
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
    from models.evidence import evidence_detail
    from models.levels import WhistleLevel
    from models.text_rules import RuleViolation

RULE_VIOLATION = "RuleViolation"


def _rejected(err: RuleViolation) -> ApplicationError:
    return ApplicationError(str(err), type=RULE_VIOLATION, non_retryable=True)


@workflow.defn(name="WhistleCase")
class WhistleCase:
    @workflow.init
    def __init__(self, request: RaiseWhistle) -> None:
        now = workflow.now()
        level = WhistleLevel.PUBLICITY
        units = [UnitRef(code=name, kind="") for name in request.departments]
        self._invalid: str | None = None
        try:
            level, units = rules.check_raise(request)
        except RuleViolation as err:
            self._invalid = str(err)
        self._state = CaseState(
            case_id=workflow.info().workflow_id,
            compound=request.compound.strip(),
            category=request.category.strip(),
            title=request.title.strip(),
            description=request.description.strip(),
            location=request.location.strip(),
            raised_by=request.raised_by.strip() or BRANCH,
            raised_at=now,
            level=level,
            status=CaseStatus.AWAITING_REPORT_IN,
            lead=None,
            departments=[
                Assignment(department=u.code, kind=u.kind, dispatched_at=now) for u in units
            ],
            deadlines=Deadlines(),
            policy=request.policy,
        )
        self._ledger = Ledger(self._state)
        self._case = Transitions(self._state, self._ledger)
        self._changes = 0
        self._publisher = Publisher(self._state, self._ledger)
        self._search = SearchAttributes(self._state)
        if self._invalid is None:
            # Dispatch here, not in run(): updates delivered with the start are
            # handled before run() begins, and must find the case dispatched.
            state = self._state
            self._ledger.record(
                EventKind.RAISED,
                actor=state.raised_by,
                detail={
                    "compound": state.compound,
                    "category": state.category,
                    "title": state.title,
                    "policy_version": state.policy.version,
                    **evidence_detail(request.evidence),
                },
            )
            self._case.enter_level(level, actor=state.raised_by)

    # --- run ---------------------------------------------------------------

    @workflow.run
    async def run(self, request: RaiseWhistle) -> CaseState:
        if self._invalid:
            raise ApplicationError(self._invalid, type=RULE_VIOLATION, non_retryable=True)
        state = self._state
        publisher = asyncio.create_task(self._publisher.run())
        self._search.sync()

        while state.status.is_open:
            due = next_due(state)
            if due is None:
                await self._changed_since(self._changes)
                continue
            wait = (due.at - workflow.now()).total_seconds()
            if wait > 0 and await self._changed_since(self._changes, timeout=wait):
                continue  # an action changed the case: deadlines may have moved
            fall_due(self._case, due.what)
            self._search.sync()

        await workflow.wait_condition(workflow.all_handlers_finished)
        self._publisher.finished = True  # only now: a handler still running may record events
        await publisher
        return state

    async def _changed_since(self, seen: int, timeout: float | None = None) -> bool:
        """Wait for an action to change the case; False when ``timeout`` ran out."""
        try:
            await workflow.wait_condition(lambda: self._changes != seen, timeout=timeout)
        except TimeoutError:
            return False
        return True

    # --- queries -----------------------------------------------------------

    @workflow.query
    def state(self) -> CaseState:
        return self._state

    # --- department actions ------------------------------------------------

    @workflow.update
    def report_in(self, action: ReportIn) -> ActionResult:
        return self._act(action, lambda: self._case.report_in(action))

    @report_in.validator
    def _validate_report_in(self, action: ReportIn) -> None:
        self._validate(action, lambda: rules.check_report_in(self._state, action))

    @workflow.update
    def sign_off(self, action: SignOff) -> ActionResult:
        return self._act(action, lambda: self._case.sign_off(action))

    @sign_off.validator
    def _validate_sign_off(self, action: SignOff) -> None:
        self._validate(action, lambda: rules.check_sign_off(self._state, action, workflow.now()))

    @workflow.update
    def request_extension(self, action: RequestExtension) -> ActionResult:
        return self._act(action, lambda: self._case.request_extension(action))

    @request_extension.validator
    def _validate_request_extension(self, action: RequestExtension) -> None:
        self._validate(action, lambda: plan_rules.check_request_extension(self._state, action))

    # --- branch actions ----------------------------------------------------

    @workflow.update
    def decide_extension(self, action: DecideExtension) -> ActionResult:
        return self._act(action, lambda: self._case.decide_extension(action))

    @decide_extension.validator
    def _validate_decide_extension(self, action: DecideExtension) -> None:
        self._validate(action, lambda: plan_rules.check_decide_extension(self._state, action))

    @workflow.update
    def hold_joint_meeting(self, action: HoldJointMeeting) -> ActionResult:
        return self._act(action, lambda: self._case.hold_joint_meeting(action))

    @hold_joint_meeting.validator
    def _validate_hold_joint_meeting(self, action: HoldJointMeeting) -> None:
        self._validate(action, lambda: plan_rules.check_joint_meeting(self._state, action))

    @workflow.update
    def escalate(self, action: Escalate) -> ActionResult:
        return self._act(action, lambda: self._case.escalate_by_hand(action))

    @escalate.validator
    def _validate_escalate(self, action: Escalate) -> None:
        self._validate(action, lambda: rules.check_escalate(self._state, action))

    @workflow.update
    def confirm(self, action: Confirm) -> ActionResult:
        return self._act(action, lambda: self._case.confirm(action))

    @confirm.validator
    def _validate_confirm(self, action: Confirm) -> None:
        self._validate(action, lambda: rules.check_confirm(self._state, action))

    @workflow.update
    def reopen(self, action: Reopen) -> ActionResult:
        return self._act(action, lambda: self._case.reopen(action))

    @reopen.validator
    def _validate_reopen(self, action: Reopen) -> None:
        self._validate(action, lambda: rules.check_reopen(self._state, action))

    @workflow.update
    def withdraw(self, action: Withdraw) -> ActionResult:
        return self._act(action, lambda: self._case.withdraw(action))

    @withdraw.validator
    def _validate_withdraw(self, action: Withdraw) -> None:
        self._validate(action, lambda: rules.check_withdraw(self._state, action))

    # --- station actions (and the branch's request to it) -------------------

    @workflow.update
    def review_return(self, action: ReviewReturn) -> ActionResult:
        return self._act(action, lambda: self._case.review_return(action))

    @review_return.validator
    def _validate_review_return(self, action: ReviewReturn) -> None:
        self._validate(action, lambda: station_rules.check_review_return(self._state, action))

    @workflow.update
    def redispatch(self, action: Redispatch) -> ActionResult:
        return self._act(action, lambda: self._case.redispatch(action))

    @redispatch.validator
    def _validate_redispatch(self, action: Redispatch) -> None:
        self._validate(action, lambda: station_rules.check_redispatch(self._state, action))

    @workflow.update
    def supervise(self, action: Supervise) -> ActionResult:
        return self._act(action, lambda: self._case.supervise(action))

    @supervise.validator
    def _validate_supervise(self, action: Supervise) -> None:
        self._validate(action, lambda: station_rules.check_supervise(self._state, action))

    @workflow.update
    def request_joint_meeting(self, action: RequestJointMeeting) -> ActionResult:
        return self._act(action, lambda: self._case.request_joint_meeting(action))

    @request_joint_meeting.validator
    def _validate_request_joint_meeting(self, action: RequestJointMeeting) -> None:
        check = station_rules.check_request_joint_meeting
        self._validate(action, lambda: check(self._state, action))

    # --- action plumbing ---------------------------------------------------

    def _validate(self, action: Action, check: Callable[[], None]) -> None:
        if self._invalid:
            raise _rejected(RuleViolation(f"case: was never opened: {self._invalid}"))
        try:
            if records.is_repeat(self._state, action):
                return  # a second delivery: accepted, and recorded nothing
            check()
        except RuleViolation as err:
            raise _rejected(err) from None

    def _act(self, action: Action, apply: Callable[[], None]) -> ActionResult:
        state = self._state
        if action.action_id in state.action_digests:
            return ActionResult(
                case_id=state.case_id,
                level=state.level.value,
                status=state.status.value,
                events=[],
                duplicate=True,
            )
        first = len(state.events)
        state.action_digests[action.action_id] = records.action_digest(action)
        state.recorded_bytes += records.digest_entry_size(action.action_id)
        apply()
        self._search.sync()
        self._changes += 1
        return ActionResult(
            case_id=state.case_id,
            level=state.level.value,
            status=state.status.value,
            events=state.events[first:],
        )
