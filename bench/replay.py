"""Replay of finished cases' histories: one replayer in this process, then a
process per core (what ``whistle audit replay-archive`` uses)."""

from __future__ import annotations

import time
from typing import Any

from temporalio.client import WorkflowHistory

from audit.replay_many import ParallelReplayer, replay_in_process


async def replay(histories: list[WorkflowHistory]) -> dict[str, Any]:
    started = time.perf_counter()
    outcomes = await replay_in_process(histories)
    one = time.perf_counter() - started
    async with ParallelReplayer() as pool:  # its start-up is not timed, as for one
        started = time.perf_counter()
        parallel = await pool.replay(histories)
        elapsed = time.perf_counter() - started
    return {
        "histories": len(histories),
        "one_process_histories_per_second": round(len(histories) / one, 1),
        "processes": pool.processes,
        "seconds": round(elapsed, 2),
        "histories_per_second": round(len(histories) / elapsed, 1),
        "failures": sum(o.failure is not None for o in parallel),
        "one_process_failures": sum(o.failure is not None for o in outcomes),
    }
