"""Evidence travels as a reference (URL + SHA-256), is chained into the ledger,
and no valid input comes near Temporal's payload limits."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from audit.verify import verify_case
from casework.cases import ActionRejected, act, raise_whistle
from models import records, rules
from models.case import (
    Confirm,
    DecideExtension,
    Escalate,
    HoldJointMeeting,
    Reopen,
    ReportIn,
    RequestExtension,
    SignOff,
    Withdraw,
)
from models.evidence import EVIDENCE_MAX, URL_MAX, Evidence
from models.limits import MAX_DEPARTMENTS, PLAN_TASKS_MAX
from models.policy import Policy
from models.tables import CaseEventRecord
from models.text_rules import LONG_MAX, REASON_MAX, SHORT_MAX, TITLE_MAX
from policy.loader import parse_policy
from store.reads import case_events
from tests import scenarios
from tests.casekit import (
    TASK_QUEUE,
    aid,
    do,
    final_state,
    raise_case,
    raise_request,
    raised_cases,
    report_in,
)

PHOTO = Evidence(
    url="https://files.district.example/cases/2026/fire-lane.jpg",
    sha256="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    label="car in the fire lane, 07:10",
)
NOTICE = Evidence(
    url="https://files.district.example/cases/2026/tow-notice.pdf",
    sha256="60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
)


async def test_evidence_is_kept_by_reference_in_the_ledger(
    client: Client, engine: Engine, policy: Policy
) -> None:
    request = raise_request(policy)
    request.evidence = [PHOTO]
    case_id = await raise_whistle(client, request, task_queue=TASK_QUEUE, case_id=f"case-{aid()}")
    raised_cases.append((client, case_id))
    await report_in(client, case_id, "fire_rescue")
    signed = await do(
        client,
        case_id,
        SignOff(action_id=aid(), department="fire_rescue", outcome="resolved", evidence=[NOTICE]),
    )
    assert signed.events[0].detail["evidence.1"] == f"{NOTICE.sha256} {NOTICE.url}"

    rows = await _projected(engine, case_id, "signed_off")
    raised = json.loads(next(r for r in rows if r.kind == "raised").detail)
    assert raised["evidence.1"] == f"{PHOTO.sha256} {PHOTO.url} {PHOTO.label}"
    assert verify_case(engine, case_id).ok

    # A reference changed afterwards (another file's hash) breaks the chain at that event.
    with Session(engine) as session:
        row = session.exec(
            select(CaseEventRecord)
            .where(CaseEventRecord.case_id == case_id)
            .where(CaseEventRecord.kind == "signed_off")
        ).one()
        detail = json.loads(row.detail)
        detail["evidence.1"] = f"{'0' * 64} {NOTICE.url}"
        row.detail = json.dumps(detail)
        session.add(row)
        session.commit()
        seq = row.seq
    verdict = verify_case(engine, case_id)
    assert verdict.problem == f"event {seq} (signed_off): content does not match its hash"


async def _projected(engine: Engine, case_id: str, kind: str) -> list[CaseEventRecord]:
    for _ in range(200):
        rows = await asyncio.to_thread(case_events, engine, case_id)
        if any(r.kind == kind for r in rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"{kind} of {case_id} never reached the projection")


PAYLOAD_BUDGET = 256 * 1024
"""Temporal refuses payloads over 2 MiB by default and warns at 512 KiB."""


def test_the_largest_valid_inputs_stay_far_below_payload_limits() -> None:
    """Every text at its limit, in 3-byte characters, with the most evidence
    allowed, 30 departments (the most a whistle names) with the longest names."""
    wide = "证"  # encodes as \\uXXXX: six bytes each in JSON
    names = [f"department_{n}" for n in range(MAX_DEPARTMENTS)]
    policy = parse_policy(
        "[departments]\n" + "".join(f'{name} = "{wide * SHORT_MAX}"\n' for name in names),
        source="widest",
    )
    evidence = [
        Evidence(
            url="https://f.example/" + "p" * (URL_MAX - 18),
            sha256=f"{n:064x}",
            label=wide * SHORT_MAX,
        )
        for n in range(EVIDENCE_MAX)
    ]
    raised = raise_request(
        policy,
        title=wide * TITLE_MAX,
        description=wide * LONG_MAX,
        compound=wide * SHORT_MAX,
        departments=names,
        evidence=evidence,
    )
    rules.check_raise(raised)
    long, reason = wide * LONG_MAX, wide * REASON_MAX
    task = wide * (PLAN_TASKS_MAX // len(names))
    actions = [
        ReportIn(action_id="a" * 100, department=names[0], actor=wide * SHORT_MAX),
        SignOff(
            action_id="a",
            department=names[0],
            outcome="resolved",
            reason=reason,
            note=long,
            evidence=evidence,
        ),
        RequestExtension(action_id="a", department=names[0], seconds=86400, reason=reason),
        DecideExtension(action_id="a", department=names[0], approve=False, reason=reason),
        HoldJointMeeting(
            action_id="a",
            lead=names[0],
            attendees=names,
            decision=long,
            tasks=dict.fromkeys(names, task),
            evidence=evidence,
        ),
        Escalate(action_id="a", reason=reason),
        Confirm(action_id="a", satisfaction=5, note=long),
        Reopen(action_id="a", reason=reason),
        Withdraw(action_id="a", reason=reason),
    ]
    converter = DataConverter.default.payload_converter
    sizes = {
        type(item).__name__: converter.to_payloads([item])[0].ByteSize()
        for item in [raised, *actions]
    }
    assert max(sizes.values()) < PAYLOAD_BUDGET, sizes


async def test_a_case_record_stops_growing_before_temporal_limits(
    client: Client, policy: Policy
) -> None:
    """Refused extension requests, looped with the longest reasons, fill the
    record; then only confirming or withdrawing is accepted, and the case's
    whole state (its query answer and result) still fits in a payload."""
    case_id = await raise_case(client, policy)
    await report_in(client, case_id, "fire_rescue")
    reason = "证" * REASON_MAX
    loops = 0
    while loops < 1000:
        loops += 1
        try:
            await act(
                client,
                case_id,
                RequestExtension(
                    action_id=aid(), department="fire_rescue", seconds=60, reason=reason
                ),
            )
        except ActionRejected as err:
            assert "case: its record is full" in str(err)
            break
        await do(
            client,
            case_id,
            DecideExtension(
                action_id=aid(), department="fire_rescue", approve=False, reason=reason
            ),
        )
    assert 40 < loops < 1000
    await do(client, case_id, Withdraw(action_id=aid(), reason=reason))
    state = await final_state(client, case_id)
    assert state.status == "withdrawn"
    size = DataConverter.default.payload_converter.to_payloads([state])[0].ByteSize()
    assert records.CASE_RECORD_BUDGET < size < 2 * 1024 * 1024


async def test_each_step_of_a_joint_case_carries_its_references(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(client, await scenarios.joint_with_evidence(client, env, policy))
    referenced = {
        (e.kind, e.department): sorted(
            v.split()[1] for k, v in e.detail.items() if k.startswith("evidence.")
        )
        for e in state.events
        if any(k.startswith("evidence.") for k in e.detail)
    }
    files = "https://files.district.example/"
    assert referenced == {
        ("raised", None): [files + "shed-north.jpg", files + "shed-south.jpg"],
        ("joint_meeting_held", "urban_management"): [files + "minutes.pdf"],
        ("signed_off", "urban_management"): [files + "urban_management-record.pdf"],
        ("signed_off", "housing"): [files + "housing-record.pdf"],
    }
    assert state.status == "closed"
