"""``whistle audit`` (export, verify, replay) and ``whistle stats``."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from temporalio.client import WorkflowHistory

from audit.archive import archived_histories, load_archive
from audit.history import Step
from audit.replay import ReplayReport, fetch_history, replay_history
from audit.replay_many import ParallelReplayer, ReplayOutcome
from audit.stats import GROUPINGS, red_black, stats
from audit.verify import verify_all, verify_case
from casework.connection import connect
from cli import output
from models.durations import format_duration
from models.periods import current_quarter, quarter_bounds
from settings import get_settings
from store.engine import make_engine

audit = typer.Typer(no_args_is_help=True, help="Archive, ledger and replay, for auditors.")
stats_app = typer.Typer(
    invoke_without_command=True, help="Assessment: the three rates and more, from the ledger."
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@audit.command()
def export(
    case_id: str,
    out: Annotated[Path, typer.Option("--out", help="Where to write the history JSON.")],
) -> None:
    """Write a case's full Temporal history as JSON (from the archive, else from Temporal)."""
    settings = get_settings()
    engine = make_engine(settings.sqlalchemy_url())
    archived = load_archive(engine, case_id)
    engine.dispose()
    if archived is not None:
        history = archived[1]
    else:

        async def from_temporal() -> WorkflowHistory:
            client = await connect(settings)
            history, _ = await fetch_history(client, None, case_id)
            return history

        try:
            history = asyncio.run(from_temporal())
        except (LookupError, RuntimeError) as err:
            output.fail(str(err), output.EXIT_NOT_FOUND)
    out.write_text(history.to_json(), encoding="utf-8")
    output.console.print(f"wrote {len(history.events)} history events to {out}", highlight=False)


@audit.command()
def verify(
    case_id: Annotated[str | None, typer.Argument()] = None, as_json: JsonFlag = False
) -> None:
    """Check every hash chain and archive (or one case's); name the first broken link."""
    engine = make_engine(get_settings().sqlalchemy_url())
    try:
        verdicts = [verify_case(engine, case_id)] if case_id else verify_all(engine)
    finally:
        engine.dispose()
    broken = [v for v in verdicts if not v.ok]
    if as_json:
        output.emit_json(
            {
                "ok": not broken,
                "cases": [
                    {
                        "case_id": v.case_id,
                        "ok": v.ok,
                        "events": v.events,
                        "archived": v.archived,
                        "problem": v.problem,
                    }
                    for v in verdicts
                ],
            }
        )
    else:
        for v in verdicts:
            mark = "[green]ok[/]" if v.ok else f"[bold red]BROKEN[/] {v.problem}"
            archived = "archived" if v.archived else "open or not yet archived"
            output.console.print(f"{v.case_id}  {v.events} events, {archived}: {mark}")
        output.console.print(f"{len(verdicts)} cases checked, {len(broken)} broken")
    if broken:
        raise typer.Exit(1)


def _deadline(step: Step) -> str | None:
    s = step.after
    found = [d for d in (s.report_in_deadline, s.resolve_deadline, s.confirmation_deadline) if d]
    return min(found).isoformat() if found else None


def _report_document(report: ReplayReport) -> dict[str, Any]:
    return {
        "case_id": report.case_id,
        "source": report.source,
        "deterministic": report.deterministic,
        "failure": report.failure,
        "timeline": [
            {
                "seq": step.event.seq,
                "at": step.event.at.isoformat(),
                "level": step.event.level,
                "kind": step.event.kind,
                "actor": step.event.actor,
                "department": step.event.department,
                "reason": step.event.reason,
                "status": step.after.status,
                "deadline": _deadline(step),
            }
            for step in report.steps
        ],
        "ledger_checked": report.ledger_checked,
        "ledger_differences": report.ledger_differences,
    }


