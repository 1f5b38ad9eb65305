"""The Temporal SDK's own metrics (``temporal_*``: workflow and activity task
latencies, slots, sticky cache, requests to the server), served by its Prometheus
exporter on a loopback port that only the worker's /metrics reads, so that
operators scrape one port per worker."""

from __future__ import annotations

import socket
from functools import lru_cache

import httpx
import structlog
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from models.errors import EngineUnavailable

FETCH_SECONDS = 2.0
log = structlog.get_logger("whistle.observe")


class HttpPortUnavailable(EngineUnavailable):
    """A port of the worker's (its HTTP port, the SDK's exporter) cannot be bound."""


class SdkMetrics:
    """A runtime whose clients' metrics are exported at ``url``."""

    def __init__(self, runtime: Runtime, port: int) -> None:
        self.runtime = runtime
        self.url = f"http://127.0.0.1:{port}/metrics"

    async def text(self) -> str:
        """The exporter's page, or nothing if it does not answer (the rest still serves)."""
        try:
            async with httpx.AsyncClient(timeout=FETCH_SECONDS) as http:
                answer = await http.get(self.url)
                answer.raise_for_status()
        except httpx.HTTPError as err:
            log.warning("temporal sdk metrics unreadable", error=str(err))
            return ""
        page = answer.text
        return page if page.endswith("\n") or not page else page + "\n"


@lru_cache(maxsize=1)
def sdk_metrics() -> SdkMetrics:
    """One per process: the exporter binds its port once and lives as long as the
    runtime (a process that runs the worker twice, as tests do, reuses it)."""
    error: Exception | None = None
    for _ in range(5):  # another process may take the free port before the exporter binds it
        port = _free_port()
        try:
            config = PrometheusConfig(bind_address=f"127.0.0.1:{port}")
            return SdkMetrics(Runtime(telemetry=TelemetryConfig(metrics=config)), port)
        except Exception as err:  # the bridge raises a bare error on a taken port
            error = err
    raise HttpPortUnavailable(f"the Temporal SDK's metrics exporter could not bind: {error}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
