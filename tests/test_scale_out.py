"""Scale out: two ``worker.py`` processes and two API processes (``whistle serve``)
against one Temporal server and one PostgreSQL. Whole cases are driven through
both APIs at once; one worker is SIGKILLed mid-load and never comes back. Every
case still closes, every event is projected once and in order, every chain
verifies, every unit was dispatched once.

A request that fails (a worker died under it, an API was busy) is sent again with
the same ``Idempotency-Key`` to the other API, as a client behind a load balancer
would: applied once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.api.enums.v1 import EventType

from audit.verify import verify_case
from engine.embedded import EmbeddedTemporal
from models.tables import NotificationRecord
from store.reads import case_events
from tests.apikit import make_principals
from tests.casekit import final_state
from tests.ports import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parent.parent
CASES = 24
AT_ONCE = 8
PATIENCE = 180.0
"""Seconds a request is retried before the test gives up on it."""


@dataclass
class Cluster:
    """One Temporal server, two workers and two APIs, on one PostgreSQL."""

    root: Path
    database_url: str
    queue: str = field(default_factory=lambda: f"scale-{uuid.uuid4().hex[:8]}")
    server: EmbeddedTemporal = field(init=False)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    apis: list[subprocess.Popen[bytes]] = field(default_factory=list)
    api_urls: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server = EmbeddedTemporal(self.root / "server", free_port())

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "WHISTLE_TEMPORAL_ADDRESS": self.server.address,
            "WHISTLE_DATABASE_URL": self.database_url,
            "WHISTLE_TASK_QUEUE": self.queue,
            "WHISTLE_DATA_DIR": str(self.root / "data"),
            "WHISTLE_LOG_LEVEL": "WARNING",
        }

    def _spawn(self, name: str, *command: str) -> subprocess.Popen[bytes]:
        with (self.root / f"{name}.log").open("ab") as log:
            return subprocess.Popen(command, env=self.env(), stdout=log, stderr=log, cwd=ROOT)

    def start(self) -> None:
        self.server.start()
        whistle = str(Path(sys.executable).parent / "whistle")
        for n in range(2):
            self.workers.append(self._spawn(f"worker{n}", sys.executable, "worker.py"))
            port = free_port()
            self.apis.append(self._spawn(f"api{n}", whistle, "serve", "--port", str(port)))
            self.api_urls.append(f"http://127.0.0.1:{port}")

    def kill_worker(self, n: int) -> None:
        self.workers[n].send_signal(signal.SIGKILL)
        self.workers[n].wait()

    def stop(self) -> None:
        for process in (*self.apis, *self.workers):
            if process.poll() is None:
                process.terminate()
        for process in (*self.apis, *self.workers):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.server.stop()


@pytest.fixture
def cluster(tmp_path: Path, own_pg_url: str, own_pg_engine: Engine) -> Iterator[Cluster]:
    running = Cluster(tmp_path, own_pg_url)
    try:
        running.start()
        yield running
    finally:
        running.stop()


class Callers:
    """Every principal's requests, spread over both APIs, retried on the other one."""

    def __init__(self, urls: list[str], tokens: dict[str, str]) -> None:
        self.http = [httpx.AsyncClient(base_url=url, timeout=30) for url in urls]
        self.tokens = tokens
        self.served: Counter[int] = Counter()
        self.turn = 0

    async def post(self, role: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {
            "Authorization": f"Bearer {self.tokens[role]}",
            "Idempotency-Key": uuid.uuid4().hex,
        }
        loop = asyncio.get_running_loop()
        give_up = loop.time() + PATIENCE
        self.turn += 1
        api = self.turn % 2
        while True:
            try:
                answer = await self.http[api].post(path, json=body, headers=headers)
                if answer.status_code in (200, 201):
                    self.served[api] += 1
                    result: dict[str, Any] = answer.json()
                    return result
                if answer.status_code < 500:  # a refusal is the test's failure, not a fault
                    raise AssertionError(f"{path}: {answer.status_code} {answer.text}")
            except httpx.TransportError:
                pass
            if loop.time() > give_up:
                raise AssertionError(f"{path} was never accepted")
            api = 1 - api  # the other API, as a load balancer would
            await asyncio.sleep(0.5)

    async def ready(self) -> None:
        for http in self.http:
            for _ in range(300):
                try:
                    answer = await http.get("/cases", headers=self._auth("auditor"))
                    if answer.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
            else:
                raise AssertionError(f"{http.base_url} never answered")

    def _auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def close(self) -> None:
        for http in self.http:
            await http.aclose()


@pytest_asyncio.fixture
async def callers(cluster: Cluster, own_pg_engine: Engine) -> AsyncIterator[Callers]:
    tokens = make_principals(own_pg_engine, f"so{uuid.uuid4().hex[:6]}")
    calling = Callers(cluster.api_urls, tokens)
    try:
        await calling.ready()
        yield calling
    finally:
        await calling.close()


async def life(callers: Callers, progress: Counter[str]) -> str:
    """A whole emergency case: raised, both units report in, the lead signs off, confirmed."""
    body = {
        "compound": "Anningyuan",
        "level": "emergency",
        "category": "fire_lane",
        "title": "Car on the fire lane",
    }
    case_id = str((await callers.post("branch", "/cases", body))["case_id"])
    progress["raised"] += 1
    for role in ("fire", "police"):
        await callers.post(role, f"/cases/{case_id}/report-in", {})
        progress["acted"] += 1
    await callers.post("fire", f"/cases/{case_id}/sign-off", {"outcome": "resolved"})
    await callers.post("branch", f"/cases/{case_id}/confirm", {"satisfaction": 5})
    return case_id


async def test_two_workers_two_apis_one_worker_killed(
    cluster: Cluster, callers: Callers, own_pg_engine: Engine
) -> None:
    progress: Counter[str] = Counter()
    gate = asyncio.Semaphore(AT_ONCE)

    async def one() -> str:
        async with gate:
            return await life(callers, progress)

    lives = [asyncio.create_task(one()) for _ in range(CASES)]
    while progress["acted"] < CASES // 2:  # mid-load: some cases moving, none all done
        for task in lives:
            if task.done() and task.exception():
                await task  # its error, as it was raised
        await asyncio.sleep(0.05)
    assert not all(task.done() for task in lives)
    cluster.kill_worker(0)
    case_ids = await asyncio.wait_for(asyncio.gather(*lives), timeout=PATIENCE * 2)

    assert len(set(case_ids)) == CASES
    assert callers.served[0] > 0 and callers.served[1] > 0  # both APIs carried the load
    assert cluster.workers[1].poll() is None  # the survivor carried the rest
    client = await cluster.server.connect()
    worked: set[str] = set()  # the pids whose workflow tasks the histories record
    for case_id in case_ids:
        async for event in client.get_workflow_handle(case_id).fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                worked.add(event.workflow_task_completed_event_attributes.identity.split("@")[0])
    assert {str(w.pid) for w in cluster.workers} <= worked  # the killed one had its share
    for case_id in case_ids:
        state = await final_state(client, case_id)
        assert state.status == "closed" and state.satisfaction == 5
        for _ in range(200):
            rows = case_events(own_pg_engine, case_id)
            if len(rows) == len(state.events):
                break
            await asyncio.sleep(0.1)
        assert [(r.seq, r.kind, r.hash) for r in rows] == [
            (e.seq, e.kind, e.hash) for e in state.events
        ]
        assert verify_case(own_pg_engine, case_id).ok
        with Session(own_pg_engine) as session:
            notes = session.exec(
                select(NotificationRecord).where(NotificationRecord.case_id == case_id)
            ).all()
        dispatches = Counter((n.level, n.department) for n in notes if n.kind == "dispatch")
        assert dispatches == Counter({("emergency", "fire_rescue"): 1, ("emergency", "police"): 1})
