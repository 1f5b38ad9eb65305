"""``whistle``: raise whistles, act on cases and run the engine."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from temporalio.client import Client
from temporalio.service import RPCError

from casework.cases import (
    ActionRejected,
    CaseAlreadyExists,
    CaseNotFound,
    act,
    new_action_id,
    raise_whistle,
    read_case,
)
from casework.connection import connect
from casework.views import action_document, case_document
from cli import output
from cli.admin import admin
from cli.audit import audit, stats_app
from cli.remote import Remote, action_request
from logs import configure_logging
from models.case import (
    Action,
    CaseStatus,
    Confirm,
    DecideExtension,
    Escalate,
    HoldJointMeeting,
    RaiseWhistle,
    Reopen,
    ReportIn,
    RequestExtension,
    SignOff,
    Withdraw,
)
from models.durations import parse_duration
from models.errors import PolicyError
from models.evidence import Evidence, check_evidence, parse_evidence_option
from models.levels import WhistleLevel
from models.policy import Policy
from models.rules import check_raise
from models.text_rules import RuleViolation
from policy.loader import load_policy, policy_document
from settings import Settings, get_settings
from store.engine import make_engine
from store.policies import activate_policy, policy_in_force
from store.reads import case_events, case_row_document, event_row_document, get_case, list_cases

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Durable whistle cases (吹哨报到): branches raise, departments report in and sign off.",
)

app.add_typer(admin, name="admin")
app.add_typer(audit, name="audit")
app.add_typer(stats_app, name="stats")

T = TypeVar("T")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
Department = Annotated[str, typer.Option("--department", "-d", help="Department code.")]
ActorOpt = Annotated[
    str, typer.Option("--actor", help="Who acts (name or id); recorded on the event.")
]
ApiOpt = Annotated[
    str | None,
    typer.Option("--api", envvar="WHISTLE_API_URL", help="Act through this whistle API URL."),
]
TokenOpt = Annotated[
    str | None,
    typer.Option("--token", envvar="WHISTLE_API_TOKEN", help="API token of the acting principal."),
]
ActionIdOpt = Annotated[
    str | None,
    typer.Option("--action-id", help="Idempotency key: repeating it records the action once."),
]
EvidenceOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--evidence",
        help="A photo or document by reference: https URL#sha256=HEX (repeatable).",
    ),
]


def _settings() -> Settings:
    settings = get_settings()
    configure_logging("WARNING" if settings.log_level.upper() == "INFO" else settings.log_level)
    return settings


def _run(work: Callable[[Client], Awaitable[T]]) -> T:
    """Connect, run ``work``, and turn failures into clear exits."""
    settings = _settings()

    async def go() -> T:
        try:
            client = await connect(settings)
        except RuntimeError as err:
            output.fail(
                f"cannot reach Temporal at {settings.temporal_address} "
                f"(namespace {settings.temporal_namespace}): {err}",
                output.EXIT_UNAVAILABLE,
            )
        return await work(client)

    try:
        return asyncio.run(go())
    except RuleViolation as err:
        output.fail(str(err), output.EXIT_BAD_INPUT)
    except (ActionRejected, CaseAlreadyExists) as err:
        output.fail(str(err), output.EXIT_REJECTED)
    except CaseNotFound as err:
        output.fail(str(err), output.EXIT_NOT_FOUND)
    except RPCError as err:
        output.fail(f"Temporal refused the call: {err.message}", output.EXIT_UNAVAILABLE)


def _duration(text: str, field: str) -> int:
    try:
        return parse_duration(text, field=field)
    except ValueError as err:
        output.fail(str(err), output.EXIT_BAD_INPUT)


def _evidence(values: list[str] | None) -> list[Evidence]:
    try:
        items = [parse_evidence_option(value) for value in values or []]
        check_evidence(items)
    except RuleViolation as err:
        output.fail(str(err), output.EXIT_BAD_INPUT)
    return items


def _policy_in_force(settings: Settings) -> Policy:
    """The policy last put in force (by ``whistle dev`` or ``whistle policy --apply``)."""
    engine = make_engine(settings.sqlalchemy_url())
    try:
        stored = policy_in_force(engine)
    finally:
        engine.dispose()
    if stored is not None:
        return stored
    try:
        return load_policy(settings.policy_file)
    except PolicyError as err:
        output.fail(str(err), output.EXIT_BAD_INPUT)


def _remote(api: str | None, token: str | None) -> Remote | None:
    if api is None:
        return None
    if not token:
        output.fail("token: --api needs --token (or WHISTLE_API_TOKEN)", output.EXIT_BAD_INPUT)
    return Remote(api, token)


def _act(case_id: str, action: Action, as_json: bool, remote: Remote | None = None) -> None:
    if remote is not None:
        path, body = action_request(action)
        document = remote.call("POST", f"/cases/{case_id}{path}", body, key=action.action_id)
    else:
        document = action_document(_run(lambda client: act(client, case_id, action)))
    if as_json:
        output.emit_json(document)
    else:
        output.print_action(document)


# --- engine ------------------------------------------------------------------


@app.command()
def dev(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the server and SQL files live.")
    ] = None,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="District policy file (TOML) over the default.")
    ] = None,
    port: Annotated[
        int, typer.Option("--port", help="Temporal gRPC port; the UI is port+1000.")
    ] = 7233,
    api_port: Annotated[
        int | None, typer.Option("--api-port", help="HTTP API port (default 8000).")
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Run two demo cases once started.")] = False,
) -> None:
    """Start the embedded Temporal dev server (SQLite) and a worker, until Ctrl-C."""
    from cli.dev import run_dev

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    try:
        policy = load_policy(policy_file or settings.policy_file)
    except PolicyError as err:
        output.fail(str(err), output.EXIT_BAD_INPUT)
    code = run_dev(
        settings,
        data_dir=(data_dir or settings.data_dir).expanduser().resolve(),
        port=port,
        api_port=api_port or settings.api_port,
        policy=policy,
        policy_source=str(policy_file or settings.policy_file or "default"),
        demo=demo,
    )
    raise typer.Exit(code)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option("--host", help="Default: WHISTLE_API_HOST.")] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Default: WHISTLE_API_PORT (8000).")
    ] = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) for the cluster and database in the settings."""
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    uvicorn.run(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_config=None,
    )


