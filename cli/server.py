"""Engine commands: ``whistle dev`` (the embedded Temporal dev server on SQLite,
a worker, the HTTP API and, on a fresh data directory, a demo, in one process
tree that Ctrl-C or SIGTERM stops cleanly), ``whistle serve`` (the HTTP API) and
``whistle worker``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import structlog
import typer
import uvicorn
from sqlalchemy.engine import Engine
from temporalio.client import Client

from casework.search_attributes import ensure_search_attributes
from cli import output
from cli.options import JsonFlag
from engine.embedded import UI_PORT_OFFSET, EmbeddedTemporal, port_in_use, set_retention
from engine.signals import install_stop_signals
from logs import configure_logging
from models.errors import PolicyError
from models.policy import Policy
from models.principals import PrincipalKind
from policy.loader import load_policy
from settings import Settings, get_settings
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
    as_json: bool = False,
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
        return asyncio.run(
            _serve(server, dev_settings, policy, demo, first_admin_token, as_json=as_json)
        )
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
    add_principal(engine, name="admin", kind=PrincipalKind.ADMIN.value)
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
    *,
    as_json: bool,
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
    # The server was started with them (engine.embedded); a data directory of an
    # older whistle, or a server still applying its flags, gets them here.
    await ensure_search_attributes(client, settings.temporal_namespace)
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
    _announce(server, settings, policy, first_admin_token, as_json=as_json)
    if demo:
        await _demo_once(client, settings, policy)
    stop_wait = asyncio.create_task(stop.wait())
    await asyncio.wait({worker_task, api_task, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    api.should_exit = True
    await api_task
    await worker_task  # re-raises if the worker died
    return 0


def _announce(
    server: EmbeddedTemporal,
    settings: Settings,
    policy: Policy,
    first_admin_token: str | None,
    *,
    as_json: bool,
) -> None:
    """Where everything is, once it all answers."""
    api_url = f"http://127.0.0.1:{settings.api_port}"
    token_file = server.data_dir / "admin.token"
    if as_json:
        output.emit_json(
            {
                "running": True,
                "temporal_address": server.address,
                "namespace": settings.temporal_namespace,
                "retention_days": settings.retention_days,
                "web_ui": server.ui_url,
                "api_url": api_url,
                "workbench_url": f"{api_url}/",
                "admin_token_file": str(token_file),
                "first_admin_token": first_admin_token,
                "database_url": settings.sqlalchemy_url(),
                "policy_version": policy.version,
                "data_dir": str(server.data_dir),
            }
        )
        return
    token_note = (
        f"  first admin token (also in {token_file}):\n    {first_admin_token}\n"
        if first_admin_token
        else f"  admin token: in {token_file} (from the first start)\n"
    )
    output.console.print(
        f"whistle dev is running\n"
        f"  Temporal       {server.address} (namespace {settings.temporal_namespace}, "
        f"retention {settings.retention_days}d)\n"
        f"  Web UI         {server.ui_url}\n"
        f"  HTTP API       {api_url} (OpenAPI at {api_url}/docs)\n"
        f"  workbench      {api_url}/ (sign in once given a password: "
        f"whistle admin set-password NAME)\n"
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


DEMO_MARKER = "demo.done"
"""In the data directory: the demo ran there once and is not run again."""


async def _demo_once(client: Client, settings: Settings, policy: Policy) -> None:
    """The demo cases, on a fresh data directory only: a restart resumes them instead
    of raising them again (which would count them twice in the statistics)."""
    marker = settings.data_dir / DEMO_MARKER
    if marker.exists():
        output.note(f"demo: already run on this data directory ({marker}); not raised again")
        return
    marker.write_text("the demo cases were raised here\n", encoding="utf-8")
    from cli.demo import run_demo

    try:
        await run_demo(client, settings.task_queue, policy)
    except Exception as err:  # the demo is a courtesy; the server keeps running
        output.errors.print(f"demo failed: {err}")


# --- commands --------------------------------------------------------------------


def dev(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the server and SQL files live.")
    ] = None,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="District policy file (TOML) over the default.")
    ] = None,
    port: Annotated[
        int, typer.Option("--port", help=f"Temporal gRPC port; the UI is port+{UI_PORT_OFFSET}.")
    ] = 7233,
    api_port: Annotated[
        int | None, typer.Option("--api-port", help="HTTP API port (default 8000).")
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Raise two demo cases, on a fresh data directory only.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Start the embedded Temporal dev server (SQLite) and a worker, until Ctrl-C."""
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    try:
        policy = load_policy(policy_file or settings.policy_file)
    except PolicyError as err:
        output.fail_for(err)
    code = run_dev(
        settings,
        data_dir=(data_dir or settings.data_dir).expanduser().resolve(),
        port=port,
        api_port=api_port or settings.api_port,
        policy=policy,
        policy_source=str(policy_file or settings.policy_file or "default"),
        demo=demo,
        as_json=as_json,
    )
    raise typer.Exit(code)


def serve(
    host: Annotated[str | None, typer.Option("--host", help="Default: WHISTLE_API_HOST.")] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Default: WHISTLE_API_PORT (8000).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) for the cluster and database in the settings."""
    from api.app import create_app

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json or as_json)
    uvicorn.run(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_config=None,
    )


def worker(as_json: JsonFlag = False) -> None:
    """Run a worker alone, for the cluster and database named by the settings."""
    from worker import main as run_worker_process

    raise typer.Exit(run_worker_process(log_json=as_json))
