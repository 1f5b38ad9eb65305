"""Serve the API over real HTTP on loopback for the tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from sqlalchemy.engine import Engine
from temporalio.client import Client

from api.app import create_app
from settings import Settings
from store.principals import add_principal, issue_token
from tests.casekit import TASK_QUEUE
from tests.ports import free_port


@asynccontextmanager
async def serve_api(
    client: Client, engine: Engine, settings: Settings | None = None
) -> AsyncIterator[str]:
    """The API (and the workbench) on a free loopback port; yields its base URL."""
    app = create_app(settings or Settings(task_queue=TASK_QUEUE), engine=engine, client=client)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class Caller:
    """One principal's HTTP session."""

    name: str
    http: httpx.AsyncClient


def make_principals(engine: Engine, suffix: str) -> dict[str, str]:
    """Principals of every kind, and a token for each: role -> token."""
    specs: list[tuple[str, str, list[str], str | None]] = [
        ("admin", "admin", [], None),
        ("branch", "branch", ["Anningyuan"], None),
        ("other_branch", "branch", ["Xiangyang"], None),
        ("fire", "department", [], "fire_rescue"),
        ("police", "department", [], "police"),
        ("housing", "department", [], "housing"),
        ("auditor", "auditor", [], None),
    ]
    tokens = {}
    for role, kind, compounds, department in specs:
        name = f"{role.replace('_', '-')}-{suffix}"
        add_principal(engine, name=name, kind=kind, compounds=compounds, department=department)
        tokens[role] = issue_token(engine, name)[1]
    return tokens