@app.command()
def worker() -> None:
    """Run a worker alone, for the cluster and database named by the settings."""
    from worker import main as run_worker_process

    raise typer.Exit(run_worker_process())


# --- branch ------------------------------------------------------------------


@app.command("raise")
def raise_(
    compound: Annotated[str, typer.Option("--compound", help="The compound (小区).")],
    level: Annotated[
        str, typer.Option("--level", help="publicity|emergency|enforcement|joint or 1-4.")
    ],
    category: Annotated[
        str, typer.Option("--category", help="Problem category; routes the departments.")
    ],
    title: Annotated[str, typer.Option("--title")],
    description: Annotated[str, typer.Option("--description")] = "",
    location: Annotated[str, typer.Option("--location")] = "",
    department: Annotated[
        list[str] | None,
        typer.Option("--department", "-d", help="Name departments instead of routing."),
    ] = None,
    raised_by: Annotated[
        str, typer.Option("--raised-by", help="Who blows the whistle.")
    ] = "branch",
    evidence: EvidenceOpt = None,
    case_id: Annotated[
        str | None,
        typer.Option(
            "--case-id",
            help="Choose the case id (a repeat is refused); with --api, an idempotency key.",
        ),
    ] = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Blow a whistle: start a case."""
    try:
        parsed_level = WhistleLevel.parse(level)
    except ValueError as err:
        output.fail(str(err), output.EXIT_BAD_INPUT)
    references = _evidence(evidence)
    remote = _remote(api, token)
    if remote is not None:  # the API records the acting branch as the raiser
        body = {
            "compound": compound,
            "level": parsed_level.label,
            "category": category,
            "title": title,
            "description": description,
            "location": location,
            "departments": list(department or []),
            "evidence": [asdict(item) for item in references],
        }
        document = remote.call("POST", "/cases", body, key=case_id)
        if as_json:
            output.emit_json(document)
        else:
            output.console.print(f"raised [bold]{document['case_id']}[/]", highlight=False)
        return
    settings = _settings()
    request = RaiseWhistle(
        compound=compound,
        level=parsed_level.value,
        category=category,
        title=title,
        description=description,
        location=location,
        raised_by=raised_by,
        departments=list(department or []),
        policy=_policy_in_force(settings),
        evidence=references,
    )
    try:
        check_raise(request)  # before connecting: bad input needs no server to be told
    except RuleViolation as err:
        output.fail(str(err), output.EXIT_BAD_INPUT)

    new_id = _run(
        lambda client: raise_whistle(
            client, request, task_queue=settings.task_queue, case_id=case_id
        )
    )
    if as_json:
        output.emit_json(
            {
                "case_id": new_id,
                "level": parsed_level.label,
                "policy_version": request.policy.version,
            }
        )
    else:
        output.console.print(f"raised [bold]{new_id}[/] ({parsed_level.label} whistle)")


@app.command()
def escalate(
    case_id: str,
    reason: Annotated[str, typer.Option("--reason")],
    actor: ActorOpt = "branch",
    action_id: ActionIdOpt = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Escalate a case by hand, one whistle up."""
    _act(
        case_id,
        Escalate(action_id=action_id or new_action_id(), actor=actor, reason=reason),
        as_json,
        _remote(api, token),
    )


@app.command()
def meeting(
    case_id: str,
    lead: Annotated[str, typer.Option("--lead", help="Lead department of the joint plan.")],
    attendee: Annotated[
        list[str] | None, typer.Option("--attendee", help="Defaults to the case's departments.")
    ] = None,
    decision: Annotated[str, typer.Option("--decision")] = "",
    task: Annotated[
        list[str] | None, typer.Option("--task", help="DEPARTMENT=TASK, one per department.")
    ] = None,
    deadline: Annotated[
        str | None, typer.Option("--deadline", help="Plan deadline, e.g. 5d.")
    ] = None,
    evidence: EvidenceOpt = None,
    actor: ActorOpt = "branch",
    action_id: ActionIdOpt = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Record the joint meeting (联席会议) and its plan, at the joint task force."""
    tasks: dict[str, str] = {}
    for item in task or []:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            output.fail(f"task: must be DEPARTMENT=TASK; got {item!r}", output.EXIT_BAD_INPUT)
        tasks[name.strip()] = text.strip()
    action = HoldJointMeeting(
        action_id=action_id or new_action_id(),
        actor=actor,
        lead=lead,
        attendees=list(attendee or []),
        decision=decision,
        tasks=tasks,
        deadline_seconds=_duration(deadline, "deadline") if deadline else None,
        evidence=_evidence(evidence),
    )
    _act(case_id, action, as_json, _remote(api, token))


@app.command()
def confirm(
    case_id: str,
    satisfaction: Annotated[int, typer.Option("--satisfaction", help="1 (worst) to 5 (best).")],
    note: Annotated[str, typer.Option("--note")] = "",
    actor: ActorOpt = "branch",
    action_id: ActionIdOpt = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Confirm the result with a satisfaction score: closes the case."""
    action = Confirm(
        action_id=action_id or new_action_id(), actor=actor, satisfaction=satisfaction, note=note
    )
    _act(case_id, action, as_json, _remote(api, token))


@app.command()
def reopen(
    case_id: str,
    reason: Annotated[str, typer.Option("--reason")],
    actor: ActorOpt = "branch",
    action_id: ActionIdOpt = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Reject the result (重办): the case goes back to be handled again."""
    _act(
        case_id,
        Reopen(action_id=action_id or new_action_id(), actor=actor, reason=reason),
        as_json,
        _remote(api, token),
    )


@app.command()
def withdraw(
    case_id: str,
    reason: Annotated[str, typer.Option("--reason")],
    actor: ActorOpt = "branch",
    action_id: ActionIdOpt = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Withdraw the whistle while the case is open."""
    _act(
        case_id,
        Withdraw(action_id=action_id or new_action_id(), actor=actor, reason=reason),
        as_json,
        _remote(api, token),
    )


# --- departments -----------------------------------------------------------------


@app.command("report-in")
def report_in(
    case_id: str,
    department: Department,
    actor: ActorOpt = "",
    action_id: ActionIdOpt = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """A department reports in (报到) on a case."""
    _act(
        case_id,
        ReportIn(action_id=action_id or new_action_id(), actor=actor, department=department),
        as_json,
        _remote(api, token),
    )


@app.command("sign-off")
def sign_off(
    case_id: str,
    department: Department,
    outcome: Annotated[str, typer.Option("--outcome", help="resolved | unresolved | not-ours")],
    reason: Annotated[str, typer.Option("--reason", help="For not-ours: a reason code.")] = "",
    note: Annotated[str, typer.Option("--note")] = "",
    evidence: EvidenceOpt = None,
    actor: ActorOpt = "",
    action_id: ActionIdOpt = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """A department signs off with its outcome."""
    action = SignOff(
        action_id=action_id or new_action_id(),
        actor=actor,
        department=department,
        outcome=outcome,
        reason=reason,
        note=note,
        evidence=_evidence(evidence),
    )
    _act(case_id, action, as_json, _remote(api, token))


@app.command()
def extend(
    case_id: str,
    department: Department,
    by: Annotated[str | None, typer.Option("--by", help="More time asked, e.g. 2d.")] = None,
    reason: Annotated[str, typer.Option("--reason")] = "",
    approve: Annotated[
        bool, typer.Option("--approve", help="Branch: grant the pending request.")
    ] = False,
    refuse: Annotated[
        bool, typer.Option("--refuse", help="Branch: refuse it (needs --reason).")
    ] = False,
    actor: ActorOpt = "",
    action_id: ActionIdOpt = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Ask for an extension (延期) with --by, or decide one with --approve/--refuse."""
    chosen = sum([by is not None, approve, refuse])
    if chosen != 1:
        output.fail("extend: give exactly one of --by, --approve, --refuse", output.EXIT_BAD_INPUT)
    action: Action
    if by is not None:
        action = RequestExtension(
            action_id=action_id or new_action_id(),
            actor=actor,
            department=department,
            seconds=_duration(by, "by"),
            reason=reason,
        )
    else:
        action = DecideExtension(
            action_id=action_id or new_action_id(),
            actor=actor or "branch",
            department=department,
            approve=approve,
            reason=reason,
        )
    _act(case_id, action, as_json, _remote(api, token))


# --- reading -------------------------------------------------------------------


@app.command()
def show(
    case_id: str, api: ApiOpt = None, token: TokenOpt = None, as_json: JsonFlag = False
) -> None:
    """A case: level, status, departments, deadlines and every event."""
    remote = _remote(api, token)
    if remote is not None:
        _print_case(remote.call("GET", f"/cases/{case_id}"), as_json)
        return

    async def work(client: Client) -> dict[str, Any]:
        try:
            return case_document(await read_case(client, case_id))
        except (CaseNotFound, RPCError):
            # Past the server's retention, or no worker to answer the query:
            # the SQL projection still has the case and its events.
            document = _projected_case(case_id)
            if document is None:
                raise
            return document

    _print_case(_run(work), as_json)


def _print_case(document: dict[str, Any], as_json: bool) -> None:
    if as_json:
        output.emit_json(document)
    else:
        output.print_case(document)


def _projected_case(case_id: str) -> dict[str, Any] | None:
    engine = make_engine(_settings().sqlalchemy_url())
    try:
        row = get_case(engine, case_id)
        if row is None:
            return None
        document = case_row_document(row)
        document["events"] = [event_row_document(e) for e in case_events(engine, case_id)]
        document["source"] = "projection"
        return document
    finally:
        engine.dispose()


@app.command()
def cases(
    status: Annotated[
        str | None, typer.Option("--status", help="Only cases in this status.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 200,
    api: ApiOpt = None,
    token: TokenOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """List cases from the SQL projection, newest first."""
    statuses = [s.value for s in CaseStatus]
    if status is not None and status not in statuses:
        output.fail(
            f"status: must be one of {', '.join(statuses)}; got {status!r}", output.EXIT_BAD_INPUT
        )
    remote = _remote(api, token)
    if remote is not None:
        query = f"?limit={limit}" + (f"&status={status}" if status else "")
        rows = remote.call("GET", f"/cases{query}")["cases"]
    else:
        engine = make_engine(_settings().sqlalchemy_url())
        try:
            rows = [case_row_document(r) for r in list_cases(engine, status=status, limit=limit)]
        finally:
            engine.dispose()
    if as_json:
        output.emit_json({"cases": rows})
    else:
        output.print_cases(rows)


@app.command()
def policy(
    apply: Annotated[
        Path | None, typer.Option("--apply", help="Check FILE and put it in force for new cases.")
    ] = None,
    check: Annotated[Path | None, typer.Option("--check", help="Only check FILE.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The merged policy in force (levels, departments, routing, return reasons)."""
    settings = _settings()
    if apply is not None or check is not None:
        path = apply or check
        try:
            chosen = load_policy(path)
        except PolicyError as err:
            output.fail(str(err), output.EXIT_BAD_INPUT)
        if apply is not None:
            engine = make_engine(settings.sqlalchemy_url())
            activate_policy(engine, chosen, source=str(apply))
            engine.dispose()
    else:
        chosen = _policy_in_force(settings)
    document = policy_document(chosen)
    if as_json:
        output.emit_json(document)
        return
    output.console.print(f"policy [bold]{chosen.version}[/]", highlight=False)
    from rich.table import Table

    from models.durations import format_duration

    table = Table("whistle", "report in", "resolve", "remind at", "extension cap")
    for name, rules in chosen.levels.items():
        table.add_row(
            name,
            format_duration(rules.report_in_seconds),
            format_duration(rules.resolve_seconds),
            f"{rules.remind_at:.0%}",
            format_duration(rules.extension_cap_seconds),
        )
    output.console.print(table)
    output.console.print(f"rules: {asdict(chosen.rules)}", highlight=False)
    routing = Table("category", "departments (first leads)")
    for category, names in chosen.routing.items():
        routing.add_row(category, ", ".join(names))
    output.console.print(routing)
    output.console.print("return reasons: " + ", ".join(chosen.return_reasons), highlight=False)


def main() -> None:
    """Entry point: run the command, then leave without interpreter teardown.

    The Temporal client's Rust threads can outlive the event loop, and CPython's
    finalization then aborts the process now and then (temporalio/sdk-python#300),
    turning a successful command into exit code -6. Everything is flushed first.
    """
    code = 0
    try:
        app()
    except SystemExit as done:
        if isinstance(done.code, str):
            sys.stderr.write(done.code + "\n")
            code = 1
        else:
            code = done.code or 0
    finally:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
