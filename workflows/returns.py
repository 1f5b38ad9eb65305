"""Returns (退单): a unit says a case is not its own.

Under a policy with the station's review (``clock.reviews_returns``) the
not-ours sign-off only asks to leave: the unit stays and its clock runs until
the station approves (it leaves; routing may name the unit instead) or refuses
with a reason. Cases raised before the review leave at once, as they did.
Pure: time comes from ``workflow.now()``.
"""

from __future__ import annotations

from temporalio import workflow

from workflows.ledger import iso
from workflows.lifecycle import Lifecycle
from workflows.patches import NEW_LEAD_TAKES_OVER

with workflow.unsafe.imports_passed_through():
    from models import clock
    from models.case import (
        STATION,
        SYSTEM,
        Assignment,
        CaseStatus,
        EventKind,
        Outcome,
        ReviewReturn,
    )
    from models.levels import WhistleLevel


class Returns(Lifecycle):
    """A unit's return, its review, and the unit leaving the case."""

    def request_return(self, item: Assignment, reason_code: str, actor: str) -> None:
        """退单申请: recorded, the station told; nothing else changes yet."""
        now = workflow.now()
        item.return_requested_at = now
        item.return_reason = reason_code
        item.return_reminded = False
        review_by = self.due(clock.return_review_by(self.state.policy, now))
        self.ledger.record(
            EventKind.RETURN_REQUESTED,
            actor=actor,
            department=item.department,
            reason=reason_code,
            detail={"review_deadline": review_by.isoformat(), **self.estimated()},
        )
        self.ledger.notify(
            STATION, "return_review", f"{item.department} asks to return the case: {reason_code}"
        )

    def review_return(self, action: ReviewReturn) -> None:
        state = self.state
        item = state.assignment(action.department)
        assert item is not None and item.return_requested_at is not None
        reason_code = item.return_reason
        item.return_requested_at = None
        item.return_reason = ""
        actor = action.actor or STATION
        if not action.approve:
            self.ledger.record(
                EventKind.RETURN_REFUSED,
                actor=actor,
                department=item.department,
                reason=action.reason.strip(),
                detail={"requested": reason_code},
            )
            self.ledger.notify(
                item.department,
                "return_refused",
                f"return refused: {action.reason.strip()}; your deadlines stand",
            )
            return
        if action.dispatch:
            # The unit routing names instead takes the leaving unit's place.
            at = state.departments.index(item) + 1
            added = self.add_units(action.dispatch, at=at)
            self.awaiting_new_units(added)
            self.ledger.record(
                EventKind.REDISPATCHED,
                actor=actor,
                reason=action.reason.strip() or None,
                detail={
                    "added": ",".join(a.department for a in added),
                    "instead_of": item.department,
                    "report_in_deadline": iso(state.deadlines.report_in),
                    **self.estimated(),
                },
            )
        item.outcome = Outcome.NOT_OURS.value
        item.outcome_at = workflow.now()
        item.pending_extension_seconds = 0
        self.leave(item, reason_code, actor, approval=action.reason.strip())

    def awaiting_new_units(self, added: list[Assignment]) -> None:
        """New units report in within this whistle's report-in time.

        While other units are still awaited, the new ones share their deadline:
        the report-in deadline is the case's, and a late unit gains no time.
        """
        state = self.state
        for item in added:
            self.ledger.notify(item.department, "dispatch", f"{state.level} whistle: {state.title}")
        if state.level == WhistleLevel.JOINT:
            return  # they attend the meeting, or join the plan with a task
        if state.status != CaseStatus.AWAITING_REPORT_IN or state.deadlines.report_in is None:
            now = workflow.now()
            state.deadlines.report_in = self.due(clock.report_in_by(state.policy, state.level, now))
            self.start_window(now)
        state.status = CaseStatus.AWAITING_REPORT_IN

    def leave(self, item: Assignment, reason_code: str, actor: str, approval: str = "") -> None:
        """退单: the unit leaves; too many returns go to the joint task force."""
        state = self.state
        state.returns += 1
        detail = {"returns": str(state.returns)}
        if approval:
            detail["approval"] = approval
        self.ledger.record(
            EventKind.RETURNED,
            actor=actor,
            department=item.department,
            reason=reason_code,
            detail=detail,
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
            self.in_progress_once_all_reported_in()
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

    def in_progress_once_all_reported_in(self) -> None:
        state = self.state
        if state.status == CaseStatus.AWAITING_REPORT_IN and all(
            a.reported_in_at is not None for a in self.active()
        ):
            state.status = CaseStatus.IN_PROGRESS
