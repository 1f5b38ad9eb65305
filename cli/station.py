"""The street's station: it reviews returns (退单审核), re-dispatches (改派) and
supervises (督办) cases, and reads the overdue board of a street. It holds the
joint meeting and decides extensions too (``cli.plans``: ``meeting``, ``extend``).

Straight on Temporal the CLI records the station as ``station`` (``--actor``
names someone else); through the API, the token's principal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import typer
from rich.table import Table

from cli import output, support
from cli.acting import Acting, acting
from cli.options import ApiOpt, JsonFlag, TokenOpt, station_actor
from models.case import Redispatch, ReviewReturn, Supervise
from models.limits import LIST_LIMIT_MAX
from store.board import board_document, overdue_board, street_scope
from store.engine import make_engine
from store.org import org_in_force

UnitOpt = Annotated[str, typer.Option("--unit", "-d", "--department", help="Unit code.")]


@acting
def review_return(
    case_id: str,
    unit: UnitOpt,
    approve: Annotated[
        bool, typer.Option("--approve/--refuse", help="Let the unit leave, or keep it.")
    ],
    reason: Annotated[str, typer.Option("--reason", help="Needed to refuse.")] = "",
    dispatch: Annotated[
        list[str] | None,
        typer.Option("--dispatch", help="On approval: a unit to dispatch instead (repeatable)."),
    ] = None,
    *,
    on: Acting,
) -> None:
    """Review a unit's return (退单审核): --approve (it leaves) or --refuse --reason R."""
    action = ReviewReturn(
        action_id=on.action_id,
        actor=station_actor(on.actor),
        department=unit,
        approve=approve,
        reason=reason,
        dispatch=on.units(dispatch, "dispatch"),
    )
    on.deliver(case_id, action)


@acting
def redispatch(
    case_id: str,
    add: Annotated[list[str], typer.Option("--add", help="A unit to dispatch (repeatable).")],
    reason: Annotated[str, typer.Option("--reason")],
    replace: Annotated[
        str | None, typer.Option("--replace", help="The unit that leaves, replaced by --add.")
    ] = None,
    *,
    on: Acting,
) -> None:
    """Re-dispatch a case (改派): add units, or replace one, at its current whistle."""
    action = Redispatch(
        action_id=on.action_id,
        actor=station_actor(on.actor),
        add=on.units(add, "add"),
        replace=replace,
        reason=reason,
    )
    on.deliver(case_id, action)


@acting
def supervise(
    case_id: str,
    note: Annotated[str, typer.Option("--note", help="What the units are pressed to do.")],
    *,
    on: Acting,
) -> None:
    """Supervise a case (督办) with a note to the units on it."""
    on.deliver(case_id, Supervise(action_id=on.action_id, actor=station_actor(on.actor), note=note))


def overdue(
    street: Annotated[
        str | None, typer.Option("--street", help="Only this street (a station: its own).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=LIST_LIMIT_MAX)] = LIST_LIMIT_MAX,
    api: ApiOpt = None,
    token: TokenOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """The overdue board: open cases past a deadline, most overdue first (local time)."""
    via = support.remote(api, token)
    if via is not None:
        query = {"limit": limit, **({"street": street} if street else {})}
        document = via.call("GET", f"/board/overdue?{urlencode(query)}")
    else:
        engine = make_engine(support.settings().sqlalchemy_url())
        try:
            org = org_in_force(engine)
            scope = support.checked(lambda: street_scope(org, street, field="street"))
            now = datetime.now(UTC)
            document = board_document(overdue_board(engine, scope, now, limit=limit), org, now)
        finally:
            engine.dispose()
    if as_json:
        output.emit_json(document)
    else:
        _print_board(document)


def _print_board(document: dict[str, Any]) -> None:
    rows = document["cases"]
    if not rows:
        output.note("no case is overdue")
        return
    zone = output.display_zone()
    now = datetime.fromisoformat(document["at"])
    # Case ids and times whole; the zone in the caption: on an 80-column terminal a long
    # header squeezed the date onto two lines and cut case ids short.
    table = Table(caption=f"times in {zone}")
    table.add_column("case", no_wrap=True, overflow="fold")
    table.add_column("compound", overflow="fold")
    table.add_column("whistle", no_wrap=True)
    table.add_column("missed", no_wrap=True)
    table.add_column("due", no_wrap=True)
    table.add_column("overdue", no_wrap=True)
    for row in rows:
        table.add_row(
            row["case_id"],
            row["compound"],
            row["level"],
            row["deadline"].replace("_", " "),
            output.local_time(row["due"]),
            output.time_left(row["due"], now).removeprefix("overdue by "),
        )
    output.console.print(table)
