"""Plans and time: the branch requests a joint meeting (联席会议) and the station
holds it and sets the plan; a unit asks for an extension (延期) and the station
decides it."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import output, support
from cli.acting import Acting, acting
from cli.options import (
    DepartmentOpt,
    EvidenceOpt,
    branch_actor,
    department_actor,
    station_actor,
)
from models.case import (
    Action,
    DecideExtension,
    HoldJointMeeting,
    RequestExtension,
    RequestJointMeeting,
)


@acting
def request_meeting(
    case_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why the units must meet.")],
    *,
    on: Acting,
) -> None:
    """The branch asks the street's station to convene a joint meeting (联席会议)."""
    on.deliver(
        case_id,
        RequestJointMeeting(action_id=on.action_id, actor=branch_actor(on.actor), reason=reason),
    )


@acting
def meeting(
    case_id: str,
    lead: Annotated[str, typer.Option("--lead", help="Lead department of the joint plan.")],
    attendee: Annotated[
        list[str] | None, typer.Option("--attendee", help="Defaults to the case's departments.")
    ] = None,
    join: Annotated[
        list[str] | None,
        typer.Option("--join", help="A unit new to the case that the meeting brings in."),
    ] = None,
    decision: Annotated[str, typer.Option("--decision")] = "",
    task: Annotated[
        list[str] | None, typer.Option("--task", help="DEPARTMENT=TASK, one per department.")
    ] = None,
    deadline: Annotated[
        str | None, typer.Option("--deadline", help="Plan deadline, e.g. 5d.")
    ] = None,
    evidence: EvidenceOpt = None,
    *,
    on: Acting,
) -> None:
    """The station holds the joint meeting (联席会议) and sets its plan, at the joint task force."""
    tasks: dict[str, str] = {}
    for item in task or []:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            output.fail(f"task: must be DEPARTMENT=TASK; got {item!r}", output.EXIT_BAD_INPUT)
        tasks[name.strip()] = text.strip()
    plan = support.span(deadline, "deadline") if deadline else None
    action = HoldJointMeeting(
        action_id=on.action_id,
        actor=station_actor(on.actor),
        lead=lead,
        attendees=list(attendee or []),
        join=on.units(join, "join"),
        decision=decision,
        tasks=tasks,
        deadline_seconds=plan.seconds or None if plan else None,
        deadline_working_days=plan.working_days if plan else 0,
        evidence=support.evidence(evidence),
    )
    on.deliver(case_id, action)


@acting
def extend(
    case_id: str,
    department: DepartmentOpt,
    by: Annotated[
        str | None, typer.Option("--by", help="More time asked, e.g. 2d, or working days: 2wd.")
    ] = None,
    reason: Annotated[str, typer.Option("--reason")] = "",
    approve: Annotated[
        bool, typer.Option("--approve", help="Station: grant the pending request.")
    ] = False,
    refuse: Annotated[
        bool, typer.Option("--refuse", help="Station: refuse it (needs --reason).")
    ] = False,
    *,
    on: Acting,
) -> None:
    """A unit asks for an extension (延期) with --by; the station decides it."""
    if sum([by is not None, approve, refuse]) != 1:
        output.fail("extend: give exactly one of --by, --approve, --refuse", output.EXIT_BAD_INPUT)
    action: Action
    if by is not None:
        asked = support.span(by, "by")
        action = RequestExtension(
            action_id=on.action_id,
            actor=department_actor(on.actor, department),
            department=department,
            seconds=asked.seconds,
            working_days=asked.working_days,
            reason=reason,
        )
    else:
        action = DecideExtension(
            action_id=on.action_id,
            actor=station_actor(on.actor),
            department=department,
            approve=approve,
            reason=reason,
        )
    on.deliver(case_id, action)
