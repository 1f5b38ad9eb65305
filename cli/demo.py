"""A short demo for ``whistle dev --demo``: two cases through their whole life."""

from __future__ import annotations

from temporalio.client import Client

from casework.driver import CaseDriver, whistle
from casework.views import case_document
from cli import output
from models.durations import parse_duration
from models.policy import Policy


async def run_demo(client: Client, task_queue: str, policy: Policy) -> None:
    drive = CaseDriver(client, task_queue)

    fire_lane = await drive.raise_whistle(
        whistle(
            policy,
            level="emergency",
            category="fire_lane",
            title="Car blocking the fire lane by building 3",
            location="Building 3",
            raised_by="branch secretary Li",
        )
    )
    await drive.report_in(fire_lane, "fire_rescue", "police")
    await drive.sign(fire_lane, "fire_rescue", "unresolved", "owner refuses to move the car")
    await drive.report_in(fire_lane, "fire_rescue", "police")
    await drive.extend(
        fire_lane,
        "fire_rescue",
        parse_duration("1d", field="by"),
        "tow truck booked for tomorrow",
    )
    await drive.sign(fire_lane, "fire_rescue")
    await drive.confirm(fire_lane, 4, note="lane clear")

    structure = await drive.raise_whistle(
        whistle(
            policy,
            level="enforcement",
            category="illegal_structure",
            title="Illegal rooftop extension on building 7",
            raised_by="branch secretary Li",
        )
    )
    for department in ("urban_management", "housing"):  # each return, approved by the station
        await drive.sign(structure, department, "not-ours", "not_our_duty")
        await drive.review_return(structure, department)
    await drive.joint_meeting(
        structure,
        lead="urban_management",
        decision="demolish within 5 days; housing certifies the structure is illegal",
        tasks={"urban_management": "demolition", "housing": "certify illegality"},
        deadline_seconds=parse_duration("5d", field="deadline"),
    )
    for department in ("housing", "urban_management"):
        await drive.sign(structure, department)
    await drive.reopen(structure, "debris left on the roof")
    for department in ("housing", "urban_management"):
        await drive.sign(structure, department)
    await drive.confirm(structure, 5)

    for case_id in (fire_lane, structure):
        output.console.rule(f"demo case {case_id}")
        output.print_case(case_document(await drive.state(case_id)))
    output.console.print(
        f"Try: whistle show {fire_lane}   |   whistle cases   |   whistle policy", highlight=False
    )
