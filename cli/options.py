"""Options that many commands share, each defined once, and who acts by default.

Every command takes ``--json`` (:data:`JsonFlag`, defined here only): it prints
one JSON document; the long-running ``serve`` and ``worker`` log JSON lines
instead. Commands that act on a
case take ``--actor``, ``--action-id``, ``--api`` and ``--token``.

Who acts: an event records its actor. Through the API (``--api``) the actor is
the token's principal (``branch:anning``, ``department:fire``, ``station:s1``).
Straight on Temporal the CLI records the role it acts in: ``branch`` for a
branch's actions (raise, escalate, request-meeting, confirm, reopen, withdraw),
``department:CODE`` for a department's (report-in, sign-off, asking for an
extension) and ``station`` for the street station's (meeting, deciding an
extension, review-return, redispatch, supervise). ``--actor`` names someone
else; deadlines act as ``system``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from models.case import BRANCH, STATION

JsonFlag = Annotated[
    bool,
    typer.Option(
        "--json", help="Print one JSON document (serve and worker: log JSON lines instead)."
    ),
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
ActorOpt = Annotated[
    str | None,
    typer.Option(
        "--actor",
        help="Who acts, recorded on the event. Default: branch, department:CODE or station.",
    ),
]
EvidenceOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--evidence",
        help="A photo or document by reference: https URL#sha256=HEX (repeatable).",
    ),
]
DepartmentOpt = Annotated[str, typer.Option("--department", "-d", help="Department code.")]
ReasonOpt = Annotated[str, typer.Option("--reason")]


def branch_actor(actor: str | None) -> str:
    """Who a branch action names: ``--actor``, else ``branch``."""
    return actor or BRANCH


def department_actor(actor: str | None, department: str) -> str:
    """Who a department action names: ``--actor``, else ``department:CODE``."""
    return actor or f"department:{department.strip()}"


def station_actor(actor: str | None) -> str:
    """Who a station action names: ``--actor``, else ``station``."""
    return actor or STATION
