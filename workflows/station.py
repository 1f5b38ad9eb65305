"""The station's hand on a case: re-dispatch (改派), supervision (督办), and the
branch's request that it convene a joint meeting. (Returns are reviewed in
workflows.returns; the joint meeting itself is in workflows.transitions.)
Pure: time comes from ``workflow.now()``.
"""

from __future__ import annotations

from temporalio import workflow

from workflows.ledger import iso
from workflows.returns import Returns

with workflow.unsafe.imports_passed_through():
    from models.case import (
        BRANCH,
        STATION,
        CaseStatus,
        EventKind,
        Redispatch,
        RequestJointMeeting,
        Supervise,
    )
    from models.levels import WhistleLevel


class StationActions(Returns):
    def redispatch(self, action: Redispatch) -> None:
        """改派: units added, or one replaced; the first still on the case leads."""
        state = self.state
        actor = action.actor or STATION
        replaced = state.assignment(action.replace) if action.replace else None
        at = None
        if replaced is not None:
            replaced.removed = True
            replaced.in_plan = False
            replaced.pending_extension_seconds = 0
            replaced.return_requested_at = None
            at = state.departments.index(replaced) + 1
        added = self.add_units(action.add, at=at)
        if state.level == WhistleLevel.JOINT and state.status == CaseStatus.IN_PROGRESS:
            # The plan is in force: the new units join it, with the task of the
            # unit they replace or the station's reason.
            task = replaced.task if replaced is not None and replaced.task else action.reason
            for item in added:
                item.in_plan = True
                item.task = task.strip()
        self.awaiting_new_units(added)
        self.ledger.record(
            EventKind.REDISPATCHED,
            actor=actor,
            reason=action.reason.strip(),
            detail={
                "added": ",".join(item.department for item in added),
                "removed": replaced.department if replaced is not None else "",
                "report_in_deadline": iso(state.deadlines.report_in),
                **self.estimated(),
            },
        )
        if replaced is not None:
            self.ledger.notify(
                replaced.department, "withdrawn", f"replaced on the case: {action.reason.strip()}"
            )
        if state.level != WhistleLevel.JOINT:
            self.refresh_lead(actor=actor)

    def supervise(self, action: Supervise) -> None:
        """督办: the note goes on the record and to every unit still to act."""
        state = self.state
        waiting = [a for a in self.active() if a.outcome is None]
        if state.level == WhistleLevel.JOINT and state.status == CaseStatus.IN_PROGRESS:
            waiting = [a for a in self.handlers() if a.outcome is None]
        self.ledger.record(
            EventKind.SUPERVISED,
            actor=action.actor or STATION,
            reason=action.note.strip(),
            detail={"departments": ",".join(a.department for a in waiting)},
        )
        for item in waiting:
            self.ledger.notify(item.department, "supervision", action.note.strip())

    def request_joint_meeting(self, action: RequestJointMeeting) -> None:
        """The branch asks for a joint meeting: below the joint task force the
        case goes up to it; the station convenes and sets the plan."""
        state = self.state
        actor = action.actor or BRANCH
        reason = action.reason.strip()
        self.ledger.record(EventKind.JOINT_MEETING_REQUESTED, actor=actor, reason=reason)
        self.ledger.notify(STATION, "joint_meeting", f"joint meeting requested: {reason}")
        if state.level != WhistleLevel.JOINT:
            self.escalate(
                WhistleLevel.JOINT,
                reason=f"the branch requested a joint meeting: {reason}",
                actor=actor,
            )
