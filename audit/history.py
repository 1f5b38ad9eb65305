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


def published_batches(history: WorkflowHistory) -> list[CaseChanges]:
    """Every batch the case published, in order: the inputs of its publishing activity."""
    batches = []
    for event in history.events:
        if event.event_type != EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            continue
        attributes = event.activity_task_scheduled_event_attributes
        if attributes.activity_type.name == PUBLISH_CASE_CHANGES:
            (changes,) = _converter.from_payloads(attributes.input.payloads, [CaseChanges])
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
