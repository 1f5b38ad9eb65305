"""What each action does to a case: report-in, sign-off (and the return it may
be), extensions, the joint meeting, escalation by hand, confirmation, reopening,
withdrawal.

The update validators (models.rules) have accepted the action before any of
these run. Pure: time comes from ``workflow.now()``, changes of commands are
guarded by ``workflow.patched`` (workflows.patches).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from workflows.ledger import iso, non_empty
from workflows.lifecycle import Lifecycle
from workflows.patches import JOINT_PLAN_CLEARS_EXTENSIONS, NEW_LEAD_TAKES_OVER

with workflow.unsafe.imports_passed_through():
    from models.case import (
        BRANCH,
        SYSTEM,
        Assignment,
        CaseStatus,
        Confirm,
        Deadlines,
        DecideExtension,
        Escalate,
        EventKind,
        HoldJointMeeting,
        JointMeeting,
        Outcome,
        Reopen,
        ReportIn,
        RequestExtension,
        SignOff,
        Withdraw,
    )
    from models.durations import format_duration
    from models.evidence import evidence_detail
    from models.levels import WhistleLevel


class Transitions(Lifecycle):
    """The case's actions, one method each."""

    # --- department actions ------------------------------------------------

    def report_in(self, action: ReportIn) -> None:
        item = self.state.assignment(action.department)
        assert item is not None
        item.reported_in_at = workflow.now()
        self.ledger.record(
            EventKind.REPORTED_IN,
            actor=action.actor or action.department,
            department=action.department,
        )
        self._in_progress_once_all_reported_in()

    def sign_off(self, action: SignOff) -> None:
        state = self.state
        item = state.assignment(action.department)
        assert item is not None
        actor = action.actor or action.department
        item.outcome = action.outcome
        item.outcome_at = workflow.now()
        item.pending_extension_seconds = 0
        if action.outcome == Outcome.NOT_OURS.value:
            self._return_case(item, action.reason, actor)
            return
        self.ledger.record(
            EventKind.SIGNED_OFF,
            actor=actor,
            department=action.department,
            reason=action.reason.strip() or None,
            detail={
                **non_empty(outcome=action.outcome, note=action.note.strip()),
                **evidence_detail(action.evidence),
            },
        )
        if state.level == WhistleLevel.JOINT:
            if action.outcome == Outcome.UNRESOLVED.value:
                self.reconvene(f"{action.department} could not complete its task", actor)
            elif all(a.outcome == Outcome.RESOLVED.value for a in state.departments if a.in_plan):
                self.await_confirmation()
            return
        if action.department != state.lead:
            return  # the lead's sign-off decides the whistle; others are recorded
        if action.outcome == Outcome.RESOLVED.value:
            self.await_confirmation()
        else:
            reason = action.reason.strip() or "the lead department could not resolve it"
            self.escalate(state.level.next_up(), reason=reason, actor=actor)

    def _return_case(self, item: Assignment, reason_code: str, actor: str) -> None:
        """退单: the department leaves; too many returns go to the joint task force."""
        state = self.state
        state.returns += 1
        self.ledger.record(
            EventKind.RETURNED,
            actor=actor,
            department=item.department,
            reason=reason_code,
            detail={"returns": str(state.returns)},
        )
        if state.returns >= state.policy.rules.returns_to_joint:
            self.escalate(
                WhistleLevel.JOINT,
                reason=f"returned {state.returns} times: responsibilities overlap",
                actor=SYSTEM,
            )
        elif not self.active():
            self.escalate(
                WhistleLevel.JOINT,
                reason="every department returned the case",
                actor=SYSTEM,
            )
        else:
            previous_lead = state.lead
            self.refresh_lead(actor=SYSTEM)
            self._in_progress_once_all_reported_in()
            if state.lead != previous_lead and workflow.patched(NEW_LEAD_TAKES_OVER):
                self._new_lead_takes_over()

    def _new_lead_takes_over(self) -> None:
        """The new lead's sign-off, given before it led, now decides the whistle."""
        state = self.state
        state.resolve_reminded = False  # the new lead has not been reminded yet
        lead = state.assignment(state.lead) if state.lead else None
        if lead is None or lead.outcome is None:
            return
        if lead.outcome == Outcome.RESOLVED.value:
            self.await_confirmation()
        elif lead.outcome == Outcome.UNRESOLVED.value:
            self.escalate(
                state.level.next_up(),
                reason="the new lead department had signed off unresolved",
                actor=SYSTEM,
            )

    def _in_progress_once_all_reported_in(self) -> None:
        state = self.state
        if state.status == CaseStatus.AWAITING_REPORT_IN and all(
            a.reported_in_at is not None for a in self.active()
        ):
            state.status = CaseStatus.IN_PROGRESS

    def request_extension(self, action: RequestExtension) -> None:
        item = self.state.assignment(action.department)
        assert item is not None
        item.pending_extension_seconds = action.seconds
        item.pending_extension_reason = action.reason.strip()
        self.ledger.record(
            EventKind.EXTENSION_REQUESTED,
            actor=action.actor or action.department,
            department=action.department,
            reason=item.pending_extension_reason,
            detail={"by": format_duration(action.seconds)},
        )

    # --- branch actions ----------------------------------------------------

    def decide_extension(self, action: DecideExtension) -> None:
        state = self.state
        item = state.assignment(action.department)
        assert item is not None
        seconds = item.pending_extension_seconds
        item.pending_extension_seconds = 0
        item.pending_extension_reason = ""
        actor = action.actor or BRANCH
        if not action.approve:
            self.ledger.record(
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
        self.ledger.record(
            EventKind.EXTENSION_APPROVED,
            actor=actor,
            department=action.department,
            reason=action.reason.strip() or None,
            detail={
                "by": format_duration(seconds),
                "resolve_deadline": iso(state.deadlines.resolve),
            },
        )

    def hold_joint_meeting(self, action: HoldJointMeeting) -> None:
        """联席会议: the plan names each attendee's task, the lead and the deadline."""
        state = self.state
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
        self.start_window(now)
        state.status = CaseStatus.IN_PROGRESS
        self.ledger.record(
            EventKind.JOINT_MEETING_HELD,
            actor=actor,
            department=action.lead,
            reason=state.meeting.decision or None,
            detail={
                "lead": action.lead,
                "attendees": ",".join(attendees),
                "deadline": iso(deadline),
                **{f"task.{name}": task for name, task in tasks.items()},
                **evidence_detail(action.evidence),
            },
        )
        for name in attendees:
            self.ledger.notify(name, "plan", f"joint plan task: {tasks[name]}; due {iso(deadline)}")

    def escalate_by_hand(self, action: Escalate) -> None:
        self.escalate(
            self.state.level.next_up(),
            reason=action.reason.strip(),
            actor=action.actor or BRANCH,
        )

    def confirm(self, action: Confirm) -> None:
        self.state.satisfaction = action.satisfaction
        self.ledger.record(
            EventKind.CONFIRMED,
            actor=action.actor or BRANCH,
            detail=non_empty(satisfaction=str(action.satisfaction), note=action.note.strip()),
        )
        self.close("confirmed", actor=action.actor or BRANCH)

    def reopen(self, action: Reopen) -> None:
        """重办: the branch is not satisfied; the handlers resolve it again."""
        state = self.state
        now = workflow.now()
        state.redos += 1
        level = state.level
        for item in state.departments:
            if item.active and (level != WhistleLevel.JOINT or item.in_plan):
                item.outcome = None
                item.outcome_at = None
        seconds = state.policy.level(level).resolve_seconds
        if state.meeting is not None:
            seconds = int((state.meeting.deadline - state.meeting.held_at).total_seconds())
        state.deadlines.confirmation = None
        state.deadlines.resolve = now + timedelta(seconds=seconds)
        self.start_window(now)
        state.status = CaseStatus.IN_PROGRESS
        self.ledger.record(
            EventKind.REOPENED,
            actor=action.actor or BRANCH,
            reason=action.reason.strip(),
            detail={"redos": str(state.redos), "resolve_deadline": iso(state.deadlines.resolve)},
        )
        for item in self.handlers():
            self.ledger.notify(item.department, "redo", f"redo requested: {action.reason.strip()}")

    def withdraw(self, action: Withdraw) -> None:
        state = self.state
        actor = action.actor or BRANCH
        state.closing = "withdrawn"
        state.deadlines = Deadlines()
        state.status = CaseStatus.WITHDRAWN
        self.ledger.record(EventKind.WITHDRAWN, actor=actor, reason=action.reason.strip())
        for item in self.active():
            self.ledger.notify(item.department, "withdrawn", "the whistle was withdrawn")
