"""Cases and events as JSON documents: what ``--json`` prints and the API returns."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from models.case import ActionResult, CaseEvent, CaseState


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def event_document(event: CaseEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "kind": event.kind,
        "at": _iso(event.at),
        "actor": event.actor,
        "level": event.level,
        "department": event.department,
        "from_level": event.from_level,
        "to_level": event.to_level,
        "reason": event.reason,
        "detail": dict(event.detail),
    }


def case_document(state: CaseState) -> dict[str, Any]:
    meeting = None
    if state.meeting is not None:
        meeting = {
            **asdict(state.meeting),
            "held_at": _iso(state.meeting.held_at),
            "deadline": _iso(state.meeting.deadline),
        }
    return {
        "case_id": state.case_id,
        "compound": state.compound,
        "category": state.category,
        "title": state.title,
        "description": state.description,
        "location": state.location,
        "raised_by": state.raised_by,
        "raised_at": _iso(state.raised_at),
        "level": state.level,
        "status": state.status,
        "lead": state.lead,
        "departments": [
            {
                "department": a.department,
                "dispatched_at": _iso(a.dispatched_at),
                "reported_in_at": _iso(a.reported_in_at),
                "outcome": a.outcome,
                "outcome_at": _iso(a.outcome_at),
                "in_plan": a.in_plan,
                "task": a.task or None,
                "missed_deadlines": a.missed_deadlines,
                "pending_extension_seconds": a.pending_extension_seconds or None,
            }
            for a in state.departments
        ],
        "deadlines": {
            "report_in": _iso(state.deadlines.report_in),
            "joint_meeting": _iso(state.deadlines.joint_meeting),
            "resolve": _iso(state.deadlines.resolve),
            "confirmation": _iso(state.deadlines.confirmation),
        },
        "meeting": meeting,
        "returns": state.returns,
        "redos": state.redos,
        "extension_granted_seconds": state.extension_granted_seconds,
        "satisfaction": state.satisfaction,
        "closing": state.closing,
        "policy_version": state.policy.version,
        "events": [event_document(e) for e in state.events],
    }


def action_document(result: ActionResult) -> dict[str, Any]:
    return {
        "case_id": result.case_id,
        "level": result.level,
        "status": result.status,
        "duplicate": result.duplicate,
        "events": [event_document(e) for e in result.events],
    }
