"""The ceiling: a workflow that runs one activity, on the same server and worker settings."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

CEILING_QUEUE = "bench-ceiling"


@activity.defn(name="bench_noop")
def noop(value: int) -> int:
    return value


@workflow.defn(name="BenchTrivial")
class Trivial:
    @workflow.run
    async def run(self, value: int) -> int:
        result: int = await workflow.execute_activity(
            "bench_noop", value, start_to_close_timeout=timedelta(seconds=30)
        )
        return result
