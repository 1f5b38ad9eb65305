"""The stack under measurement: an embedded Temporal dev server (SQLite file, the
same pragmas as ``whistle dev``) and a worker process, in a scratch directory."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHistory

from bench.cases import BENCH_POLICY
from bench.stats import bounded, rss_mib
from casework.driver import CaseDriver, whistle
from engine.embedded import UI_PORT_OFFSET, EmbeddedTemporal, port_in_use
from models.tables import CaseRecord
from policy.loader import parse_policy
from store.engine import make_engine

TASK_QUEUE = "bench-cases"


def free_port_pair(start: int = 17233) -> int:
    port = start
    while port_in_use(port) or port_in_use(port + UI_PORT_OFFSET):
        port += 1
    return port


class Stack:
    def __init__(self, root: Path, concurrency: int, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.env = env or {}
        """More settings for the worker (a channels file...)."""
        self.concurrency = concurrency
        self.server = EmbeddedTemporal(root / "server", free_port_pair())
        self.db_url = f"sqlite:///{root / 'whistle.db'}"
        self.task_queue = TASK_QUEUE
        self.worker: subprocess.Popen[str] | None = None
        self.more_workers: list[subprocess.Popen[str]] = []
        """Workers beyond the first (``add_worker``), for the scale-out figures."""
        self.policy = parse_policy(BENCH_POLICY, source="bench")
        self.client: Client

    async def start(self) -> None:
        self.server.start()
        self.client = await self.server.connect()
        await self.start_worker()

    def driver(self) -> CaseDriver:
        return CaseDriver(self.client, self.task_queue)

    async def start_worker(self) -> None:
        self.worker = await self._spawn_worker()

    async def add_worker(self) -> None:
        """One more worker process on the same queue, server and database."""
        self.more_workers.append(await self._spawn_worker())

    async def _spawn_worker(self) -> subprocess.Popen[str]:
        env = {
            **os.environ,
            "WHISTLE_TEMPORAL_ADDRESS": self.server.address,
            "WHISTLE_DATABASE_URL": self.db_url,
            "WHISTLE_TASK_QUEUE": self.task_queue,
            "WHISTLE_LOG_LEVEL": "WARNING",
            **self.env,
        }
        with (self.root / "worker.log").open("a") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "bench.worker"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        assert worker.stdout is not None
        line = await asyncio.to_thread(worker.stdout.readline)
        if "ready" not in line:
            raise RuntimeError(f"bench worker did not start: see {self.root / 'worker.log'}")
        return worker

    def stop_worker(self) -> None:
        for worker in (self.worker, *self.more_workers):
            if worker is None:
                continue
            worker.terminate()
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
        self.worker = None
        self.more_workers = []

    async def fresh_worker(self) -> float:
        """A new worker process, warmed by one case; its RSS in MiB.

        Memory per case is measured from a fresh process: one that already ran
        the load reuses freed memory and its RSS hides what cached cases cost.
        """
        self.stop_worker()
        await self.start_worker()
        warm, _ = await self.open_cases(1)
        await self.close_all(warm)
        await asyncio.sleep(1.0)
        return rss_mib(self.worker_pid)

    def stop(self) -> None:
        self.stop_worker()
        self.server.stop()

    @property
    def worker_pid(self) -> int:
        assert self.worker is not None
        return self.worker.pid

    async def histories(self, case_ids: list[str]) -> list[WorkflowHistory]:
        async def one(case_id: str) -> WorkflowHistory:
            return await self.client.get_workflow_handle(case_id).fetch_history()

        return await bounded(32, [partial(one, c) for c in case_ids])

    async def open_cases(self, count: int) -> tuple[list[str], float]:
        """``count`` emergency cases waiting for report-in, each run and projected;
        their ids and the seconds it took."""
        drive = self.driver()
        request = whistle(self.policy, level="emergency", category="noise", title="bench")

        async def one() -> str:
            return await drive.raise_whistle(request)

        started = time.perf_counter()
        ids = await bounded(self.concurrency * 2, [one for _ in range(count)])
        await self.settled(ids)
        return ids, time.perf_counter() - started

    async def settled(self, case_ids: list[str], status: str | None = None) -> None:
        """Wait until the worker has run and projected every case (in ``status``):
        a start returns before the first task ran, and memory measured earlier
        misses cases; a withdrawal returns before the case has finished."""
        engine = make_engine(self.db_url)

        def projected() -> int:
            with Session(engine) as session:
                query = select(func.count()).where(col(CaseRecord.case_id).in_(case_ids))
                if status is not None:
                    query = query.where(CaseRecord.status == status)
                return int(session.exec(query).one())

        deadline = time.monotonic() + 600
        try:
            while await asyncio.to_thread(projected) < len(case_ids):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"cases not projected after 10 minutes: see {self.root}")
                await asyncio.sleep(0.2)
        finally:
            engine.dispose()

    async def close_all(self, case_ids: list[str]) -> None:
        drive = self.driver()

        async def one(case_id: str) -> None:
            await drive.withdraw(case_id, "bench done")

        await bounded(self.concurrency * 2, [partial(one, c) for c in case_ids])
        await self.settled(case_ids, status="withdrawn")
