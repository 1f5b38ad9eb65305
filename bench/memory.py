"""Worker memory per cached open case, and growth (``--sweep``): memory and
action round trips as open cases accumulate, on a fresh worker."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from rich.console import Console

from bench.stats import ms, rss_mib
from casework.cases import new_action_id
from models.case import ReportIn

if TYPE_CHECKING:
    from bench.stack import Stack

console = Console()


async def memory(stack: Stack, count: int) -> dict[str, Any]:
    before = await stack.fresh_worker()
    opened, _ = await stack.open_cases(count)
    after = rss_mib(stack.worker_pid)
    await stack.close_all(opened)
    return {
        "fresh_worker_rss_mib": round(before, 1),
        "worker_rss_mib_with_open_cases": round(after, 1),
        "open_cases": count,
        "kib_per_cached_open_case": round((after - before) * 1024 / count, 1),
    }


async def action_sample(stack: Stack, case_ids: list[str], samples: int) -> list[float]:
    drive = stack.driver()
    trips = []
    for case_id in case_ids[:samples]:
        started = time.perf_counter()
        await drive.do(case_id, ReportIn(action_id=new_action_id(), department="environment"))
        trips.append(time.perf_counter() - started)
    return trips


async def growth(stack: Stack, steps: list[int], samples: int) -> list[dict[str, Any]]:
    opened: list[str] = []
    rows = []
    base = await stack.fresh_worker()
    for target in steps:
        more = target - len(opened)
        ids, elapsed = await stack.open_cases(more)
        opened += ids
        trips = await action_sample(stack, ids, samples)
        rss = rss_mib(stack.worker_pid)
        row = {
            "open_cases": len(opened),
            "opened_per_second": round(more / elapsed, 1),
            "worker_rss_mib": round(rss, 1),
            "rss_kib_per_open_case": round((rss - base) * 1024 / len(opened), 1),
            "action_round_trip_ms": ms(trips),
        }
        rows.append(row)
        console.print(f"  growth: {json.dumps(row)}")  # partial results survive a long run
    await stack.close_all(opened)
    return rows
