"""``whistle audit``: export, verify and replay case histories, for auditors."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from temporalio.client import WorkflowHistory

from audit.archive import archived_histories, load_archive
from audit.history import Step
from audit.replay import ReplayReport, fetch_history, replay_history
from audit.replay_many import ParallelReplayer, ReplayOutcome
from audit.verify import verify_all, verify_case
from casework.connection import connect
from cli import output
from cli.options import JsonFlag
from models.errors import EngineUnavailable, WhistleError
from settings import get_settings
from store.engine import make_engine

audit = typer.Typer(no_args_is_help=True, help="Archive, ledger and replay, for auditors.")


@audit.command()
def export(
    case_id: str,
    out: Annotated[Path, typer.Option("--out", help="Where to write the history JSON.")],
    as_json: JsonFlag = False,
) -> None:
    """Write a case's full Temporal history as JSON (from the archive, else from Temporal)."""
    settings = get_settings()
    engine = make_engine(settings.sqlalchemy_url())
    archived = load_archive(engine, case_id)
    engine.dispose()
    source = "archive"
    if archived is not None:
        history = archived[1]
    else:
        source = "temporal"

        async def from_temporal() -> WorkflowHistory:
            client = await connect(settings)
            history, _ = await fetch_history(client, None, case_id)
            return history

        try:
            history = asyncio.run(from_temporal())
        except WhistleError as err:
            output.fail_for(err)
    out.write_text(history.to_json(), encoding="utf-8")
    if as_json:
        output.emit_json(
            {"case_id": case_id, "out": str(out), "events": len(history.events), "source": source}
        )
    else:
        output.console.print(
            f"wrote {len(history.events)} history events to {out} (from the {source})",
            highlight=False,
        )


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
    broken = [v for v in verdicts if v.broken]
    pending = [v for v in verdicts if not v.projected]
    if as_json:
        output.emit_json(
            {
                "ok": not broken,
                "cases": [
                    {
                        "case_id": v.case_id,
                        "ok": v.ok,
                        "projected": v.projected,
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
            if not v.projected:
                output.console.print(
                    f"{v.case_id}  [yellow]not yet projected[/]: neither its case row nor "
                    "any event is in the projection yet (raised a moment ago, or no such case)"
                )
                continue
            mark = "[green]ok[/]" if v.ok else f"[bold red]BROKEN[/] {v.problem}"
            archived = "archived" if v.archived else "open or not yet archived"
            output.console.print(f"{v.case_id}  {v.events} events, {archived}: {mark}")
        summary = f"{len(verdicts)} cases checked, {len(broken)} broken"
        if pending:
            summary += f", {len(pending)} not yet projected"
        output.console.print(summary)
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
            except EngineUnavailable:
                client = None  # Temporal unreachable: the archive may still have it
            history, source = await fetch_history(client, engine, case_id)
            return await replay_history(history, source=source, engine=engine)
        finally:
            engine.dispose()

    try:
        report = asyncio.run(run())
    except WhistleError as err:
        output.fail_for(err)
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
