"""Cases and events as JSON documents: what ``--json`` prints and the API returns.

A case has ONE document shape, whether read from its workflow (live,
:func:`case_document`) or, once Temporal has forgotten it or no worker answers,
from the SQL projection (``store.reads.projected_case_document``)::

    case_id, compound, category, title, description, location,
    raised_by, raised_at, updated_at, level, status, lead,
    departments: [{department, dispatched_at, reported_in_at, outcome, outcome_at,
                   in_plan, task, missed_deadlines, pending_extension_seconds}],
    deadlines: {report_in, joint_meeting, resolve, confirmation},
    meeting, returns, redos, extension_granted_seconds, satisfaction, closing,
    policy_version, source ("workflow" | "projection"), events: [event, ...]

The projection does not hold ``description``, ``location``, ``meeting``,
``extension_granted_seconds``, nor any detail of a department but its name:
from there these are null, never missing. It keeps one first deadline, shown
as ``joint_meeting`` while the case awaits its joint meeting and as
``report_in`` otherwise, the other null. (A list of cases shows each as the
projection's summary row, ``store.reads.case_row_document``.)
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from models.case import ActionResult, CaseEvent, CaseState
from models.levels import WhistleLevel

CASE_FIELDS = (
    "case_id",
    "compound",
    "category",
    "title",
    "description",
    "location",
    "raised_by",
    "raised_at",
    "updated_at",
    "level",
    "status",
    "lead",
    "departments",
    "deadlines",
    "meeting",
    "returns",
    "redos",
    "extension_granted_seconds",
    "satisfaction",
    "closing",
    "policy_version",
    "source",
    "events",
)
"""The keys of a case document, in order."""

DEPARTMENT_FIELDS = (
    "department",
    "dispatched_at",
    "reported_in_at",
    "outcome",
    "outcome_at",
    "in_plan",
    "task",
    "missed_deadlines",
    "pending_extension_seconds",
    "kind",
    "return_requested_at",
    "return_reason",
    "removed",
)
"""The keys of each entry of a case document's ``departments``."""

DEADLINE_FIELDS = ("report_in", "joint_meeting", "resolve", "confirmation")


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _text(value: object) -> str | None:
    """An enum (or plain string) as its plain string value."""
    return None if value is None else str(value)


def event_document(event: CaseEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "kind": str(event.kind),
        "at": iso(event.at),
        "actor": event.actor,
        "level": str(event.level),
        "department": event.department,
        "from_level": _text(event.from_level),
        "to_level": _text(event.to_level),
        "reason": event.reason,
        "detail": dict(event.detail),
    }


def unknown_department(name: str) -> dict[str, Any]:
    """A department entry when only its name is known (the projection)."""
    return {key: (name if key == "department" else None) for key in DEPARTMENT_FIELDS}


def case_document(state: CaseState) -> dict[str, Any]:
    """The live case, from its workflow."""
    meeting = None
    if state.meeting is not None:
        meeting = {
            **asdict(state.meeting),
            "held_at": iso(state.meeting.held_at),
            "deadline": iso(state.meeting.deadline),
        }
    return {
        "case_id": state.case_id,
        "compound": state.compound,
        "category": state.category,
        "title": state.title,
        "description": state.description,
        "location": state.location,
        "raised_by": state.raised_by,
        "raised_at": iso(state.raised_at),
        "updated_at": iso(state.events[-1].at) if state.events else iso(state.raised_at),
        "level": str(state.level),
        "status": str(state.status),
        "lead": state.lead,
        "departments": [
            {
                "department": a.department,
                "dispatched_at": iso(a.dispatched_at),
                "reported_in_at": iso(a.reported_in_at),
                "outcome": _text(a.outcome),
                "outcome_at": iso(a.outcome_at),
                "in_plan": a.in_plan,
                "task": a.task or None,
                "missed_deadlines": a.missed_deadlines,
                "pending_extension_seconds": a.pending_extension_seconds or None,
                "kind": a.department_kind,
                "return_requested_at": iso(a.return_requested_at),
                "return_reason": a.return_reason or None,
                "removed": a.removed,
            }
            for a in state.departments
        ],
        "deadlines": {
            "report_in": iso(state.deadlines.report_in),
            "joint_meeting": iso(state.deadlines.joint_meeting),
            "resolve": iso(state.deadlines.resolve),
            "confirmation": iso(state.deadlines.confirmation),
        },
        "meeting": meeting,
        "returns": state.returns,
        "redos": state.redos,
        "extension_granted_seconds": state.extension_granted_seconds,
        "satisfaction": state.satisfaction,
        "closing": state.closing,
        "policy_version": state.policy.version,
        "source": "workflow",
        "events": [event_document(e) for e in state.events],
    }


RAISED_FIELDS = ("case_id", "level", "policy_version", "duplicate")


def raised_document(
    case_id: str, level: int | str, policy_version: str, *, duplicate: bool = False
) -> dict[str, Any]:
    """A raised whistle, as ``whistle raise --json`` prints it (straight to
    Temporal or through the API) and ``POST /cases`` answers: the case, its
    level's name, the policy it runs under, and whether the same keyed request
    had already raised it."""
    return {
        "case_id": case_id,
        "level": WhistleLevel.parse(level).label,
        "policy_version": policy_version,
        "duplicate": duplicate,
    }


def action_document(result: ActionResult) -> dict[str, Any]:
    return {
        "case_id": result.case_id,
        "level": str(result.level),
        "status": str(result.status),
        "duplicate": result.duplicate,
        "events": [event_document(e) for e in result.events],
    }
