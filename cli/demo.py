"""A short demo for ``whistle dev --demo``: two cases through their whole life."""

from __future__ import annotations

from temporalio.client import Client

from casework.cases import act, new_action_id, raise_whistle, read_case
from casework.views import case_document
from cli import output
from models.case import (
    Confirm,
    DecideExtension,
    HoldJointMeeting,
    RaiseWhistle,
    Reopen,
    ReportIn,
    RequestExtension,
    SignOff,
)
from models.durations import parse_duration
from models.levels import WhistleLevel
from models.policy import Policy


async def run_demo(client: Client, task_queue: str, policy: Policy) -> None:
    fire_lane = await raise_whistle(
        client,
        RaiseWhistle(
            compound="Anningyuan",
            level=WhistleLevel.EMERGENCY.value,
            category="fire_lane",
            title="Car blocking the fire lane by building 3",
            location="Building 3",
            raised_by="branch secretary Li",
            policy=policy,
        ),
        task_queue=task_queue,
    )
    for department in ("fire_rescue", "police"):
        await act(client, fire_lane, ReportIn(action_id=new_action_id(), department=department))
    await act(
        client,
        fire_lane,
        SignOff(
            action_id=new_action_id(),
            department="fire_rescue",
            outcome="unresolved",
            reason="owner refuses to move the car",
        ),
    )
    for department in ("fire_rescue", "police"):
        await act(client, fire_lane, ReportIn(action_id=new_action_id(), department=department))
    await act(
        client,
        fire_lane,
        RequestExtension(
            action_id=new_action_id(),
            department="fire_rescue",
            seconds=parse_duration("1d", field="by"),
            reason="tow truck booked for tomorrow",
        ),
    )
    await act(
        client,
        fire_lane,
        DecideExtension(action_id=new_action_id(), department="fire_rescue", approve=True),
    )
    await act(
        client,
        fire_lane,
        SignOff(action_id=new_action_id(), department="fire_rescue", outcome="resolved"),
    )
    await act(
        client, fire_lane, Confirm(action_id=new_action_id(), satisfaction=4, note="lane clear")
    )

    structure = await raise_whistle(
        client,
        RaiseWhistle(
            compound="Anningyuan",
            level=WhistleLevel.ENFORCEMENT.value,
            category="illegal_structure",
            title="Illegal rooftop extension on building 7",
            raised_by="branch secretary Li",
            policy=policy,
        ),
        task_queue=task_queue,
    )
    await act(
        client,
        structure,
        SignOff(
            action_id=new_action_id(),
            department="urban_management",
            outcome="not-ours",
            reason="not_our_duty",
        ),
    )
    await act(
        client,
        structure,
        SignOff(
            action_id=new_action_id(),
            department="housing",
            outcome="not-ours",
            reason="not_our_duty",
        ),
    )
    await act(
        client,
        structure,
        HoldJointMeeting(
            action_id=new_action_id(),
            lead="urban_management",
            decision="demolish within 5 days; housing certifies the structure is illegal",
            tasks={"urban_management": "demolition", "housing": "certify illegality"},
            deadline_seconds=parse_duration("5d", field="deadline"),
        ),
    )
    for department in ("housing", "urban_management"):
        await act(
            client,
            structure,
            SignOff(action_id=new_action_id(), department=department, outcome="resolved"),
        )
    await act(
        client, structure, Reopen(action_id=new_action_id(), reason="debris left on the roof")
    )
    for department in ("housing", "urban_management"):
        await act(
            client,
            structure,
            SignOff(action_id=new_action_id(), department=department, outcome="resolved"),
        )
    await act(client, structure, Confirm(action_id=new_action_id(), satisfaction=5))

    for case_id in (fire_lane, structure):
        output.console.rule(f"demo case {case_id}")
        output.print_case(case_document(await read_case(client, case_id)))
    output.console.print(
        f"Try: whistle show {fire_lane}   |   whistle cases   |   whistle policy", highlight=False
    )