@audit.command()
def replay(
    case_id: Annotated[str | None, typer.Argument()] = None,
    history_file: Annotated[
        Path | None, typer.Option("--history", help="Replay a history JSON file, offline.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Re-run a history through the current workflow code and rebuild its timeline."""
    if (case_id is None) == (history_file is None):
        output.fail("give a CASE or --history FILE", output.EXIT_BAD_INPUT)
    settings = get_settings()

    async def run() -> ReplayReport:
        if history_file is not None:
            try:
                text = history_file.read_text(encoding="utf-8")
                history = WorkflowHistory.from_json(history_file.stem, text)
            except (OSError, ValueError) as err:
                output.fail(f"history: cannot read {history_file}: {err}", output.EXIT_BAD_INPUT)
            return await replay_history(history, source="file")
        assert case_id is not None
        engine = make_engine(settings.sqlalchemy_url())
        try:
            try:
                client = await connect(settings)
            except RuntimeError:
                client = None  # Temporal unreachable: the archive may still have it
            history, source = await fetch_history(client, engine, case_id)
            return await replay_history(history, source=source, engine=engine)
        finally:
            engine.dispose()

    try:
        report = asyncio.run(run())
    except LookupError as err:
        output.fail(str(err), output.EXIT_NOT_FOUND)
    document = _report_document(report)
    if as_json:
        output.emit_json(document)
    else:
        table = Table(
            "#", "at", "level", "status after", "deadline in force", "event", "actor", "reason"
        )
        for row in document["timeline"]:
            table.add_row(
                str(row["seq"]),
                row["at"][:19],
                row["level"],
                row["status"],
                (row["deadline"] or "-")[:19],
                row["kind"],
                row["actor"],
                row["reason"] or "",
            )
        output.console.print(table)
        verdict = (
            "deterministic" if report.deterministic else f"NOT deterministic: {report.failure}"
        )
        output.console.print(f"{report.case_id} from {report.source}: {verdict}", highlight=False)
        if report.ledger_checked:
            output.console.print(
                "ledger: matches the history"
                if not report.ledger_differences
                else "ledger differs:\n  " + "\n  ".join(report.ledger_differences),
                highlight=False,
            )
    if not report.deterministic or report.ledger_differences:
        raise typer.Exit(1)


@audit.command("replay-archive")
def replay_archive(
    processes: Annotated[
        int | None, typer.Option("--processes", min=1, help="Default: one per core.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Replay every archived history through the current workflow code.

    Run it before deploying a new version: a case it cannot replay would fail
    the moment a worker on the new code touched a case like it.
    """
    settings = get_settings()
    engine = make_engine(settings.sqlalchemy_url())

    async def run() -> tuple[int, list[ReplayOutcome], float]:
        count, failed = 0, []
        started = time.perf_counter()
        async with ParallelReplayer(processes) as replayer:
            for batch in archived_histories(engine):
                outcomes = await replayer.replay(batch)
                count += len(outcomes)
                failed += [o for o in outcomes if o.failure is not None]
        return count, failed, time.perf_counter() - started

    try:
        count, failed, seconds = asyncio.run(run())
    finally:
        engine.dispose()
    rate = count / seconds if seconds else 0.0
    if as_json:
        output.emit_json(
            {
                "replayed": count,
                "seconds": round(seconds, 2),
                "failures": [{"case_id": o.case_id, "failure": o.failure} for o in failed],
            }
        )
    else:
        for outcome in failed:
            output.console.print(f"[red]{outcome.case_id}[/]: {outcome.failure}", highlight=False)
        output.console.print(
            f"replayed {count} archived histories in {seconds:.1f} s ({rate:.0f}/s): "
            f"{len(failed)} not deterministic",
            highlight=False,
        )
    if failed:
        raise typer.Exit(1)


def _period(
    start: str | None, end: str | None, quarter: str | None
) -> tuple[datetime | None, datetime | None]:
    if quarter and (start or end):
        output.fail("give --quarter or --from/--to, not both", output.EXIT_BAD_INPUT)
    try:
        if quarter:
            return quarter_bounds(quarter)
        return (
            datetime.fromisoformat(start).replace(tzinfo=UTC) if start else None,
            datetime.fromisoformat(end).replace(tzinfo=UTC) if end else None,
        )
    except ValueError as err:
        output.fail(f"period: {err} (dates look like 2026-10-01)", output.EXIT_BAD_INPUT)


@stats_app.callback()
def stats_command(
    ctx: typer.Context,
    start: Annotated[str | None, typer.Option("--from", help="First day, 2026-10-01.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Day after the last, 2027-01-01.")] = None,
    quarter: Annotated[str | None, typer.Option("--quarter", help="e.g. 2026Q4")] = None,
    by: Annotated[str, typer.Option("--by", help="department | compound | level")] = "department",
    as_json: JsonFlag = False,
) -> None:
    """Response, resolution, satisfaction, return, redo and on-time rates; times; whistles."""
    if ctx.invoked_subcommand is not None:
        return
    if by not in GROUPINGS:
        output.fail(f"by: must be one of {', '.join(GROUPINGS)}; got {by!r}", output.EXIT_BAD_INPUT)
    first, last = _period(start, end, quarter)
    engine = make_engine(get_settings().sqlalchemy_url())
    try:
        document = stats(engine, start=first, end=last, by=by)
    finally:
        engine.dispose()
    if as_json:
        output.emit_json(document)
        return
    table = Table(
        by,
        "cases",
        "response",
        "resolution",
        "satisfaction",
        "return",
        "redo",
        "on time",
        "report in p90",
        "resolve p90",
        "whistles/compound",
    )
    for name, row in document["groups"].items():
        table.add_row(
            name,
            str(row["cases"]),
            *(
                _pct(row[r])
                for r in (
                    "response_rate",
                    "resolution_rate",
                    "satisfaction_rate",
                    "return_rate",
                    "redo_rate",
                    "on_time_completion_rate",
                )
            ),
            _duration(row["p90_report_in_seconds"]),
            _duration(row["p90_resolve_seconds"]),
            str(row["whistles_per_compound"] or "-"),
        )
    output.console.print(table)


@stats_app.command("red-black")
def red_black_command(
    quarter: Annotated[str | None, typer.Option("--quarter", help="Default: this quarter.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The quarter's red list (top three) and black list (bottom three) of departments."""
    chosen = quarter or current_quarter()
    first, last = _period(None, None, chosen)
    engine = make_engine(get_settings().sqlalchemy_url())
    try:
        lists = red_black(stats(engine, start=first, end=last)["groups"])
    finally:
        engine.dispose()
    if as_json:
        output.emit_json({"quarter": chosen, **lists})
        return
    for title, rows in (("red list 红榜", lists["red"]), ("black list 黑榜", lists["black"])):
        table = Table("department", "score", "response", "resolution", "satisfaction", title=title)
        for row in rows:
            table.add_row(
                row["department"],
                f"{row['score']:.2%}",
                _pct(row["response_rate"]),
                _pct(row["resolution_rate"]),
                _pct(row["satisfaction_rate"]),
            )
        output.console.print(table)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return format_duration(int(seconds)) or "0s"
