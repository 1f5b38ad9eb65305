"""Plans and time: the branch requests a joint meeting (联席会议) and the station
holds it and sets the plan; a unit asks for an extension (延期) and the station
decides it."""

from __future__ import annotations

from typing import Annotated

import typer

from casework.cases import new_action_id
from cli import output, support
from cli.options import (
    ActionIdOpt,
    ActorOpt,
    ApiOpt,
    DepartmentOpt,
    EvidenceOpt,
    JsonFlag,
    TokenOpt,
    branch_actor,
    department_actor,
)
from cli.remote import action_request
from cli.station import deliver, station_actor, units
from models.case import (
    Action,
    DecideExtension,
    HoldJointMeeting,
    RequestExtension,
    RequestJointMeeting,
)


def request_meeting(
    case_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why the units must meet.")],
    actor: ActorOpt = None,
    action_id: ActionIdOpt = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """The branch asks the street's station to convene a joint meeting (联席会议)."""
    action = RequestJointMeeting(
        action_id=action_id or new_action_id(), actor=branch_actor(actor), reason=reason
    )
    request = ("/joint-meeting-request", {"reason": reason})
    deliver(case_id, action, request, as_json, support.remote(api, token))


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
    actor: ActorOpt = None,
    action_id: ActionIdOpt = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """The station holds the joint meeting (联席会议) and sets its plan, at the joint task force."""
    tasks: dict[str, str] = {}
    for item in task or []:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            output.fail(f"task: must be DEPARTMENT=TASK; got {item!r}", output.EXIT_BAD_INPUT)
        tasks[name.strip()] = text.strip()
    codes = list(join or [])
    via = support.remote(api, token)
    action = HoldJointMeeting(
        action_id=action_id or new_action_id(),
        actor=station_actor(actor),
        lead=lead,
        attendees=list(attendee or []),
        join=[] if via else units(codes, "join"),
        decision=decision,
        tasks=tasks,
        deadline_seconds=support.duration(deadline, "deadline") if deadline else None,
        evidence=support.evidence(evidence),
    )
    path, body = action_request(action)
    deliver(case_id, action, (path, {**body, "join": codes}), as_json, via)


def extend(
    case_id: str,
    department: DepartmentOpt,
    by: Annotated[str | None, typer.Option("--by", help="More time asked, e.g. 2d.")] = None,
    reason: Annotated[str, typer.Option("--reason")] = "",
    approve: Annotated[
        bool, typer.Option("--approve", help="Station: grant the pending request.")
    ] = False,
    refuse: Annotated[
        bool, typer.Option("--refuse", help="Station: refuse it (needs --reason).")
    ] = False,
    actor: ActorOpt = None,
    action_id: ActionIdOpt = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """A unit asks for an extension (延期) with --by; the station decides it."""
    if sum([by is not None, approve, refuse]) != 1:
        output.fail("extend: give exactly one of --by, --approve, --refuse", output.EXIT_BAD_INPUT)
    action: Action
    if by is not None:
        action = RequestExtension(
            action_id=action_id or new_action_id(),
            actor=department_actor(actor, department),
            department=department,
            seconds=support.duration(by, "by"),
            reason=reason,
        )
    else:
        action = DecideExtension(
            action_id=action_id or new_action_id(),
            actor=station_actor(actor),
            department=department,
            approve=approve,
            reason=reason,
        )
    support.act_and_print(case_id, action, as_json, support.remote(api, token))
