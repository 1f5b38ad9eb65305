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
from workflows.patches import JOINT_PLAN_CLEARS_EXTENSIONS
from workflows.station import StationActions

with workflow.unsafe.imports_passed_through():
    from models import clock, plan_rules
    from models.case import (
        BRANCH,
        STATION,
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


class Transitions(StationActions):
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
        self.in_progress_once_all_reported_in()

    def sign_off(self, action: SignOff) -> None:
        state = self.state
        item = state.assignment(action.department)
        assert item is not None
        actor = action.actor or action.department
        if action.outcome == Outcome.NOT_OURS.value and clock.reviews_returns(state.policy):
            self.request_return(item, action.reason, actor)
            return
        item.outcome = action.outcome
        item.outcome_at = workflow.now()
        item.pending_extension_seconds = 0
        if action.outcome == Outcome.NOT_OURS.value:
            self.leave(item, action.reason, actor)
            return
        # Signing off lets a return still awaiting review lapse: the unit acted.
        lapsed = item.return_requested_at is not None
        item.return_requested_at = None
        item.return_reason = ""
        self.ledger.record(
            EventKind.SIGNED_OFF,
            actor=actor,
            department=action.department,
            reason=action.reason.strip() or None,
            detail={
                **non_empty(outcome=action.outcome, note=action.note.strip()),
                **evidence_detail(action.evidence),
                **({"return_lapsed": "true"} if lapsed else {}),
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

    def request_extension(self, action: RequestExtension) -> None:
        item = self.state.assignment(action.department)
        assert item is not None
        item.pending_extension_seconds = plan_rules.extension_seconds(self.state, action)
        item.pending_extension_reason = action.reason.strip()
        self.ledger.record(
            EventKind.EXTENSION_REQUESTED,
            actor=action.actor or action.department,
            department=action.department,
            reason=item.pending_extension_reason,
            detail={"by": clock.describe(action.seconds, action.working_days)},
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
        attendees = list(action.attendees) or [
            a.department for a in state.departments if not a.removed
        ]
        joining = [unit for unit in action.join if unit.code not in attendees]
        attendees += [unit.code for unit in joining]
        self.add_units(joining)
        if action.deadline_working_days:
            days = action.deadline_working_days
            deadline = self.due(clock.after(state.policy, now, 0, days))
        elif action.deadline_seconds:
            deadline = now + timedelta(seconds=action.deadline_seconds)
        else:
            deadline = self.due(clock.resolve_by(state.policy, WhistleLevel.JOINT, now))
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
                **self.estimated(),
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
        state = self.state
        actor = action.actor or BRANCH
        rules = state.policy.rules
        if action.satisfaction < rules.redo_below:
            # Not satisfied means redo (重办); past the cap, the station convenes.
            reason = f"not satisfied: scored {action.satisfaction}, below {rules.redo_below}"
            if action.note.strip():
                reason = f"{reason}: {action.note.strip()}"
            if state.redos < rules.redo_cap:
                self._redo(reason, actor, satisfaction=action.satisfaction)
            else:
                self._to_the_station(reason, actor, satisfaction=action.satisfaction)
            return
        state.satisfaction = action.satisfaction
        self.ledger.record(
            EventKind.CONFIRMED,
            actor=actor,
            detail=non_empty(satisfaction=str(action.satisfaction), note=action.note.strip()),
        )
        self.close("confirmed", actor=actor)

    def reopen(self, action: Reopen) -> None:
        """重办: the branch is not satisfied; the handlers resolve it again."""
        self._redo(action.reason.strip(), action.actor or BRANCH, satisfaction=None)

    def _redo(self, reason: str, actor: str, *, satisfaction: int | None) -> None:
        state = self.state
        now = workflow.now()
        state.redos += 1
        level = state.level
        for item in state.departments:
            if item.active and (level != WhistleLevel.JOINT or item.in_plan):
                item.outcome = None
                item.outcome_at = None
        if state.meeting is not None:
            state.deadlines.resolve = now + (state.meeting.deadline - state.meeting.held_at)
        else:
            state.deadlines.resolve = self.due(clock.resolve_by(state.policy, level, now))
        state.deadlines.confirmation = None
        self.start_window(now)
        state.status = CaseStatus.IN_PROGRESS
        self.ledger.record(
            EventKind.REOPENED,
            actor=actor,
            reason=reason,
            detail={
                "redos": str(state.redos),
                "resolve_deadline": iso(state.deadlines.resolve),
                **({"satisfaction": str(satisfaction)} if satisfaction is not None else {}),
                **self.estimated(),
            },
        )
        for item in self.handlers():
            self.ledger.notify(item.department, "redo", f"redo requested: {reason}")

    def _to_the_station(self, reason: str, actor: str, *, satisfaction: int) -> None:
        """Redos used up: the station convenes a joint meeting on the case."""
        state = self.state
        self.ledger.record(
            EventKind.REOPENED,
            actor=actor,
            reason=reason,
            detail={"redos": str(state.redos), "satisfaction": str(satisfaction), "to": STATION},
        )
        self.ledger.notify(STATION, "joint_meeting", f"redos used up: {reason}")
        why = f"not satisfied after {state.redos} redos: the station convenes"
        if state.level == WhistleLevel.JOINT:
            self.reconvene(why, actor)
        else:
            self.escalate(WhistleLevel.JOINT, reason=why, actor=actor)

    def withdraw(self, action: Withdraw) -> None:
        state = self.state
        actor = action.actor or BRANCH
        state.closing = "withdrawn"
        state.deadlines = Deadlines()
        state.status = CaseStatus.WITHDRAWN
        self.ledger.record(EventKind.WITHDRAWN, actor=actor, reason=action.reason.strip())
        for item in self.active():
            self.ledger.notify(item.department, "withdrawn", "the whistle was withdrawn")
