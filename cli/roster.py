"""``whistle roster``: the units' duty rosters (值班表), loaded from a file and shown."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from cli import output
from cli.options import JsonFlag
from notify.roster import RosterError, load_roster
from settings import get_settings
from store.engine import make_engine
from store.roster import roster_of, set_rosters

roster_app = typer.Typer(no_args_is_help=True, help="Duty rosters (值班表): who is on duty when.")


@roster_app.command("load")
def load(
    path: Annotated[Path, typer.Argument(help="A TOML file of [[shift]] (see notify/roster.py).")],
    as_json: JsonFlag = False,
) -> None:
    """Set the shifts of every unit the file names (their old shifts are replaced)."""
    try:
        shifts = load_roster(path)
    except RosterError as err:
        output.fail(str(err), output.EXIT_BAD_INPUT)
    engine = make_engine(get_settings().sqlalchemy_url())
    try:
        counts = set_rosters(engine, shifts, datetime.now(UTC))
    finally:
        engine.dispose()
    if as_json:
        output.emit_json({"units": counts})
        return
    for unit, count in counts.items():
        output.console.print(f"{unit}: {count} shifts", highlight=False)


@roster_app.command("show")
def show(
    unit: Annotated[
        str | None, typer.Argument(help="One unit's code; default: every unit.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """The shifts, by unit."""
    engine = make_engine(get_settings().sqlalchemy_url())
    try:
        shifts = roster_of(engine, unit)
    finally:
        engine.dispose()
    if as_json:
        output.emit_json({"shifts": [s.model_dump(by_alias=True) for s in shifts]})
        return
    if not shifts:
        output.note("no shifts")
        return
    table = Table("unit", "days", "from", "to", "name", "phone", "email", box=box.SIMPLE_HEAD)
    for s in shifts:
        table.add_row(
            s.unit, ",".join(s.days), s.starts, s.ends, s.name, s.phone or "", s.email or ""
        )
    output.console.print(table)
