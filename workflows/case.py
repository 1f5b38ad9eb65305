"""One durable case: from the whistle, up the levels, to its closing.

The workflow holds only state and pure transitions. Time comes from
``workflow.now()``; the SQL projection and the notification outbox are written
by one activity, fed in order by a publisher task so that a database outage
never holds up a deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from models import rules
    from models.case import (
        BRANCH,
        SYSTEM,
        Action,
        ActionResult,
        Assignment,
        CaseEvent,
        CaseState,
        CaseStatus,
        Confirm,
        Deadlines,
        DecideExtension,
        Escalate,
        EventKind,
        HoldJointMeeting,
        JointMeeting,
        Outcome,
        RaiseWhistle,
        Reopen,
        ReportIn,
        RequestExtension,
        SignOff,
        Withdraw,
    )
    from models.durations import format_duration
    from models.evidence import evidence_detail
    from models.ledger import GENESIS, event_hash
    from models.levels import WhistleLevel
    from models.publication import (
        PUBLISH_CASE_CHANGES,
        CaseChanges,
        CaseSummary,
        Notification,
    )
    from models.text_rules import RuleViolation

RULE_VIOLATION = "RuleViolation"

# workflow.patched ids: each guards a change of commands, so that histories
# recorded before it replay unchanged (tests/histories keeps them).
NEW_LEAD_TAKES_OVER = "new-lead-takes-over"
JOINT_PLAN_CLEARS_EXTENSIONS = "joint-plan-clears-extensions"
JOINT_MEETING_REMINDER = "joint-meeting-reminder"

PUBLISH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,  # never give up: an outage must not lose an event
)


def _rejected(err: RuleViolation) -> ApplicationError:
    return ApplicationError(str(err), type=RULE_VIOLATION, non_retryable=True)


@workflow.defn(name="WhistleCase")
class WhistleCase:
    @workflow.init
    def __init__(self, request: RaiseWhistle) -> None:
        now = workflow.now()
        level, departments = WhistleLevel.PUBLICITY, list(request.departments)
        self._invalid: str | None = None
        try:
            level, departments = rules.check_raise(request)
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
            level=level.label,
            status=CaseStatus.AWAITING_REPORT_IN.value,
            lead=None,
            departments=[Assignment(department=name, dispatched_at=now) for name in departments],
            deadlines=Deadlines(),
            policy=request.policy,
        )
        self._changes = 0
        self._published = 0
        self._outbox: list[Notification] = []
        self._finished = False
        if self._invalid is None:
            # Dispatch here, not in run(): updates delivered with the start are
            # handled before run() begins, and must find the case dispatched.
            state = self._state
            self._record(
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
            self._enter_level(level, actor=state.raised_by)

    # --- run ---------------------------------------------------------------

    @workflow.run
    async def run(self, request: RaiseWhistle) -> CaseState:
        if self._invalid:
            raise ApplicationError(self._invalid, type=RULE_VIOLATION, non_retryable=True)
        state = self._state
        publisher = asyncio.create_task(self._publish_changes())

        while CaseStatus(state.status).is_open:
            due = self._next_due()
            if due is None:
                await self._changed_since(self._changes)
                continue
            due_at, on_due = due
            wait = (due_at - workflow.now()).total_seconds()
            if wait > 0 and await self._changed_since(self._changes, timeout=wait):
                continue  # an action changed the case: deadlines may have moved
            on_due()

        await workflow.wait_condition(workflow.all_handlers_finished)
        self._finished = True  # only now: a handler still running may record events
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
        return self._act(action, lambda: self._report_in(action))

    @report_in.validator
    def _validate_report_in(self, action: ReportIn) -> None:
        self._validate(action, lambda: rules.check_report_in(self._state, action))

    @workflow.update
    def sign_off(self, action: SignOff) -> ActionResult:
        return self._act(action, lambda: self._sign_off(action))

    @sign_off.validator
    def _validate_sign_off(self, action: SignOff) -> None:
        self._validate(action, lambda: rules.check_sign_off(self._state, action, workflow.now()))

    @workflow.update
    def request_extension(self, action: RequestExtension) -> ActionResult:
        return self._act(action, lambda: self._request_extension(action))

    @request_extension.validator
    def _validate_request_extension(self, action: RequestExtension) -> None:
        self._validate(action, lambda: rules.check_request_extension(self._state, action))

    # --- branch actions ----------------------------------------------------

    @workflow.update
    def decide_extension(self, action: DecideExtension) -> ActionResult:
        return self._act(action, lambda: self._decide_extension(action))

    @decide_extension.validator
    def _validate_decide_extension(self, action: DecideExtension) -> None:
        self._validate(action, lambda: rules.check_decide_extension(self._state, action))

    @workflow.update
    def hold_joint_meeting(self, action: HoldJointMeeting) -> ActionResult:
        return self._act(action, lambda: self._hold_joint_meeting(action))

    @hold_joint_meeting.validator
    def _validate_hold_joint_meeting(self, action: HoldJointMeeting) -> None:
        self._validate(action, lambda: rules.check_joint_meeting(self._state, action))

    @workflow.update
    def escalate(self, action: Escalate) -> ActionResult:
        return self._act(
            action,
            lambda: self._escalate(
                WhistleLevel.parse(self._state.level).next_up(),
                reason=action.reason.strip(),
                actor=action.actor or BRANCH,
            ),
        )

    @escalate.validator
    def _validate_escalate(self, action: Escalate) -> None:
        self._validate(action, lambda: rules.check_escalate(self._state, action))

    @workflow.update
    def confirm(self, action: Confirm) -> ActionResult:
        return self._act(action, lambda: self._confirm(action))

    @confirm.validator
    def _validate_confirm(self, action: Confirm) -> None:
        self._validate(action, lambda: rules.check_confirm(self._state, action))

    @workflow.update
    def reopen(self, action: Reopen) -> ActionResult:
        return self._act(action, lambda: self._reopen(action))

    @reopen.validator
    def _validate_reopen(self, action: Reopen) -> None:
        self._validate(action, lambda: rules.check_reopen(self._state, action))

    @workflow.update
    def withdraw(self, action: Withdraw) -> ActionResult:
        return self._act(action, lambda: self._withdraw(action))

    @withdraw.validator
    def _validate_withdraw(self, action: Withdraw) -> None:
        self._validate(action, lambda: rules.check_withdraw(self._state, action))

    # --- action plumbing ---------------------------------------------------

    def _validate(self, action: Action, check: Callable[[], None]) -> None:
        if self._invalid:
            raise _rejected(RuleViolation(f"case: was never opened: {self._invalid}"))
        try:
            if rules.is_repeat(self._state, action):
                return  # a second delivery: accepted, and recorded nothing
            check()
        except RuleViolation as err:
            raise _rejected(err) from None

    def _act(self, action: Action, apply: Callable[[], None]) -> ActionResult:
        state = self._state
        if action.action_id in state.action_digests:
            return ActionResult(
                case_id=state.case_id,
                level=state.level,
                status=state.status,
                events=[],
                duplicate=True,
            )
        first = len(state.events)
        state.action_digests[action.action_id] = rules.action_digest(action)
        state.recorded_bytes += len(action.action_id) + 70  # the id and its digest
        apply()
        self._changes += 1
        return ActionResult(
            case_id=state.case_id,
            level=state.level,
            status=state.status,
            events=state.events[first:],
        )

    # --- transitions -------------------------------------------------------

    def _report_in(self, action: ReportIn) -> None:
        state = self._state
        item = state.assignment(action.department)
        assert item is not None
        item.reported_in_at = workflow.now()
        self._record(
            EventKind.REPORTED_IN,
            actor=action.actor or action.department,
            department=action.department,
        )
        if state.status == CaseStatus.AWAITING_REPORT_IN.value and all(
            a.reported_in_at is not None for a in self._active()
        ):
            self._set_status(CaseStatus.IN_PROGRESS)

    def _sign_off(self, action: SignOff) -> None:
        state = self._state
        item = state.assignment(action.department)
        assert item is not None
        actor = action.actor or action.department
        item.outcome = action.outcome
        item.outcome_at = workflow.now()
        item.pending_extension_seconds = 0
        if action.outcome == Outcome.NOT_OURS.value:
            self._return_case(item, action.reason, actor)
            return
        self._record(
            EventKind.SIGNED_OFF,
            actor=actor,
            department=action.department,
            reason=action.reason.strip() or None,
            detail={
                **self._detail(outcome=action.outcome, note=action.note.strip()),
                **evidence_detail(action.evidence),
            },
        )
        level = WhistleLevel.parse(state.level)
        if level == WhistleLevel.JOINT:
            if action.outcome == Outcome.UNRESOLVED.value:
                self._reconvene(f"{action.department} could not complete its task", actor)
            elif all(a.outcome == Outcome.RESOLVED.value for a in state.departments if a.in_plan):
                self._await_confirmation()
            return
        if action.department != state.lead:
            return  # the lead's sign-off decides the whistle; others are recorded
        if action.outcome == Outcome.RESOLVED.value:
            self._await_confirmation()
        else:
            reason = action.reason.strip() or "the lead department could not resolve it"
            self._escalate(level.next_up(), reason=reason, actor=actor)

    def _return_case(self, item: Assignment, reason_code: str, actor: str) -> None:
        state = self._state
        state.returns += 1
        self._record(
            EventKind.RETURNED,
            actor=actor,
            department=item.department,
            reason=reason_code,
            detail={"returns": str(state.returns)},
        )
        if state.returns >= state.policy.rules.returns_to_joint:
            self._escalate(
                WhistleLevel.JOINT,
                reason=f"returned {state.returns} times: responsibilities overlap",
                actor=SYSTEM,
            )
        elif not self._active():
            self._escalate(
                WhistleLevel.JOINT,
                reason="every department returned the case",
                actor=SYSTEM,
            )
        else:
            previous_lead = state.lead
            self._refresh_lead(actor=SYSTEM)
            if state.status == CaseStatus.AWAITING_REPORT_IN.value and all(
                a.reported_in_at is not None for a in self._active()
            ):
                self._set_status(CaseStatus.IN_PROGRESS)
            if state.lead != previous_lead and workflow.patched(NEW_LEAD_TAKES_OVER):
                self._new_lead_takes_over()

    def _new_lead_takes_over(self) -> None:
        """The new lead's sign-off, given before it led, now decides the whistle."""
        state = self._state
        state.resolve_reminded = False  # the new lead has not been reminded yet
        lead = state.assignment(state.lead) if state.lead else None
        if lead is None or lead.outcome is None:
            return
        if lead.outcome == Outcome.RESOLVED.value:
            self._await_confirmation()
        elif lead.outcome == Outcome.UNRESOLVED.value:
            self._escalate(
                WhistleLevel.parse(state.level).next_up(),
                reason="the new lead department had signed off unresolved",
                actor=SYSTEM,
            )

    def _request_extension(self, action: RequestExtension) -> None:
        item = self._state.assignment(action.department)
        assert item is not None
        item.pending_extension_seconds = action.seconds
        item.pending_extension_reason = action.reason.strip()
        self._record(
            EventKind.EXTENSION_REQUESTED,
            actor=action.actor or action.department,
            department=action.department,
            reason=item.pending_extension_reason,
            detail={"by": format_duration(action.seconds)},
        )

    def _decide_extension(self, action: DecideExtension) -> None:
        state = self._state
        item = state.assignment(action.department)
        assert item is not None
        seconds = item.pending_extension_seconds
        item.pending_extension_seconds = 0
        item.pending_extension_reason = ""
        actor = action.actor or BRANCH
        if not action.approve:
            self._record(
                EventKind.EXTENSION_REFUSED,
                actor=actor,
                department=action.department,
                reason=action.reason.strip(),
                detail={"by": format_duration(seconds)},
            )
            return
        state.extension_granted_seconds += seconds
        if state.deadlines.resolve is not None:
            state.deadlines.resolve += timedelta(seconds=seconds)
        self._record(
            EventKind.EXTENSION_APPROVED,
            actor=actor,
            department=action.department,
            reason=action.reason.strip() or None,
            detail={
                "by": format_duration(seconds),
                "resolve_deadline": _iso(state.deadlines.resolve),
            },
        )

    def _hold_joint_meeting(self, action: HoldJointMeeting) -> None:
        state = self._state
        now = workflow.now()
        attendees = list(action.attendees) or [a.department for a in state.departments]
        seconds = action.deadline_seconds or state.policy.level(WhistleLevel.JOINT).resolve_seconds
        deadline = now + timedelta(seconds=seconds)
        tasks = {
            name: action.tasks.get(name, "").strip() or "joint enforcement as decided"
            for name in attendees
        }
        clear_pending = workflow.patched(JOINT_PLAN_CLEARS_EXTENSIONS)
        for item in state.departments:
            item.in_plan = False
            if clear_pending:
                item.pending_extension_seconds = 0
                item.pending_extension_reason = ""
        for name in attendees:
            member = state.assignment(name)
            if member is None:  # the meeting may bring in a department new to the case
                member = Assignment(department=name, dispatched_at=now)
                state.departments.append(member)
            member.in_plan = True
            member.task = tasks[name]
            member.outcome = None
            member.outcome_at = None
            if member.reported_in_at is None:
                member.reported_in_at = now  # attending the meeting is reporting in
        actor = action.actor or BRANCH
        state.meeting = JointMeeting(
            held_at=now,
            convened_by=actor,
            attendees=attendees,
            decision=action.decision.strip(),
            lead=action.lead,
            tasks=tasks,
            deadline=deadline,
        )
        state.lead = action.lead
        state.deadlines.joint_meeting = None
        state.deadlines.resolve = deadline
        self._start_window(now)
        self._set_status(CaseStatus.IN_PROGRESS)
        self._record(
            EventKind.JOINT_MEETING_HELD,
            actor=actor,
            department=action.lead,
            reason=state.meeting.decision or None,
            detail={
                "lead": action.lead,
                "attendees": ",".join(attendees),
                "deadline": _iso(deadline),
                **{f"task.{name}": task for name, task in tasks.items()},
                **evidence_detail(action.evidence),
            },
        )
        for name in attendees:
            self._notify(name, "plan", f"joint plan task: {tasks[name]}; due {_iso(deadline)}")

    def _confirm(self, action: Confirm) -> None:
        state = self._state
        state.satisfaction = action.satisfaction
        self._record(
            EventKind.CONFIRMED,
            actor=action.actor or BRANCH,
            detail=self._detail(satisfaction=str(action.satisfaction), note=action.note.strip()),
        )
        self._close("confirmed", actor=action.actor or BRANCH)

    def _reopen(self, action: Reopen) -> None:
        state = self._state
        now = workflow.now()
        state.redos += 1
        level = WhistleLevel.parse(state.level)
        for item in state.departments:
            if item.active and (level != WhistleLevel.JOINT or item.in_plan):
                item.outcome = None
                item.outcome_at = None
        seconds = state.policy.level(level).resolve_seconds
        if state.meeting is not None:
            seconds = int((state.meeting.deadline - state.meeting.held_at).total_seconds())
        state.deadlines.confirmation = None
        state.deadlines.resolve = now + timedelta(seconds=seconds)
        self._start_window(now)
        self._set_status(CaseStatus.IN_PROGRESS)
        self._record(
            EventKind.REOPENED,
            actor=action.actor or BRANCH,
            reason=action.reason.strip(),
            detail={"redos": str(state.redos), "resolve_deadline": _iso(state.deadlines.resolve)},
        )
        for item in self._handlers():
            self._notify(item.department, "redo", f"redo requested: {action.reason.strip()}")

    def _withdraw(self, action: Withdraw) -> None:
        state = self._state
        actor = action.actor or BRANCH
        state.closing = "withdrawn"
        self._clear_deadlines()
        self._set_status(CaseStatus.WITHDRAWN)
        self._record(EventKind.WITHDRAWN, actor=actor, reason=action.reason.strip())
        for item in self._active():
            self._notify(item.department, "withdrawn", "the whistle was withdrawn")

    # --- level changes -----------------------------------------------------

    def _escalate(self, to: WhistleLevel, *, reason: str, actor: str) -> None:
        state = self._state
        from_level = state.level
        state.level = to.label
        self._record(
            EventKind.ESCALATED,
            actor=actor,
            from_level=from_level,
            to_level=to.label,
            reason=reason,
        )
        self._enter_level(to, actor=actor)

    def _enter_level(self, level: WhistleLevel, *, actor: str) -> None:
        """Dispatch the whistle's departments and start its clocks."""
        state = self._state
        now = workflow.now()
        rules_ = state.policy.level(level)
        joint = level == WhistleLevel.JOINT
        for item in state.departments:
            if joint or item.active:
                # The joint task force brings back the departments that
                # returned the case: their overlap is what it must settle.
                item.dispatched_at = now
                item.reported_in_at = None
                item.outcome = None
                item.outcome_at = None
                item.in_plan = False
                item.task = ""
                item.pending_extension_seconds = 0
                item.pending_extension_reason = ""
        state.extension_granted_seconds = 0
        state.meeting = None
        state.deadlines = Deadlines()
        self._start_window(now)
        if joint:
            state.lead = None
            state.deadlines.joint_meeting = now + timedelta(seconds=rules_.report_in_seconds)
            self._set_status(CaseStatus.JOINT_MEETING)
        else:
            state.deadlines.report_in = now + timedelta(seconds=rules_.report_in_seconds)
            state.deadlines.resolve = now + timedelta(seconds=rules_.resolve_seconds)
            self._refresh_lead(actor=None)
            self._set_status(CaseStatus.AWAITING_REPORT_IN)
        dispatched = [a.department for a in self._active()]
        self._record(
            EventKind.DISPATCHED,
            actor=actor,
            detail={
                "departments": ",".join(dispatched),
                "lead": state.lead or "",
                "report_in_deadline": _iso(state.deadlines.report_in),
                "joint_meeting_deadline": _iso(state.deadlines.joint_meeting),
                "resolve_deadline": _iso(state.deadlines.resolve),
            },
        )
        for name in dispatched:
            self._notify(name, "dispatch", f"{level.label} whistle: {state.title}")

    def _reconvene(self, reason: str, actor: str) -> None:
        state = self._state
        now = workflow.now()
        clear_pending = workflow.patched(JOINT_PLAN_CLEARS_EXTENSIONS)
        for item in state.departments:
            item.in_plan = False
            item.outcome = None
            item.outcome_at = None
            if clear_pending:
                item.pending_extension_seconds = 0
                item.pending_extension_reason = ""
        state.meeting = None
        state.deadlines.resolve = None
        state.deadlines.joint_meeting = now + timedelta(
            seconds=state.policy.level(WhistleLevel.JOINT).report_in_seconds
        )
        self._start_window(now)
        self._set_status(CaseStatus.JOINT_MEETING)
        self._record(EventKind.JOINT_MEETING_RECONVENED, actor=actor, reason=reason)

    def _await_confirmation(self) -> None:
        state = self._state
        now = workflow.now()
        state.deadlines = Deadlines(
            confirmation=now + timedelta(seconds=state.policy.rules.confirmation_seconds)
        )
        for item in state.departments:
            item.pending_extension_seconds = 0
            item.pending_extension_reason = ""
        self._set_status(CaseStatus.AWAITING_CONFIRMATION)
        self._record(
            EventKind.RESOLVED,
            actor=SYSTEM,
            detail={"confirmation_deadline": _iso(state.deadlines.confirmation)},
        )

    def _close(self, closing: str, *, actor: str) -> None:
        state = self._state
        state.closing = closing
        self._clear_deadlines()
        self._set_status(CaseStatus.CLOSED)
        self._record(EventKind.CLOSED, actor=actor, reason=closing)

    # --- deadlines ---------------------------------------------------------

    def _next_due(self) -> tuple[datetime, Callable[[], None]] | None:
        """The earliest pending deadline or reminder, and what happens then."""
        state = self._state
        d = state.deadlines
        candidates: list[tuple[datetime, Callable[[], None]]] = []
        status = CaseStatus(state.status)
        if status == CaseStatus.AWAITING_REPORT_IN and d.report_in is not None:
            if not state.report_in_reminded:
                candidates.append((self._remind_time(d.report_in), self._remind_report_in))
            candidates.append((d.report_in, self._report_in_missed))
        if status == CaseStatus.JOINT_MEETING and d.joint_meeting is not None:
            if not state.report_in_reminded and workflow.patched(JOINT_MEETING_REMINDER):
                candidates.append((self._remind_time(d.joint_meeting), self._remind_meeting))
            candidates.append((d.joint_meeting, self._joint_meeting_overdue))
        if status in (CaseStatus.AWAITING_REPORT_IN, CaseStatus.IN_PROGRESS) and (
            d.resolve is not None
        ):
            if not state.resolve_reminded and status == CaseStatus.IN_PROGRESS:
                candidates.append((self._remind_time(d.resolve), self._remind_resolve))
            candidates.append((d.resolve, self._resolve_missed))
        if status == CaseStatus.AWAITING_CONFIRMATION and d.confirmation is not None:
            candidates.append((d.confirmation, self._confirmation_expired))
        if not candidates:
            return None
        return min(candidates, key=lambda item: item[0])

    def _remind_time(self, deadline: datetime) -> datetime:
        state = self._state
        start = state.window_started_at or state.raised_at
        fraction = state.policy.level(WhistleLevel.parse(state.level)).remind_at
        return start + (deadline - start) * fraction

    def _remind_report_in(self) -> None:
        state = self._state
        state.report_in_reminded = True
        late = [a for a in self._active() if a.reported_in_at is None]
        self._record(
            EventKind.REMINDED,
            actor=SYSTEM,
            reason="report-in due",
            detail={
                "departments": ",".join(a.department for a in late),
                "deadline": _iso(state.deadlines.report_in),
            },
        )
        for item in late:
            self._notify(
                item.department, "reminder", f"report in by {_iso(state.deadlines.report_in)}"
            )

    def _remind_meeting(self) -> None:
        state = self._state
        state.report_in_reminded = True
        self._record(
            EventKind.REMINDED,
            actor=SYSTEM,
            reason="joint meeting due",
            detail={
                "departments": ",".join(a.department for a in self._active()),
                "deadline": _iso(state.deadlines.joint_meeting),
            },
        )
        for item in self._active():
            self._notify(
                item.department,
                "reminder",
                f"joint meeting by {_iso(state.deadlines.joint_meeting)}",
            )

    def _remind_resolve(self) -> None:
        state = self._state
        state.resolve_reminded = True
        pending = [a for a in self._handlers() if a.outcome is None]
        self._record(
            EventKind.REMINDED,
            actor=SYSTEM,
            reason="resolution due",
            detail={
                "departments": ",".join(a.department for a in pending),
                "deadline": _iso(state.deadlines.resolve),
            },
        )
        for item in pending:
            self._notify(item.department, "reminder", f"resolve by {_iso(state.deadlines.resolve)}")

    def _report_in_missed(self) -> None:
        state = self._state
        late = [a for a in self._active() if a.reported_in_at is None]
        for item in late:
            item.missed_deadlines += 1
            self._record(
                EventKind.REPORT_IN_MISSED,
                actor=SYSTEM,
                department=item.department,
                detail={"deadline": _iso(state.deadlines.report_in)},
            )
        names = ", ".join(a.department for a in late)
        self._escalate(
            WhistleLevel.parse(state.level).next_up(),
            reason=f"report-in deadline missed by {names}",
            actor=SYSTEM,
        )

    def _resolve_missed(self) -> None:
        state = self._state
        level = WhistleLevel.parse(state.level)
        late = [a for a in self._handlers() if a.outcome is None]
        for item in late:
            item.missed_deadlines += 1
            self._record(
                EventKind.RESOLVE_MISSED,
                actor=SYSTEM,
                department=item.department,
                detail={"deadline": _iso(state.deadlines.resolve)},
            )
        if level != WhistleLevel.JOINT:
            self._escalate(level.next_up(), reason="resolve deadline missed", actor=SYSTEM)
            return
        # No whistle above the joint task force: supervise (督办) and re-arm.
        now = workflow.now()
        assert state.meeting is not None
        window = state.meeting.deadline - state.meeting.held_at
        state.deadlines.resolve = now + window
        self._start_window(now)
        self._record(
            EventKind.SUPERVISED,
            actor=SYSTEM,
            reason="joint plan overdue",
            detail={"resolve_deadline": _iso(state.deadlines.resolve)},
        )
        for item in late:
            self._notify(item.department, "supervision", "joint plan task overdue")

    def _joint_meeting_overdue(self) -> None:
        state = self._state
        now = workflow.now()
        missed = state.deadlines.joint_meeting
        state.deadlines.joint_meeting = now + timedelta(
            seconds=state.policy.level(WhistleLevel.JOINT).report_in_seconds
        )
        self._start_window(now)
        self._record(
            EventKind.JOINT_MEETING_OVERDUE,
            actor=SYSTEM,
            detail={
                "missed": _iso(missed),
                "joint_meeting_deadline": _iso(state.deadlines.joint_meeting),
            },
        )
        for item in self._active():
            self._notify(item.department, "supervision", "joint meeting overdue")

    def _confirmation_expired(self) -> None:
        self._close("not_confirmed", actor=SYSTEM)

    # --- helpers -----------------------------------------------------------

    def _active(self) -> list[Assignment]:
        return [a for a in self._state.departments if a.active]

    def _handlers(self) -> list[Assignment]:
        """Departments whose sign-off is awaited at this whistle."""
        state = self._state
        if WhistleLevel.parse(state.level) == WhistleLevel.JOINT:
            return [a for a in state.departments if a.in_plan]
        return [a for a in self._active() if a.department == state.lead]

    def _refresh_lead(self, *, actor: str | None) -> None:
        """首接负责: the first department still on the case leads it."""
        state = self._state
        active = self._active()
        lead = active[0].department if active else None
        if lead == state.lead:
            return
        previous, state.lead = state.lead, lead
        if actor is not None and lead is not None:
            self._record(
                EventKind.LEAD_CHANGED,
                actor=actor,
                department=lead,
                detail={"previous": previous or ""},
            )
            self._notify(lead, "lead", f"you now lead case {state.title}")

    def _start_window(self, now: datetime) -> None:
        state = self._state
        state.window_started_at = now
        state.report_in_reminded = False
        state.resolve_reminded = False

    def _clear_deadlines(self) -> None:
        self._state.deadlines = Deadlines()

    def _set_status(self, status: CaseStatus) -> None:
        self._state.status = status.value

    @staticmethod
    def _detail(**values: str) -> dict[str, str]:
        return {key: value for key, value in values.items() if value}

    def _record(
        self,
        kind: EventKind,
        *,
        actor: str,
        department: str | None = None,
        from_level: str | None = None,
        to_level: str | None = None,
        reason: str | None = None,
        detail: dict[str, str] | None = None,
    ) -> None:
        state = self._state
        event = CaseEvent(
            seq=len(state.events) + 1,
            kind=kind.value,
            at=workflow.now(),
            actor=actor,
            level=state.level,
            department=department,
            from_level=from_level,
            to_level=to_level,
            reason=reason,
            detail={k: v for k, v in (detail or {}).items() if v},
        )
        previous = state.events[-1].hash if state.events else GENESIS
        event.hash = event_hash(previous, state.case_id, event, event.detail)
        state.events.append(event)
        state.recorded_bytes += rules.event_size(event)

    def _notify(self, department: str, kind: str, message: str) -> None:
        state = self._state
        seq = len(state.events)  # the event that caused it: stable across replays
        # One dispatch per (case, whistle, department): whistles only go up, and
        # the joint task force supervises rather than re-dispatching.
        key = (
            f"{state.case_id}/{state.level}/{department}/dispatch"
            if kind == "dispatch"
            else f"{state.case_id}/{seq}/{department}/{kind}"
        )
        self._outbox.append(
            Notification(
                key=key,
                case_id=state.case_id,
                department=department,
                level=state.level,
                kind=kind,
                message=message,
                at=workflow.now(),
            )
        )

    # --- publishing --------------------------------------------------------

    def _summary(self) -> CaseSummary:
        state = self._state
        d = state.deadlines
        return CaseSummary(
            case_id=state.case_id,
            compound=state.compound,
            category=state.category,
            title=state.title,
            level=state.level,
            status=state.status,
            lead=state.lead,
            departments=[a.department for a in state.departments],
            raised_by=state.raised_by,
            raised_at=state.raised_at,
            updated_at=workflow.now(),
            report_in_deadline=d.report_in or d.joint_meeting,
            resolve_deadline=d.resolve,
            confirmation_deadline=d.confirmation,
            satisfaction=state.satisfaction,
            closing=state.closing,
            returns=state.returns,
            redos=state.redos,
            policy_version=state.policy.version,
        )

    async def _publish_changes(self) -> None:
        """Write events and notifications in order, one batch at a time."""
        state = self._state
        while True:
            await workflow.wait_condition(
                lambda: self._published < len(state.events) or self._finished
            )
            if self._published >= len(state.events) and not self._outbox:
                return
            upto = len(state.events)
            notifications = list(self._outbox)
            changes = CaseChanges(
                summary=self._summary(),
                events=state.events[self._published : upto],
                notifications=notifications,
            )
            # A regular activity, scheduled only once this workflow task commits.
            # (Local activities halved the tasks per case, but a worker killed
            # mid-task left side effects of a task that never committed: a
            # ledger row whose time differed from the replayed event. Reverted.)
            await workflow.execute_activity(
                PUBLISH_CASE_CHANGES,
                changes,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=PUBLISH_RETRY,
            )
            self._published = upto
            del self._outbox[: len(notifications)]


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""
