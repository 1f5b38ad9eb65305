"""/healthz and /readyz on the API and the worker's HTTP port: ready when the
database and Temporal answer, 503 naming what does not otherwise; /metrics behind
its optional token."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from temporalio.client import Client

from engine.exits import EXIT_UNAVAILABLE
from observe import health
from observe.health import database_check, readiness, worker_check
from observe.sdk import HttpPortUnavailable
from observe.worker_http import serving, worker_app
from settings import Settings
from tests.apikit import serve_api
from tests.casekit import TASK_QUEUE
from tests.ports import free_port

ROOT = Path(__file__).parent.parent


def broken_engine(tmp_path: Path) -> Engine:
    """A database that cannot be opened: its directory does not exist."""
    return create_engine(f"sqlite:///{tmp_path / 'missing' / 'whistle.db'}")


async def unreachable_temporal() -> Client:
    """A client of a port where no server listens (lazy: it connects on first use)."""
    return await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)


@asynccontextmanager
async def worker_port(
    engine: Engine,
    client: Client,
    *,
    running: bool = True,
    token: str | None = None,
) -> AsyncIterator[str]:
    app = worker_app(
        engine=engine, client=client, is_running=lambda: running, sdk=None, metrics_token=token
    )
    port = free_port()
    async with serving(app, "127.0.0.1", port):
        yield f"http://127.0.0.1:{port}"


async def get(url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.get(url, headers=headers)


# --- the API ------------------------------------------------------------------


async def test_api_ready_when_all_is_up(api_url: str) -> None:
    assert (await get(f"{api_url}/healthz")).json() == {"status": "ok"}
    ready = await get(f"{api_url}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "temporal": "ok"}}


async def test_api_names_the_database_when_unreachable(client: Client, tmp_path: Path) -> None:
    async with serve_api(client, broken_engine(tmp_path)) as url:
        answer = await get(f"{url}/readyz")
        assert answer.status_code == 503
        assert answer.json()["unreachable"] == ["database"]
        assert answer.json()["checks"]["temporal"] == "ok"
        assert (await get(f"{url}/healthz")).status_code == 200  # alive all the same


async def test_api_names_temporal_when_unreachable(engine: Engine) -> None:
    async with serve_api(await unreachable_temporal(), engine) as url:
        answer = await get(f"{url}/readyz")
        assert answer.status_code == 503
        assert answer.json()["unreachable"] == ["temporal"]
        assert answer.json()["checks"]["database"] == "ok"


async def test_api_metrics_need_the_token_once_set(client: Client, engine: Engine) -> None:
    settings = Settings(task_queue=TASK_QUEUE, metrics_token="s3cret")
    async with serve_api(client, engine, settings) as url:
        assert (await get(f"{url}/metrics")).status_code == 401
        wrong = await get(f"{url}/metrics", {"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        scraped = await get(f"{url}/metrics", {"Authorization": "Bearer s3cret"})
        assert scraped.status_code == 200 and "whistle_http_requests_total" in scraped.text
        assert (await get(f"{url}/readyz")).status_code == 200  # probes carry no token


# --- the worker's port ----------------------------------------------------------


async def test_worker_ready_when_all_is_up(client: Client, engine: Engine) -> None:
    async with worker_port(engine, client) as url:
        assert (await get(f"{url}/healthz")).json() == {"status": "ok"}
        ready = await get(f"{url}/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "temporal": "ok", "worker": "ok"}
        scraped = await get(f"{url}/metrics")
        assert "whistle_projection_readable 1.0" in scraped.text
        assert 'whistle_cases_open{level="joint",status="joint_meeting"}' in scraped.text


async def test_worker_names_what_is_unreachable(client: Client, tmp_path: Path) -> None:
    async with worker_port(broken_engine(tmp_path), await unreachable_temporal()) as url:
        answer = await get(f"{url}/readyz")
        assert answer.status_code == 503
        assert answer.json()["unreachable"] == ["database", "temporal"]
        assert answer.json()["checks"]["worker"] == "ok"
        # The scrape still answers: the projection's gauges say they are unreadable.
        scraped = await get(f"{url}/metrics")
        assert scraped.status_code == 200
        assert "whistle_projection_readable 0.0" in scraped.text
        assert "whistle_cases_open" not in scraped.text


async def test_worker_not_ready_when_its_pollers_stop(client: Client, engine: Engine) -> None:
    async with worker_port(engine, client, running=False) as url:
        answer = await get(f"{url}/readyz")
        assert answer.status_code == 503 and answer.json()["unreachable"] == ["worker"]


async def test_worker_metrics_token(client: Client, engine: Engine) -> None:
    async with worker_port(engine, client, token="s3cret") as url:
        assert (await get(f"{url}/metrics")).status_code == 401
        scraped = await get(f"{url}/metrics", {"Authorization": "Bearer s3cret"})
        assert scraped.status_code == 200


async def test_a_taken_port_is_refused_not_fatal(client: Client, engine: Engine) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = worker_app(
            engine=engine, client=client, is_running=lambda: True, sdk=None, metrics_token=None
        )
        with pytest.raises(HttpPortUnavailable, match=str(port)):
            async with serving(app, "127.0.0.1", port):
                pass


def test_the_worker_exits_4_on_a_taken_port(client: Client, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **os.environ,
            "WHISTLE_TEMPORAL_ADDRESS": client.service_client.config.target_host,
            "WHISTLE_DATABASE_URL": f"sqlite:///{tmp_path / 'whistle.db'}",
            "WHISTLE_TASK_QUEUE": "whistle-health-taken-port",
            "WHISTLE_WORKER_HTTP_PORT": str(port),
            "WHISTLE_NOTIFIER_IN_WORKER": "false",
            "WHISTLE_LOG_LEVEL": "WARNING",
        }
        done = subprocess.run(
            [sys.executable, "worker.py"], env=env, cwd=ROOT, capture_output=True, timeout=120
        )
    assert done.returncode == EXIT_UNAVAILABLE, done.stderr
    assert f"worker cannot start: cannot serve HTTP on 127.0.0.1:{port}" in done.stderr.decode()


async def test_a_hanging_database_answers_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A connect that hangs: each probe answers "timeout" in time, and past a few
    hanging connects the probes start no more threads; once it answers, ready again."""
    monkeypatch.setattr(health, "CHECK_SECONDS", 0.1)
    hang = threading.Event()

    def connect() -> sqlite3.Connection:
        hang.wait(5)
        return sqlite3.connect(":memory:")

    checks = {"database": database_check(create_engine("sqlite://", creator=connect))}
    checks["worker"] = worker_check(lambda: True)
    for _ in range(health.IN_FLIGHT_MAX + 3):
        ready, document = await readiness(checks)
        assert not ready and document["checks"] == {"database": "timeout", "worker": "ok"}
    hanging = [t for t in threading.enumerate() if t.name == "whistle-readyz"]
    assert len(hanging) == health.IN_FLIGHT_MAX
    hang.set()
    for _ in range(50):
        if (await readiness(checks))[0]:
            break
        await asyncio.sleep(0.05)
    assert (await readiness(checks))[0]
