"""``whistle notifier`` (the dispatcher on its own) and ``whistle notifications``
(what was delivered, what waits, what failed; failed ones sent again)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from cli import output
from cli.options import JsonFlag
from engine.signals import install_stop_signals
from logs import configure_logging
from notify.channels import ChannelsFileError
from notify.runner import dispatcher_for
from settings import get_settings
from store.deliveries import FAILED, ID_PREFIX_MIN, STATUSES
from store.delivery_outcomes import retry_failed
from store.delivery_reads import (
    counted_as,
    deliveries_by_status,
    delivery_document,
    list_deliveries,
    list_unsent,
    unsent_document,
)
from store.engine import make_engine

notifications_app = typer.Typer(
    invoke_without_command=True, help="Deliveries of notifications: pending, delivered, failed."
)


def notifier(as_json: JsonFlag = False) -> None:
    """Run the dispatcher alone (set WHISTLE_NOTIFIER_IN_WORKER=false on the workers).

    Several may run at once: each delivery is sent by one of them at a time."""
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json or as_json)
    engine = make_engine(settings.sqlalchemy_url())
    try:
        dispatcher = dispatcher_for(engine, settings)
    except ChannelsFileError as err:
        output.fail(str(err), output.EXIT_BAD_INPUT)
    if dispatcher is None:
        output.fail("no channels file: set WHISTLE_CHANNELS_FILE", output.EXIT_BAD_INPUT)

    async def serve() -> None:
        stop = asyncio.Event()
        install_stop_signals(stop)
        await dispatcher.run(stop)

    try:
        asyncio.run(serve())
    finally:
        engine.dispose()


@notifications_app.callback()
def notifications(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help=" | ".join(STATUSES))] = None,
    case: Annotated[str | None, typer.Option("--case", help="Only this case's.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
    as_json: JsonFlag = False,
) -> None:
    """The counts (pending, failed, delivered in the last 24 hours), then the latest
    deliveries (and notifications no channel had)."""
    if ctx.invoked_subcommand is not None:
        return
    if status is not None and status not in STATUSES:
        output.fail(
            f"status: must be one of {', '.join(STATUSES)}; got {status!r}", output.EXIT_BAD_INPUT
        )
    engine = make_engine(get_settings().sqlalchemy_url())
    try:
        counts = deliveries_by_status(engine)
        rows = list_deliveries(engine, status=status, case_id=case, limit=limit)
        unsent = [] if status or case else list_unsent(engine, limit)
    finally:
        engine.dispose()
    document: dict[str, Any] = {
        "counts": counts,
        "deliveries": [delivery_document(r) for r in rows],
        "unsent": [unsent_document(u) for u in unsent],
    }
    if as_json:
        output.emit_json(document)
        return
    output.console.print(
        " · ".join(f"{counted_as(name)} {count}" for name, count in counts.items()),
        highlight=False,
    )
    table = Table(
        "delivery", "case", "kind", "channel", "to", "status", "tries", "when", box=box.SIMPLE_HEAD
    )
    for item in document["deliveries"]:
        when = item["delivered_at"] or item["failed_at"] or item["next_attempt_at"]
        table.add_row(
            item["delivery_id"][:12],
            item["case_id"],
            item["kind"],
            item["channel"],
            item["recipient"],
            item["status"],
            str(item["attempts"]),
            output.local_time(when),
        )
    if rows:
        output.console.print(table)
    for item in document["deliveries"]:
        if item["status"] == FAILED:
            output.console.print(
                f"{item['delivery_id'][:12]}: {item['error']}", highlight=False, markup=False
            )
    for item in document["unsent"]:
        output.console.print(
            f"unsent {item['kind']} to {item['to']} ({item['case_id']}): {item['why']}",
            highlight=False,
            markup=False,
        )


@notifications_app.command("retry")
def retry(
    ids: Annotated[
        list[str], typer.Argument(help="Delivery ids or their first 8+ characters, or 'failed'.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Send failed deliveries again, with a fresh count of attempts."""
    short = [given for given in ids if given != "failed" and len(given) < ID_PREFIX_MIN]
    if short:
        output.fail(
            f"id: give at least {ID_PREFIX_MIN} characters of a delivery id; got {short[0]!r}",
            output.EXIT_BAD_INPUT,
        )
    engine = make_engine(get_settings().sqlalchemy_url())
    try:
        prefixes = None if "failed" in ids else ids
        count = retry_failed(engine, datetime.now(UTC), prefixes)
    finally:
        engine.dispose()
    if as_json:
        output.emit_json({"retried": count})
        return
    output.console.print(f"{count} failed deliveries queued again", highlight=False)
