"""The case's event ledger and notification outbox.

Every transition records what happened as a ``CaseEvent`` chained to the one
before it (models.ledger), and queues the notifications it causes; the
publisher writes both out in order. Pure: time comes from ``workflow.now()``.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models import records
    from models.case import CaseEvent, CaseState, EventKind
    from models.ledger import GENESIS, event_hash
    from models.publication import CaseSummary, Notification


class Ledger:
    """Appends events to the state's chain and notifications to the outbox."""

    def __init__(self, state: CaseState) -> None:
        self.state = state
        self.outbox: list[Notification] = []
        """Notifications not yet published, in the order they were queued."""

    def record(
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
        """Append one event, hashed onto the chain; empty details are left out."""
        state = self.state
        event = CaseEvent(
            seq=len(state.events) + 1,
            kind=kind.value,
            at=workflow.now(),
            actor=actor,
            level=state.level.value,
            department=department,
            from_level=from_level,
            to_level=to_level,
            reason=reason,
            detail={k: v for k, v in (detail or {}).items() if v},
        )
        previous = state.events[-1].hash if state.events else GENESIS
        event.hash = event_hash(previous, state.case_id, event, event.detail)
        state.events.append(event)
        state.recorded_bytes += records.event_size(event)

    def notify(self, department: str, kind: str, message: str) -> None:
        """Queue a notification, keyed so that a retried publish delivers it once."""
        state = self.state
        seq = len(state.events)  # the event that caused it: stable across replays
        # One dispatch per (case, whistle, department): whistles only go up, and
        # the joint task force supervises rather than re-dispatching.
        key = (
            f"{state.case_id}/{state.level.value}/{department}/dispatch"
            if kind == "dispatch"
            else f"{state.case_id}/{seq}/{department}/{kind}"
        )
        self.outbox.append(
            Notification(
                key=key,
                case_id=state.case_id,
                department=department,
                level=state.level.value,
                kind=kind,
                message=message,
                at=workflow.now(),
            )
        )


def summary(state: CaseState) -> CaseSummary:
    """The case's row in the SQL projection, as of now."""
    d = state.deadlines
    return CaseSummary(
        case_id=state.case_id,
        compound=state.compound,
        category=state.category,
        title=state.title,
        level=state.level.value,
        status=state.status.value,
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


def iso(value: datetime | None) -> str:
    """A deadline as an event detail: ISO 8601, or empty (and so left out)."""
    return value.isoformat() if value else ""


def non_empty(**values: str) -> dict[str, str]:
    return {key: value for key, value in values.items() if value}
