"""``whistle stats``: the assessment (考核) rates, and the red and black lists."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from audit.ranking import check_kind, quarter_lists
from audit.stats import GROUPINGS, stats
from cli import output
from cli.options import JsonFlag
from cli.support import policy_now
from models.durations import format_duration
from models.errors import RuleViolation
from models.periods import Period, current_quarter, parse_period
from settings import get_settings
from store.credits import rebuild
from store.engine import make_engine

KindOption = Annotated[
    str | None,
    typer.Option("--kind", help="Only units of this department kind, e.g. police."),
]

stats_app = typer.Typer(
    invoke_without_command=True, help="Assessment: the three rates and more, from the ledger."
)


def _period(start: str | None, end: str | None, quarter: str | None) -> Period:
    try:
        return parse_period(start, end, quarter, zone=output.display_zone())
    except RuleViolation as err:
        output.fail_for(err)


def _period_text(document: dict[str, Any], quarter: str | None) -> str:
    """The period a report covers: the cases raised in it, in the district's time."""

    def when(value: str | None) -> str:
        return output.local_time(value) if value else ""

    first, last = when(document.get("from")), when(document.get("to"))
    named = f" {quarter}" if quarter else ""
    zone = f" {output.display_zone()}"
    if not first and not last:
        return "period: every case"
    if not last:
        return f"period{named}: raised from {first}{zone}"
    if not first:
        return f"period{named}: raised before {last}{zone}"
    return f"period{named}: raised {first} until {last}{zone}"  # fits 80 columns


@stats_app.callback()
def stats_command(
    ctx: typer.Context,
    start: Annotated[
        str | None,
        typer.Option("--from", help="First day (local midnight), 2026-10-01, or a time."),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Day after the last, 2027-01-01, or a time.")
    ] = None,
    quarter: Annotated[str | None, typer.Option("--quarter", help="e.g. 2026Q4")] = None,
    by: Annotated[str, typer.Option("--by", help=" | ".join(GROUPINGS))] = GROUPINGS[0],
    kind: KindOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Response, resolution, satisfaction, return, redo and on-time rates; times; whistles.

    Withdrawn cases are charged to no one; a case is resolved when the branch confirmed it."""
    if ctx.invoked_subcommand is not None:
        return
    if by not in GROUPINGS:
        output.fail(f"by: must be one of {', '.join(GROUPINGS)}; got {by!r}", output.EXIT_BAD_INPUT)
    first, last = _period(start, end, quarter)
    settings = get_settings()
    engine = make_engine(settings.sqlalchemy_url())
    try:
        if kind is not None:
            check_kind(kind, policy_now(settings))
        document = stats(engine, start=first, end=last, by=by, kind=kind)
    except RuleViolation as err:
        output.fail_for(err)
    finally:
        engine.dispose()
    if as_json:
        output.emit_json(document)
        return
    print_stats(document, quarter)


RATE_HEADERS = (
    ("response_rate", "respond"),
    ("resolution_rate", "resolve"),
    ("satisfaction_rate", "satisfy"),
    ("return_rate", "return"),
    ("redo_rate", "redo"),
    ("on_time_completion_rate", "on time"),
)
"""Each rate and its short header: the rates table fits 80 columns."""


def _table(*headers: str, title: str, names: list[str]) -> Table:
    table = Table(*headers, title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.columns[0].no_wrap = True
    table.columns[0].min_width = max(len(name) for name in names)  # never empty
    for column in table.columns[1:]:
        column.justify = "right"
    return table


def print_stats(document: dict[str, Any], quarter: str | None) -> None:
    """The period, then the rates and the times, in tables that fit 80 columns."""
    output.console.print(_period_text(document, quarter), highlight=False)
    groups = document["groups"]
    if not groups:
        output.note("no cases in this period")
        return
    by = document["by"]
    names = list(groups)
    rates = _table(by, "cases", *(header for _, header in RATE_HEADERS), title="rates", names=names)
    for name, row in groups.items():
        rates.add_row(name, str(row["cases"]), *(_pct(row[key]) for key, _ in RATE_HEADERS))
    output.console.print(rates)
    times = _table(
        by, "report in p90", "resolve p90", "whistles/compound", title="times", names=names
    )
    for name, row in groups.items():
        times.add_row(
            name,
            _duration(row["p90_report_in_seconds"]),
            _duration(row["p90_resolve_seconds"]),
            str(row["whistles_per_compound"] or "-"),
        )
    output.console.print(times)


@stats_app.command("red-black")
def red_black_command(
    quarter: Annotated[str | None, typer.Option("--quarter", help="Default: this quarter.")] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Rank only units of this kind, e.g. police.")
    ] = None,
    each_kind: Annotated[
        bool, typer.Option("--each-kind", help="A red and a black list for every kind.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """The quarter's red list (红榜) and black list (黑榜) of units, with the sample."""
    zone = output.display_zone()
    chosen = quarter or current_quarter(zone)
    settings = get_settings()
    engine = make_engine(settings.sqlalchemy_url())
    try:
        document = quarter_lists(
            engine, policy_now(settings), quarter=chosen, zone=zone, kind=kind, each_kind=each_kind
        )
    except RuleViolation as err:
        output.fail_for(err)
    finally:
        engine.dispose()
    if as_json:
        output.emit_json(document)
        return
    print_lists(document)


def print_lists(document: dict[str, Any]) -> None:
    """The period, the rules and the formula, then each pair of lists and its sample."""
    output.console.print(_period_text(document, document["quarter"]), highlight=False)
    output.console.print(
        f"ranked: units with at least {document['min_dispatches']} dispatches;"
        f" {document['list_size']} on each list",
        highlight=False,
    )
    output.console.print(document["formula"], highlight=False, markup=False)
    for lists in document["lists"]:
        among = f" ({lists['kind']})" if lists["kind"] else ""
        for title, rows in (("red list 红榜", lists["red"]), ("black list 黑榜", lists["black"])):
            names = [row["unit"] for row in rows] or ["unit"]
            headers = ("unit", "kind", "sample", "score", "respond", "resolve", "satisfy")
            table = _table(*headers, title=title + among, names=names)
            for row in rows:
                table.add_row(
                    row["unit"],
                    row["kind"],
                    str(row["dispatches"]),
                    f"{row['score']:.2%}",
                    _pct(row["response_rate"]),
                    _pct(row["resolution_rate"]),
                    _pct(row["satisfaction_rate"]),
                )
            output.console.print(table)
        output.console.print(
            f"sample{among}: ranked {len(lists['ranked'])}, left out {len(lists['left_out'])}",
            highlight=False,
        )
        for unit in lists["left_out"]:
            output.console.print(
                f"  left out: {unit['unit']} ({unit['kind']}), {unit['dispatches']} dispatches:"
                f" {unit['why']}",
                highlight=False,
                markup=False,
            )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return format_duration(int(seconds)) or "0s"


@stats_app.command("rebuild")
def rebuild_command(as_json: JsonFlag = False) -> None:
    """Recompute the assessment's credits from the ledger, after a restore or an upgrade.

    The projection keeps them as it writes; this is for a database whose events were
    put back some other way. Safe while whistle runs: a case is locked as it is credited."""
    settings = get_settings()
    engine = make_engine(settings.sqlalchemy_url())
    try:
        done = rebuild(engine, progress=lambda n: output.note(f"credited {n} cases…"))
    finally:
        engine.dispose()
    if as_json:
        output.emit_json({"credited": done})
        return
    output.console.print(f"credited {done} cases from the ledger", highlight=False)
