"""``whistle dev``: the embedded Temporal dev server (SQLite), a worker, and
optionally a demo, in one process tree that Ctrl-C or SIGTERM stops cleanly."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import structlog
import uvicorn
from sqlalchemy.engine import Engine

from cli import output
from engine.embedded import EmbeddedTemporal, port_in_use, set_retention
from engine.signals import install_stop_signals
from models.policy import Policy
from settings import Settings
from store.engine import make_engine
from store.policies import activate_policy
from store.principals import add_principal, has_admin, issue_token

log = structlog.get_logger("whistle.dev")


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
    if port_in_use(api_port):
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
    from worker import run_worker

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
