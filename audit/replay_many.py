"""Replay many histories at once, across processes: the check to run over every
archived case before deploying new workflow code."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from workflows.case import WhistleCase


@dataclass(frozen=True)
class ReplayOutcome:
    case_id: str
    failure: str | None
    """None: the current code reproduces the history's commands."""


async def replay_in_process(
    histories: Iterable[WorkflowHistory], workflow: type = WhistleCase
) -> list[ReplayOutcome]:
    """One replayer over all ``histories``, in order, through the current code of
    ``workflow``. Unsandboxed: replay detects non-determinism by comparing
    commands either way, and the sandbox's per-run module loading costs ~24 ms."""

    async def feed() -> AsyncIterator[WorkflowHistory]:
        for history in histories:
            yield history

    replayer = Replayer(workflows=[workflow], workflow_runner=UnsandboxedWorkflowRunner())
    outcomes = []
    async with replayer.workflow_replay_iterator(feed()) as results:
        async for result in results:
            failure = result.replay_failure
            outcomes.append(
                ReplayOutcome(
                    result.history.workflow_id,
                    None if failure is None else f"{type(failure).__name__}: {failure}",
                )
            )
    return outcomes


def _replay_chunk(chunk: list[tuple[str, str]]) -> list[ReplayOutcome]:
    histories = [WorkflowHistory.from_json(case_id, text) for case_id, text in chunk]
    return asyncio.run(replay_in_process(histories))


def _ready() -> bool:
    return True


class ParallelReplayer:
    """A pool of replaying processes (one per core by default), started once.

    Processes are spawned, not forked: a fork would copy the SDK's runtime
    threads mid-flight.
    """

    def __init__(self, processes: int | None = None) -> None:
        self.processes = max(1, processes or os.cpu_count() or 1)
        self._pool = ProcessPoolExecutor(
            self.processes, mp_context=multiprocessing.get_context("spawn")
        )

    async def start(self) -> None:
        """Import the workflow code in every process before the first replay."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(self._pool, _ready) for _ in range(self.processes))
        )

    async def replay(self, histories: list[WorkflowHistory]) -> list[ReplayOutcome]:
        """Outcomes in the order of ``histories``."""
        loop = asyncio.get_running_loop()
        payloads = [(h.workflow_id, h.to_json()) for h in histories]
        order = [list(range(len(payloads)))[i :: self.processes] for i in range(self.processes)]
        done = await asyncio.gather(
            *(
                loop.run_in_executor(self._pool, _replay_chunk, [payloads[n] for n in indices])
                for indices in order
            )
        )
        outcomes: list[ReplayOutcome | None] = [None] * len(payloads)
        for indices, chunk in zip(order, done, strict=True):
            for n, outcome in zip(indices, chunk, strict=True):
                outcomes[n] = outcome
        return [o for o in outcomes if o is not None]

    def close(self) -> None:
        self._pool.shutdown()

    async def __aenter__(self) -> ParallelReplayer:
        try:
            await self.start()
        except BaseException:
            self.close()
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()
