"""What commands print: one JSON document with --json, rich text otherwise."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from engine.exits import (
    EXIT_BAD_INPUT,
    EXIT_FORBIDDEN,
    EXIT_NOT_FOUND,
    EXIT_REJECTED,
    EXIT_UNAVAILABLE,
)

console = Console()
errors = Console(stderr=True)

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FORBIDDEN",
    "EXIT_NOT_FOUND",
    "EXIT_REJECTED",
    "EXIT_UNAVAILABLE",
]


def emit_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(message: str, code: int = EXIT_REJECTED) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def event_line(event: dict[str, Any]) -> str:
    parts = [
        f"#{event['seq']:>3}",
        event["at"][:19].replace("T", " "),
        event["level"],
        event["kind"],
    ]
    if event.get("department"):
        parts.append(event["department"])
    if event["detail"].get("outcome"):
        parts.append(event["detail"]["outcome"])
    if event.get("from_level"):
        parts.append(f"{event['from_level']} -> {event['to_level']}")
    if event.get("reason"):
        parts.append(f"({event['reason']})")
    parts.append(f"by {event['actor']}")
    return "  ".join(parts)


def print_action(document: dict[str, Any]) -> None:
    note = " (duplicate delivery: already recorded)" if document.get("duplicate") else ""
    console.print(
        f"case [bold]{document['case_id']}[/]: {document['level']} whistle, {document['status']}{note}",
        highlight=False,
    )
    for event in document["events"]:
        console.print("  " + event_line(event), highlight=False, markup=False)


def print_case(document: dict[str, Any]) -> None:
    console.print(
        f"[bold]{document['case_id']}[/]  {document['title']}\n"
        f"compound {document['compound']}  category {document['category']}  "
        f"[bold]{document['level']}[/] whistle  status [bold]{document['status']}[/]  "
        f"lead {document['lead'] or '-'}  policy {document['policy_version']}",
        highlight=False,
    )
    table = Table("department", "reported in", "outcome", "task", "missed")
    for item in document["departments"]:
        table.add_row(
            item["department"],
            (item["reported_in_at"] or "-")[:19],
            item["outcome"] or "-",
            item["task"] or "",
            str(item["missed_deadlines"]),
        )
    console.print(table)
    deadlines = {k: v for k, v in document["deadlines"].items() if v}
    for name, value in deadlines.items():
        console.print(f"deadline {name}: {value}", highlight=False)
    for event in document["events"]:
        console.print(event_line(event), highlight=False, markup=False)


def print_cases(rows: list[dict[str, Any]]) -> None:
    table = Table("case", "compound", "level", "status", "lead", "title", "raised")
    for row in rows:
        table.add_row(
            row["case_id"],
            row["compound"],
            row["level"],
            row["status"],
            row["lead"] or "-",
            row["title"],
            (row["raised_at"] or "")[:16],
        )
    console.print(table)
