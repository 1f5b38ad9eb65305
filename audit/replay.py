"""Replay a case's history through the current workflow code, rebuild its
timeline from the history itself, and hold it against the ledger."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from audit.archive import load_archive
from audit.history import Step, timeline
from audit.replay_many import replay_in_process
from casework.cases import translate
from models.errors import CaseNotFound
from models.tables import CaseEventRecord
from store.reads import case_events
from workflows.case import WhistleCase


@dataclass
class ReplayReport:
    case_id: str
    source: str
    """temporal, archive or file."""
    deterministic: bool
    failure: str | None
    steps: list[Step]
    ledger_differences: list[str] = field(default_factory=list)
    ledger_checked: bool = False


async def replay(history: WorkflowHistory, workflow: type = WhistleCase) -> tuple[bool, str | None]:
    """Whether the current workflow code (or ``workflow``) reproduces the history."""
    (outcome,) = await replay_in_process([history], workflow)
    return outcome.failure is None, outcome.failure


def ledger_differences(steps: list[Step], rows: list[CaseEventRecord]) -> list[str]:
    differences = []
    by_seq = {row.seq: row for row in rows}
    for step in steps:
        row = by_seq.pop(step.event.seq, None)
        if row is None:
            differences.append(f"event {step.event.seq} ({step.event.kind}) is not in the ledger")
        elif (row.kind, row.hash) != (step.event.kind, step.event.hash):
            differences.append(
                f"event {step.event.seq}: history says {step.event.kind}, "
                f"ledger says {row.kind} (hash {'same' if row.hash == step.event.hash else 'differs'})"
            )
    for seq in sorted(by_seq):
        differences.append(f"event {seq} ({by_seq[seq].kind}) is in the ledger, not in the history")
    return differences


async def replay_history(
    history: WorkflowHistory,
    *,
    source: str,
    engine: Engine | None = None,
    workflow: type = WhistleCase,
) -> ReplayReport:
    deterministic, failure = await replay(history, workflow)
    steps = timeline(history)
    report = ReplayReport(history.workflow_id, source, deterministic, failure, steps)
    if engine is not None:
        rows = await asyncio.to_thread(case_events, engine, history.workflow_id)
        report.ledger_differences = ledger_differences(steps, rows)
        report.ledger_checked = True
    return report


async def fetch_history(
    client: Client | None, engine: Engine | None, case_id: str
) -> tuple[WorkflowHistory, str]:
    """The case's history from Temporal, or from the archive once Temporal forgot it.

    Raises CaseNotFound when neither has it, EngineUnavailable when Temporal
    refuses for another reason.
    """
    if client is not None:
        try:
            return await client.get_workflow_handle(case_id).fetch_history(), "temporal"
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise translate(case_id, err) from None
    if engine is not None:
        archived = await asyncio.to_thread(load_archive, engine, case_id)
        if archived is not None:
            return archived[1], "archive"
    raise CaseNotFound(f"case: no history for {case_id!r} in Temporal or the archive")
