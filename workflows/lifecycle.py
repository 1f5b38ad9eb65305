"""The moves every part of a case shares: who handles it, entering a whistle,
going up one, reconvening the joint meeting, awaiting confirmation, closing.

Actions (workflows.transitions) and deadlines (workflows.deadlines) end in
these. Pure: time comes from ``workflow.now()``, changes of commands are
guarded by ``workflow.patched`` (workflows.patches).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio import workflow

from workflows.ledger import Ledger, iso
from workflows.patches import BRANCH_HEARS_RESULT, JOINT_PLAN_CLEARS_EXTENSIONS

with workflow.unsafe.imports_passed_through():
    from models import clock
    from models.case import (
        BRANCH,
        SYSTEM,
        Assignment,
        CaseState,
        CaseStatus,
        Deadlines,
        EventKind,
        UnitRef,
    )
    from models.levels import WhistleLevel


@dataclass(frozen=True)
class MissCap:
    """After a missed deadline: the next ones are no later than these ("事不完、人不撤")."""

    report_in: datetime | None
    resolve: datetime | None


class Lifecycle:
    """The case's state and ledger, and the moves that change its whistle or status."""

    def __init__(self, state: CaseState, ledger: Ledger) -> None:
        self.state = state
        self.ledger = ledger
        self._estimates: list[str] = []

    # --- deadlines ---------------------------------------------------------

    def due(self, deadline: clock.Deadline) -> datetime:
        """The deadline's instant; an estimate's note goes on the next ``estimated()``."""
        if deadline.note and deadline.note not in self._estimates:
            self._estimates.append(deadline.note)
        return deadline.at

    def estimated(self) -> dict[str, str]:
        """Event detail saying why a deadline just set is an estimate (usually empty)."""
        notes, self._estimates = self._estimates, []
        return {"calendar": "; ".join(notes)} if notes else {}

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

    def escalate(
        self, to: WhistleLevel, *, reason: str, actor: str, cap: MissCap | None = None
    ) -> None:
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
        self.enter_level(to, actor=actor, cap=cap)

    def enter_level(self, level: WhistleLevel, *, actor: str, cap: MissCap | None = None) -> None:
        """Dispatch the whistle's departments and start its clocks.

        ``cap``: the whistle went up because a deadline was missed. The units
        that reported in on time stay reported in, and no deadline is later
        than the cap: a miss never buys time.
        """
        state = self.state
        now = workflow.now()
        policy = state.policy
        joint = level == WhistleLevel.JOINT
        lapsed = self.lapse_returns()
        for item in state.departments:
            if item.removed:
                continue
            if joint or item.active:
                # The joint task force brings back the departments that
                # returned the case: their overlap is what it must settle.
                item.dispatched_at = now
                if cap is None or joint:
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
            state.deadlines.joint_meeting = self.due(clock.report_in_by(policy, level, now))
            state.status = CaseStatus.JOINT_MEETING
        else:
            report_in = self.due(clock.report_in_by(policy, level, now))
            resolve = self.due(clock.resolve_by(policy, level, now))
            if cap is not None:
                report_in = min(report_in, cap.report_in or report_in)
                resolve = min(resolve, cap.resolve or resolve)
            state.deadlines.report_in = report_in
            state.deadlines.resolve = resolve
            self.refresh_lead(actor=None)
            state.status = CaseStatus.AWAITING_REPORT_IN
            if cap is not None and all(a.reported_in_at is not None for a in self.active()):
                state.status = CaseStatus.IN_PROGRESS
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
                "returns_lapsed": lapsed,
                **self.estimated(),
            },
        )
        for name in dispatched:
            self.ledger.notify(name, "dispatch", f"{level.label} whistle: {state.title}")

    def lapse_returns(self) -> str:
        """Returns awaiting review lapse when the whistle moves on (a new whistle
        dispatches afresh; a resolved case needs none): the units, for the event."""
        lapsed = [a for a in self.state.departments if a.return_requested_at is not None]
        for item in lapsed:
            item.return_requested_at = None
            item.return_reason = ""
        return ",".join(item.department for item in lapsed)

    def add_units(self, units: list[UnitRef], *, at: int | None = None) -> list[Assignment]:
        """Put units new to the case on it, dispatched now (at position ``at``:
        the first still on the case leads, 首接负责)."""
        now = workflow.now()
        added = [Assignment(department=u.code, kind=u.kind, dispatched_at=now) for u in units]
        position = len(self.state.departments) if at is None else at
        self.state.departments[position:position] = added
        return added

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
        state.deadlines.joint_meeting = self.due(
            clock.report_in_by(state.policy, WhistleLevel.JOINT, now)
        )
        self.start_window(now)
        state.status = CaseStatus.JOINT_MEETING
        self.ledger.record(
            EventKind.JOINT_MEETING_RECONVENED, actor=actor, reason=reason, detail=self.estimated()
        )

    # --- the end -----------------------------------------------------------

    def await_confirmation(self) -> None:
        """Resolved: the branch confirms it (or reopens it) before the deadline."""
        state = self.state
        now = workflow.now()
        state.deadlines = Deadlines(confirmation=self.due(clock.confirmation_by(state.policy, now)))
        for item in state.departments:
            item.pending_extension_seconds = 0
            item.pending_extension_reason = ""
        lapsed = self.lapse_returns()
        state.status = CaseStatus.AWAITING_CONFIRMATION
        self.ledger.record(
            EventKind.RESOLVED,
            actor=SYSTEM,
            detail={
                "confirmation_deadline": iso(state.deadlines.confirmation),
                "returns_lapsed": lapsed,
                **self.estimated(),
            },
        )
        # The branch hears that a result waits for its word. Cases resolved before
        # this (replayed) published without it: the outbox they wrote stays the same.
        if workflow.patched(BRANCH_HEARS_RESULT):
            self.ledger.notify(
                BRANCH, "confirm", f"resolved: confirm by {iso(state.deadlines.confirmation)}"
            )

    def close(self, closing: str, *, actor: str) -> None:
        state = self.state
        state.closing = closing
        state.deadlines = Deadlines()
        state.status = CaseStatus.CLOSED
        self.ledger.record(EventKind.CLOSED, actor=actor, reason=closing)
