"""The moves every part of a case shares: who handles it, entering a whistle,
going up one, reconvening the joint meeting, awaiting confirmation, closing.

Actions (workflows.transitions) and deadlines (workflows.deadlines) end in
these. Pure: time comes from ``workflow.now()``, changes of commands are
guarded by ``workflow.patched`` (workflows.patches).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

from workflows.ledger import Ledger, iso
from workflows.patches import JOINT_PLAN_CLEARS_EXTENSIONS

with workflow.unsafe.imports_passed_through():
    from models.case import SYSTEM, Assignment, CaseState, CaseStatus, Deadlines, EventKind
    from models.levels import WhistleLevel


class Lifecycle:
    """The case's state and ledger, and the moves that change its whistle or status."""

    def __init__(self, state: CaseState, ledger: Ledger) -> None:
        self.state = state
        self.ledger = ledger

    # --- who is on the case ------------------------------------------------

    def active(self) -> list[Assignment]:
        """Departments still on the case: those that did not return it."""
        return [a for a in self.state.departments if a.active]

    def handlers(self) -> list[Assignment]:
        """Departments whose sign-off is awaited at this whistle."""
        state = self.state
        if state.level == WhistleLevel.JOINT:
            return [a for a in state.departments if a.in_plan]
        return [a for a in self.active() if a.department == state.lead]

    def refresh_lead(self, *, actor: str | None) -> None:
        """首接负责: the first department still on the case leads it."""
        state = self.state
        active = self.active()
        lead = active[0].department if active else None
        if lead == state.lead:
            return
        previous, state.lead = state.lead, lead
        if actor is not None and lead is not None:
            self.ledger.record(
                EventKind.LEAD_CHANGED,
                actor=actor,
                department=lead,
                detail={"previous": previous or ""},
            )
            self.ledger.notify(lead, "lead", f"you now lead case {state.title}")

    def start_window(self, now: datetime) -> None:
        """A new report-in / resolve window: its reminders are due again."""
        state = self.state
        state.window_started_at = now
        state.first_deadline_reminded = False
        state.resolve_reminded = False

    # --- level changes -----------------------------------------------------

    def escalate(self, to: WhistleLevel, *, reason: str, actor: str) -> None:
        state = self.state
        from_level = state.level
        state.level = to
        self.ledger.record(
            EventKind.ESCALATED,
            actor=actor,
            from_level=from_level.value,
            to_level=to.value,
            reason=reason,
        )
        self.enter_level(to, actor=actor)

    def enter_level(self, level: WhistleLevel, *, actor: str) -> None:
        """Dispatch the whistle's departments and start its clocks."""
        state = self.state
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
        self.start_window(now)
        if joint:
            state.lead = None
            state.deadlines.joint_meeting = now + timedelta(seconds=rules_.report_in_seconds)
            state.status = CaseStatus.JOINT_MEETING
        else:
            state.deadlines.report_in = now + timedelta(seconds=rules_.report_in_seconds)
            state.deadlines.resolve = now + timedelta(seconds=rules_.resolve_seconds)
            self.refresh_lead(actor=None)
            state.status = CaseStatus.AWAITING_REPORT_IN
        dispatched = [a.department for a in self.active()]
        self.ledger.record(
            EventKind.DISPATCHED,
            actor=actor,
            detail={
                "departments": ",".join(dispatched),
                "lead": state.lead or "",
                "report_in_deadline": iso(state.deadlines.report_in),
                "joint_meeting_deadline": iso(state.deadlines.joint_meeting),
                "resolve_deadline": iso(state.deadlines.resolve),
            },
        )
        for name in dispatched:
            self.ledger.notify(name, "dispatch", f"{level.label} whistle: {state.title}")

    def reconvene(self, reason: str, actor: str) -> None:
        """The joint plan failed: back to the joint meeting, with a fresh deadline."""
        state = self.state
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
        self.start_window(now)
        state.status = CaseStatus.JOINT_MEETING
        self.ledger.record(EventKind.JOINT_MEETING_RECONVENED, actor=actor, reason=reason)

    # --- the end -----------------------------------------------------------

    def await_confirmation(self) -> None:
        """Resolved: the branch confirms it (or reopens it) before the deadline."""
        state = self.state
        now = workflow.now()
        state.deadlines = Deadlines(
            confirmation=now + timedelta(seconds=state.policy.rules.confirmation_seconds)
        )
        for item in state.departments:
            item.pending_extension_seconds = 0
            item.pending_extension_reason = ""
        state.status = CaseStatus.AWAITING_CONFIRMATION
        self.ledger.record(
            EventKind.RESOLVED,
            actor=SYSTEM,
            detail={"confirmation_deadline": iso(state.deadlines.confirmation)},
        )

    def close(self, closing: str, *, actor: str) -> None:
        state = self.state
        state.closing = closing
        state.deadlines = Deadlines()
        state.status = CaseStatus.CLOSED
        self.ledger.record(EventKind.CLOSED, actor=actor, reason=closing)
