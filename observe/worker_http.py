"""The worker's HTTP port (``WHISTLE_WORKER_HTTP_PORT``): /metrics for Prometheus,
/healthz and /readyz for a load balancer or Kubernetes' probes.

A small Starlette app served by uvicorn in the worker's own event loop (both are
already dependencies of the API). Everything that blocks (SQL reads) runs in a
thread, so a scrape never holds up a workflow task.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterator

import uvicorn
from prometheus_client.registry import CollectorRegistry
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from temporalio.client import Client

from observe.collectors import ProjectionCollector
from observe.exposition import CONTENT_TYPE, allowed, render
from observe.health import database_check, readiness, temporal_check, worker_check
from observe.sdk import HttpPortUnavailable, SdkMetrics
from settings import Settings


def worker_app(
    *,
    engine: Engine,
    client: Client,
    is_running: Callable[[], bool],
    sdk: SdkMetrics | None,
    metrics_token: str | None,
) -> Starlette:
    projection = CollectorRegistry(auto_describe=True)
    projection.register(ProjectionCollector(engine))
    checks = {
        "database": database_check(engine),
        "temporal": temporal_check(client),
        "worker": worker_check(is_running),
    }

    async def metrics(request: Request) -> Response:
        if not allowed(request.headers.get("authorization"), metrics_token):
            return PlainTextResponse("a valid bearer token is needed\n", status_code=401)
        page = await asyncio.to_thread(render, projection)
        sdk_page = await sdk.text() if sdk is not None else ""
        return Response(page + sdk_page.encode(), media_type=CONTENT_TYPE)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        ready, document = await readiness(checks)
        return JSONResponse(document, status_code=200 if ready else 503)

    return Starlette(
        routes=[
            Route("/metrics", metrics),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ]
    )


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the worker's stop signal ends it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(app: Starlette, host: str, port: int) -> AsyncIterator[None]:
    """Serve ``app`` while the block runs; raises HttpPortUnavailable if it cannot."""
    # Bound here, not by uvicorn, which leaves the process (sys.exit) on a taken port.
    sock = _bind(host, port)
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise HttpPortUnavailable(f"cannot serve HTTP on {host}:{port}")
            await asyncio.sleep(0.02)
        yield
    finally:
        server.should_exit = True
        await task
        sock.close()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise HttpPortUnavailable(f"cannot serve HTTP on {host}:{port}: {err}") from None
    return sock


def worker_http(
    settings: Settings,
    *,
    engine: Engine,
    client: Client,
    is_running: Callable[[], bool],
    sdk: SdkMetrics | None,
) -> contextlib.AbstractAsyncContextManager[None]:
    """The worker's HTTP port while the block runs, if the settings ask for one."""
    if not settings.worker_http_port:
        return contextlib.nullcontext()
    app = worker_app(
        engine=engine,
        client=client,
        is_running=is_running,
        sdk=sdk,
        metrics_token=settings.metrics_token,
    )
    return serving(app, settings.worker_http_host, settings.worker_http_port)
