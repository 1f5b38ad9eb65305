"""Every recorded history replays on the current workflow code.

A change that alters the commands of recorded paths fails here; guard it with
``workflow.patched``. New paths are recorded with ``python -m tests.record_histories``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import (
    Interceptor,
    Replayer,
    StartActivityInput,
    UnsandboxedWorkflowRunner,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)
from temporalio.workflow import ActivityHandle

from models.case import CaseState, RaiseWhistle
from tests.scenarios import SCENARIOS
from workflows.case import WhistleCase

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*/*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))


def test_the_current_code_has_a_history_of_every_path() -> None:
    # imported here: this module is re-imported inside the workflow sandbox
    from audit.archive import code_version

    current = Path(__file__).parent / "histories" / code_version()
    assert current.is_dir(), f"record histories: python -m tests.record_histories ({current.name})"
    assert set(SCENARIOS) <= {path.stem for path in current.glob("*.json")}


@pytest.mark.parametrize("path", HISTORIES, ids=[f"{p.parent.name}/{p.stem}" for p in HISTORIES])
async def test_history_replays_deterministically(path: Path) -> None:
    result = await Replayer(workflows=[WhistleCase]).replay_workflow(
        load(path), raise_on_replay_failure=False
    )
    assert result.replay_failure is None, result.replay_failure


class _PublishedBatches(Interceptor):
    """Collects the argument of every activity the replayed workflow schedules."""

    def __init__(self) -> None:
        self.batches: list[Any] = []

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        batches = self.batches

        class Outbound(WorkflowOutboundInterceptor):
            def start_activity(self, input: StartActivityInput) -> ActivityHandle[Any]:
                batches.extend(input.args)
                return super().start_activity(input)

        class Inbound(WorkflowInboundInterceptor):
            def init(self, outbound: WorkflowOutboundInterceptor) -> None:
                super().init(Outbound(outbound))

        return Inbound


def _without_hashes(data: bytes) -> Any:
    batch = json.loads(data)
    for event in batch["events"]:
        event.pop("hash", None)
    return batch


@pytest.mark.parametrize("path", HISTORIES, ids=[f"{p.parent.name}/{p.stem}" for p in HISTORIES])
async def test_replay_publishes_the_recorded_events(path: Path) -> None:
    """Replay recomputes every published batch byte for byte: the same events,
    hashes, notifications and case row. Histories recorded before the ledger
    had hashes match apart from them."""
    text = path.read_text(encoding="utf-8")
    recorded = [
        event.activity_task_scheduled_event_attributes.input.payloads[0].data
        for event in load(path).events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert recorded
    case_id = json.loads(recorded[0])["summary"]["case_id"]  # the hashes cover it
    capture = _PublishedBatches()
    replayer = Replayer(
        workflows=[WhistleCase],
        interceptors=[capture],
        workflow_runner=UnsandboxedWorkflowRunner(),  # the capture lives outside any sandbox
    )
    result = await replayer.replay_workflow(
        WorkflowHistory.from_json(case_id, text), raise_on_replay_failure=False
    )
    assert result.replay_failure is None, result.replay_failure
    converter = DataConverter.default.payload_converter
    replayed = [converter.to_payloads([batch])[0].data for batch in capture.batches]
    if '"hash"' in recorded[0].decode("utf-8"):
        assert replayed == recorded
    else:
        assert [_without_hashes(b) for b in replayed] == [_without_hashes(b) for b in recorded]


@workflow.defn(name="WhistleCase")
class DriftedCase(WhistleCase):
    """The case with one extra command at its start: replay must refuse it."""

    @workflow.run
    async def run(self, request: RaiseWhistle) -> CaseState:
        await workflow.sleep(1)
        return await super().run(request)


async def test_replay_catches_a_changed_command_sequence() -> None:
    result = await Replayer(workflows=[DriftedCase]).replay_workflow(
        load(HISTORIES[0]), raise_on_replay_failure=False
    )
    assert result.replay_failure is not None


async def test_many_histories_replay_across_processes() -> None:
    """What ``whistle audit replay-archive`` runs: a drifted history is named, in order."""
    from audit.replay_many import ParallelReplayer

    histories = [load(path) for path in HISTORIES]
    text = HISTORIES[0].read_text(encoding="utf-8")
    drifted = WorkflowHistory.from_json(
        "drifted", text.replace('"name": "publish_case_changes"', '"name": "publish_twice"', 1)
    )
    async with ParallelReplayer(processes=2) as replayer:
        outcomes = await replayer.replay([*histories, drifted])
    assert [o.case_id for o in outcomes] == [h.workflow_id for h in histories] + ["drifted"]
    assert [o.case_id for o in outcomes if o.failure is not None] == ["drifted"]
    assert outcomes[-1].failure and "publish_twice" in outcomes[-1].failure
