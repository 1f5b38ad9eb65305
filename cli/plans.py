"""Plans and time: the branch records the joint meeting (联席会议) and its plan;
a department asks for an extension (延期) and the branch decides it."""

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
from models.case import Action, DecideExtension, HoldJointMeeting, RequestExtension


def meeting(
    case_id: str,
    lead: Annotated[str, typer.Option("--lead", help="Lead department of the joint plan.")],
    attendee: Annotated[
        list[str] | None, typer.Option("--attendee", help="Defaults to the case's departments.")
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
    """Record the joint meeting (联席会议) and its plan, at the joint task force."""
    tasks: dict[str, str] = {}
    for item in task or []:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            output.fail(f"task: must be DEPARTMENT=TASK; got {item!r}", output.EXIT_BAD_INPUT)
        tasks[name.strip()] = text.strip()
    action = HoldJointMeeting(
        action_id=action_id or new_action_id(),
        actor=branch_actor(actor),
        lead=lead,
        attendees=list(attendee or []),
        decision=decision,
        tasks=tasks,
        deadline_seconds=support.duration(deadline, "deadline") if deadline else None,
        evidence=support.evidence(evidence),
    )
    support.act_and_print(case_id, action, as_json, support.remote(api, token))


def extend(
    case_id: str,
    department: DepartmentOpt,
    by: Annotated[str | None, typer.Option("--by", help="More time asked, e.g. 2d.")] = None,
    reason: Annotated[str, typer.Option("--reason")] = "",
    approve: Annotated[
        bool, typer.Option("--approve", help="Branch: grant the pending request.")
    ] = False,
    refuse: Annotated[
        bool, typer.Option("--refuse", help="Branch: refuse it (needs --reason).")
    ] = False,
    actor: ActorOpt = None,
    action_id: ActionIdOpt = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """A department asks for an extension (延期) with --by; the branch decides it."""
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
            actor=branch_actor(actor),
            department=department,
            approve=approve,
            reason=reason,
        )
    support.act_and_print(case_id, action, as_json, support.remote(api, token))
