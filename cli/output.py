"""What commands print: one JSON document with --json, text for people otherwise.

Times are shown in the district's zone (the ``timezone`` setting,
``WHISTLE_TIMEZONE``, default ``Asia/Shanghai``), to the minute for deadlines;
JSON keeps ISO 8601 in UTC.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, tzinfo
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from engine.exits import (
    EXIT_BAD_INPUT,
    EXIT_FORBIDDEN,
    EXIT_NOT_FOUND,
    EXIT_REJECTED,
    EXIT_UNAVAILABLE,
    exit_code,
)
from models.case import CaseStatus
from models.errors import WhistleError
from settings import Settings

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FORBIDDEN",
    "EXIT_NOT_FOUND",
    "EXIT_REJECTED",
    "EXIT_UNAVAILABLE",
]

console = Console()
errors = Console(stderr=True)


def emit_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(message: str, code: int = EXIT_REJECTED) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def fail_for(error: WhistleError) -> NoReturn:
    """Leave with the error's message and its exit code (``engine.exits``)."""
    fail(str(error), exit_code(error))


def note(message: str) -> None:
    """A remark for people, on stderr: stdout stays for results."""
    errors.print(message, highlight=False, markup=False, soft_wrap=True)


# --- time ----------------------------------------------------------------------


def display_zone() -> tzinfo:
    """The district's zone (``WHISTLE_TIMEZONE``, one setting in ``settings.py``)."""
    try:
        return Settings().zone()
    except ValidationError as err:
        problem = err.errors()[0]
        fail(problem["msg"].removeprefix("Value error, "), EXIT_BAD_INPUT)


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_time(value: str | None, *, seconds: bool = False) -> str:
    """An ISO timestamp in the display zone: ``2026-11-30 06:06`` (or ``-``)."""
    if not value:
        return "-"
    moment = _moment(value).astimezone(display_zone())
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _rough(seconds: float) -> str:
    """A span to the minute, in at most two units: ``1d2h``, ``25m``, ``<1m``."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "<1m"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "m")) if n]
    return "".join(parts[:2])


def time_left(value: str, now: datetime | None = None) -> str:
    """``in 25m`` or ``overdue by 2h``."""
    delta = (_moment(value) - (now or datetime.now(UTC))).total_seconds()
    return f"in {_rough(delta)}" if delta >= 0 else f"overdue by {_rough(-delta)}"


# --- events and cases -----------------------------------------------------------


def event_line(event: dict[str, Any]) -> str:
    """One event for people: when, at which whistle, what, about whom, by whom."""
    detail = event.get("detail") or {}
    parts = [
        f"#{event['seq']:>3}",
        local_time(event["at"], seconds=True),
        f"{event['level']:<11}",
        event["kind"],
    ]
    if event["kind"] == "dispatched" and detail.get("departments"):
        departments = detail["departments"].replace(",", ", ")
        lead = f" (lead {detail['lead']})" if detail.get("lead") else ""
        parts.append(f"to {departments}{lead}")
    elif event.get("department"):
        parts.append(event["department"])
    if detail.get("outcome"):
        parts.append(detail["outcome"])
    if event.get("from_level"):
        parts.append(f"{event['from_level']} -> {event['to_level']}")
    if event.get("reason"):
        parts.append(f"({event['reason']})")
    parts.append(f"by {event['actor']}")
    return "  ".join(parts)


def print_action(document: dict[str, Any]) -> None:
    note_ = " (duplicate delivery: already recorded)" if document.get("duplicate") else ""
    console.print(
        f"case [bold]{document['case_id']}[/]: {document['level']} whistle, "
        f"{document['status']}{note_}",
        highlight=False,
    )
    for event in document["events"]:
        console.print("  " + event_line(event), highlight=False, markup=False, soft_wrap=True)


def print_case(document: dict[str, Any], now: datetime | None = None) -> None:
    zone = display_zone()
    console.print(
        f"[bold]{document['case_id']}[/]  {document['title']}\n"
        f"compound {document['compound']}  category {document['category']}  "
        f"policy {document['policy_version']}\n"
        f"[bold]{document['level']}[/] whistle, [bold]{document['status']}[/], "
        f"lead {document['lead'] or '-'}",
        highlight=False,
    )
    if document.get("source") == "projection":
        note("(from the SQL projection: no worker answered, or Temporal no longer holds the case)")
    table = Table("department", "reported in", "outcome", "task", "missed")
    for item in document["departments"]:
        table.add_row(
            item["department"],
            local_time(item["reported_in_at"]),
            _outcome(item),
            item["task"] or "",
            "-" if item["missed_deadlines"] is None else str(item["missed_deadlines"]),
        )
    console.print(table)
    open_case = CaseStatus(document["status"]).is_open
    for name, value in document["deadlines"].items():
        if not value:
            continue
        left = f"  {time_left(value, now)}" if open_case else ""
        console.print(
            f"deadline {name.replace('_', ' ')}: {local_time(value)} ({zone}){left}",
            highlight=False,
        )
    for event in document.get("events", []):
        console.print(event_line(event), highlight=False, markup=False, soft_wrap=True)


def print_cases(rows: list[dict[str, Any]]) -> None:
    """Each case in two lines, its whole id first (to copy), within the terminal's width."""
    if not rows:
        note("no cases match")
        return
    for row in rows:
        facts = f"{row['level']:<11}  {row['status']:<21}  {local_time(row['raised_at'])[5:]}"
        if len(row["case_id"]) + 2 + len(facts) <= console.width:
            lines = [f"{row['case_id']}  {facts}"]
        else:  # a long chosen id: whole on its own line
            lines = [row["case_id"], f"    {facts}"]
        for line in lines:
            console.print(line, highlight=False, markup=False, soft_wrap=True)
        console.print(
            f"    {row['compound']}: {row['title']}",
            highlight=False,
            markup=False,
            overflow="ellipsis",
            no_wrap=True,
        )


def _outcome(item: dict[str, Any]) -> str:
    """A unit's standing: its sign-off, a return awaiting review, or replaced."""
    if item.get("removed"):
        return "replaced"
    if item.get("return_requested_at"):
        return f"return asked ({item.get('return_reason') or '-'}), awaiting review"
    return str(item["outcome"] or "-")
