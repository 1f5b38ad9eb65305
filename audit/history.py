"""Read a case's own record out of a Temporal history: the batches it
published (events and the state after each) and its final result."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from models.case import CaseEvent, CaseState
from models.publication import PUBLISH_CASE_CHANGES, CaseChanges, CaseSummary

_converter = DataConverter.default.payload_converter


@dataclass(frozen=True)
class Step:
    """One event, with the state of the case once its batch was published."""

    event: CaseEvent
    after: CaseSummary


LOCAL_ACTIVITY_MARKER = "core_local_activity"


def published_batches(history: WorkflowHistory) -> list[CaseChanges]:
    """Every batch the case published, in order.

    Cases publish by local activity: its marker keeps the result, which is the
    batch itself. Histories from before that scheduled a regular activity,
    whose input is the batch.
    """
    batches = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            if attributes.activity_type.name == PUBLISH_CASE_CHANGES:
                (changes,) = _converter.from_payloads(attributes.input.payloads, [CaseChanges])
                batches.append(changes)
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if marker.marker_name != LOCAL_ACTIVITY_MARKER or "result" not in marker.details:
                continue
            (data,) = _converter.from_payloads(marker.details["data"].payloads, [dict])
            if data.get("activity_type") != PUBLISH_CASE_CHANGES:
                continue
            (changes,) = _converter.from_payloads(marker.details["result"].payloads, [CaseChanges])
            batches.append(changes)
    return batches


def timeline(history: WorkflowHistory) -> list[Step]:
    return [Step(e, batch.summary) for batch in published_batches(history) for e in batch.events]


def final_state(history: WorkflowHistory) -> CaseState | None:
    """The state the workflow returned, when it completed."""
    for event in reversed(history.events):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            payloads = event.workflow_execution_completed_event_attributes.result.payloads
            (state,) = _converter.from_payloads(payloads, [CaseState])
            assert isinstance(state, CaseState)
            return state
    return None
