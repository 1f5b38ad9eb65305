"""Every rule a case enforces: the action is refused with the rule's message,
and the history does not grow by a single event."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from casework.cases import ActionRejected, act, raise_whistle
from models import clock
from models.case import (
    Action,
    Confirm,
    DecideExtension,
    Escalate,
    HoldJointMeeting,
    Redispatch,
    Reopen,
    ReportIn,
    RequestExtension,
    RequestJointMeeting,
    ReviewReturn,
    SignOff,
    Supervise,
    UnitRef,
    Withdraw,
)
from models.evidence import Evidence
from models.policy import Policy
from models.text_rules import RuleViolation
from tests.casekit import (
    STATION_ACTOR,
    TASK_QUEUE,
    aid,
    do,
    final_state,
    history_length,
    raise_case,
    raise_request,
    report_in,
    sign,
    sleep_in_steps,
    state_of,
    update_events,
)

Setup = Callable[[Client, str], Awaitable[None]]


async def nothing(client: Client, case_id: str) -> None:
    return None


async def both_reported_in(client: Client, case_id: str) -> None:
    await report_in(client, case_id, "fire_rescue", "police")


async def awaiting_confirmation(client: Client, case_id: str) -> None:
    await both_reported_in(client, case_id)
    await sign(client, case_id, "fire_rescue")


async def closed(client: Client, case_id: str) -> None:
    await awaiting_confirmation(client, case_id)
    await do(client, case_id, Confirm(action_id=aid(), satisfaction=5))


async def lead_signed_unresolved_elsewhere(client: Client, case_id: str) -> None:
    await both_reported_in(client, case_id)
    await sign(client, case_id, "police", "resolved")


async def return_pending(client: Client, case_id: str) -> None:
    await both_reported_in(client, case_id)
    await sign(client, case_id, "police", "not-ours", reason="wrong_locality")


async def extension_pending(client: Client, case_id: str) -> None:
    await both_reported_in(client, case_id)
    await do(
        client,
        case_id,
        RequestExtension(action_id=aid(), department="fire_rescue", seconds=3600, reason="tow"),
    )


async def extension_used_up(client: Client, case_id: str) -> None:
    await both_reported_in(client, case_id)
    await do(
        client,
        case_id,
        RequestExtension(action_id=aid(), department="fire_rescue", seconds=20 * 3600, reason="x"),
    )
    await do(
        client, case_id, DecideExtension(action_id=aid(), department="fire_rescue", approve=True)
    )


LONG = "x" * 5000
SHA = "ab" * 32


PLAN = ["housing", "urban_management", "police", "fire_rescue", "environment"]


def signed_with(*evidence: Evidence) -> SignOff:
    return SignOff(
        action_id="a", department="fire_rescue", outcome="resolved", evidence=list(evidence)
    )


CASES: list[tuple[str, Setup, Action, str]] = [
    (
        "unknown department",
        nothing,
        ReportIn(action_id="", department="army"),
        "action_id: must not be empty",
    ),
    (
        "unknown department",
        nothing,
        ReportIn(action_id="a", department="army"),
        "department: 'army' is not assigned",
    ),
    (
        "unassigned department",
        nothing,
        ReportIn(action_id="a", department="housing"),
        "department: 'housing' is not assigned",
    ),
    (
        "second report-in",
        both_reported_in,
        ReportIn(action_id="a", department="police"),
        "has already reported in at the emergency whistle",
    ),
    (
        "sign-off before report-in",
        nothing,
        SignOff(action_id="a", department="fire_rescue", outcome="resolved"),
        "must report in before signing off",
    ),
    (
        "unknown outcome",
        both_reported_in,
        SignOff(action_id="a", department="fire_rescue", outcome="done"),
        "outcome: must be one of resolved, unresolved, not-ours",
    ),
    (
        "second sign-off",
        lead_signed_unresolved_elsewhere,
        SignOff(action_id="a", department="police", outcome="unresolved"),
        "has already signed off (resolved)",
    ),
    (
        "return without reason code",
        nothing,
        SignOff(action_id="a", department="police", outcome="not-ours", reason="busy"),
        "reason: a not-ours sign-off needs a reason code",
    ),
    (
        "return before report-in at the emergency whistle",
        nothing,
        SignOff(action_id="a", department="police", outcome="not-ours", reason="wrong_locality"),
        "outcome: at the emergency whistle a unit comes on site first: report in, "
        "then ask to return the case",
    ),
    (
        "second return request",
        return_pending,
        SignOff(action_id="a", department="police", outcome="not-ours", reason="duplicate"),
        "department: 'police' has a return awaiting the station's review",
    ),
    (
        "review with no return asked",
        both_reported_in,
        ReviewReturn(action_id="a", actor=STATION_ACTOR, department="police", approve=True),
        "department: 'police' has no return awaiting review",
    ),
    (
        "return refused without reason",
        return_pending,
        ReviewReturn(action_id="a", actor=STATION_ACTOR, department="police", approve=False),
        "reason: must not be empty",
    ),
    (
        "a unit sent instead on a refusal",
        return_pending,
        ReviewReturn(
            action_id="a",
            actor=STATION_ACTOR,
            department="police",
            approve=False,
            reason="stay",
            dispatch=[UnitRef(code="ps_2", kind="police")],
        ),
        "dispatch: names the unit to send instead; only with an approval",
    ),
    (
        "re-dispatch of a unit on the case",
        both_reported_in,
        Redispatch(
            action_id="a",
            actor=STATION_ACTOR,
            add=[UnitRef(code="police", kind="police")],
            reason="r",
        ),
        "add: 'police' is already on the case",
    ),
    (
        "supervision without a note",
        nothing,
        Supervise(action_id="a", actor=STATION_ACTOR, note=" "),
        "note: must not be empty",
    ),
    (
        "joint meeting asked awaiting confirmation",
        awaiting_confirmation,
        RequestJointMeeting(action_id="a", reason="r"),
        "the case awaits confirmation; reopen it instead",
    ),
    (
        "oversized note",
        both_reported_in,
        SignOff(action_id="a", department="fire_rescue", outcome="resolved", note=LONG),
        "note: must be at most 4000 characters",
    ),
    (
        "control characters",
        both_reported_in,
        SignOff(action_id="a", department="fire_rescue", outcome="resolved", reason="ok\x1b[31m"),
        "reason: must not contain control characters",
    ),
    (
        "score out of range",
        awaiting_confirmation,
        Confirm(action_id="a", satisfaction=6),
        "satisfaction: must be a whole number from 1 to 5",
    ),
    (
        "score zero",
        awaiting_confirmation,
        Confirm(action_id="a", satisfaction=0),
        "satisfaction: must be a whole number from 1 to 5",
    ),
    (
        "confirm before resolution",
        both_reported_in,
        Confirm(action_id="a", satisfaction=5),
        "only a resolved case awaiting confirmation",
    ),
    (
        "reopen without reason",
        awaiting_confirmation,
        Reopen(action_id="a", reason="  "),
        "reason: must not be empty",
    ),
    (
        "sign-off awaiting confirmation",
        awaiting_confirmation,
        SignOff(action_id="a", department="police", outcome="resolved"),
        "the case awaits the branch's confirmation",
    ),
    (
        "extension before report-in",
        nothing,
        RequestExtension(action_id="a", department="fire_rescue", seconds=60, reason="r"),
        "must report in before asking for more time",
    ),
    (
        "extension without reason",
        both_reported_in,
        RequestExtension(action_id="a", department="fire_rescue", seconds=60, reason=""),
        "reason: must not be empty",
    ),
    (
        "second pending extension",
        extension_pending,
        RequestExtension(action_id="a", department="fire_rescue", seconds=60, reason="r"),
        "already has an extension request pending",
    ),
    (
        "extension over the cap",
        extension_used_up,
        RequestExtension(action_id="a", department="fire_rescue", seconds=5 * 3600, reason="r"),
        "over the policy's cap of 1d",
    ),
    (
        "decision with nothing pending",
        both_reported_in,
        DecideExtension(action_id="a", department="fire_rescue", approve=True),
        "has no extension request pending",
    ),
    (
        "refusal without reason",
        extension_pending,
        DecideExtension(action_id="a", department="fire_rescue", approve=False),
        "reason: a refusal needs a reason",
    ),
    (
        "joint meeting below joint",
        both_reported_in,
        HoldJointMeeting(action_id="a", lead="police"),
        "a joint meeting is held at the joint task force",
    ),
    (
        "escalate without reason",
        nothing,
        Escalate(action_id="a", reason=""),
        "reason: must not be empty",
    ),
    (
        "escalate awaiting confirmation",
        awaiting_confirmation,
        Escalate(action_id="a", reason="r"),
        "reopen it instead of escalating",
    ),
    (
        "withdraw without reason",
        nothing,
        Withdraw(action_id="a", reason=""),
        "reason: must not be empty",
    ),
    (
        "oversized reason",
        nothing,
        Withdraw(action_id="a", reason=LONG),
        "reason: must be at most 1000 characters",
    ),
    (
        "evidence over plain http",
        both_reported_in,
        signed_with(Evidence(url="http://files.example/p.jpg", sha256=SHA)),
        r"evidence\[0\]\.url: must be an https:// address",
    ),
    (
        "evidence as a local file",
        both_reported_in,
        signed_with(Evidence(url="file:///etc/passwd", sha256=SHA)),
        r"evidence\[0\]\.url: must be an https:// address",
    ),
    (
        "evidence url with credentials",
        both_reported_in,
        signed_with(Evidence(url="https://u:p@files.example/p.jpg", sha256=SHA)),
        "must not carry credentials",
    ),
    (
        "evidence hash not a sha-256",
        both_reported_in,
        signed_with(Evidence(url="https://files.example/p.jpg", sha256="abc")),
        r"evidence\[0\]\.sha256: must be 64 lowercase hex digits",
    ),
    (
        "the same file twice",
        both_reported_in,
        signed_with(
            Evidence(url="https://files.example/a.jpg", sha256=SHA),
            Evidence(url="https://mirror.example/a.jpg", sha256=SHA),
        ),
        r"evidence\[1\]\.sha256: the same file is referenced twice",
    ),
    (
        "too much evidence",
        both_reported_in,
        signed_with(
            *(Evidence(url=f"https://f.example/{n}", sha256=f"{n:064x}") for n in range(11))
        ),
        "evidence: at most 10 references; got 11",
    ),
    (
        "evidence inside the payload",
        both_reported_in,
        signed_with(Evidence(url="https://f.example/p?" + "A" * 3000, sha256=SHA)),
        "url: must be at most 2000 characters",
    ),
]


@pytest.mark.parametrize(
    ("setup", "action", "message"),
    [pytest.param(s, a, m, id=f"{n}-{i}") for i, (n, s, a, m) in enumerate(CASES)],
)
async def test_rejected_action_changes_nothing(
    dev_client: Client, policy: Policy, setup: Setup, action: Action, message: str
) -> None:
    client = dev_client
    case_id = await raise_case(client, policy, level="emergency", category="fire_lane")
    await setup(client, case_id)
    before_state = await state_of(client, case_id)
    before = await history_length(client, case_id)
    with pytest.raises(ActionRejected, match=message.replace("(", r"\(").replace(")", r"\)")):
        await act(client, case_id, action)
    assert await history_length(client, case_id) == before
    assert await state_of(client, case_id) == before_state


async def test_joint_rules(dev_client: Client, policy: Policy) -> None:
    client = dev_client
    case_id = await raise_case(client, policy, level="joint", category="illegal_structure")
    before = await history_length(client, case_id)
    refused = [
        (
            SignOff(action_id="a", department="housing", outcome="not-ours", reason="not_our_duty"),
            "not-ours is not accepted at the joint task force",
        ),
        (Escalate(action_id="a", reason="r"), "the highest whistle"),
        (
            HoldJointMeeting(action_id="a", lead="police", attendees=["housing"]),
            "lead: 'police' must be among the attendees",
        ),
        (
            HoldJointMeeting(action_id="a", lead="army", attendees=["army"]),
            "attendees: 'army' is neither on the case nor a department of the policy",
        ),
        (
            HoldJointMeeting(action_id="a", lead="housing", tasks={"police": "x"}),
            "tasks: 'police' is not among the attendees",
        ),
        (
            HoldJointMeeting(action_id="a", lead="housing", deadline_seconds=0),
            "deadline: must be longer than zero",
        ),
        (
            HoldJointMeeting(
                action_id="a",
                lead="housing",
                evidence=[Evidence(url="http://f.example/minutes.pdf", sha256=SHA)],
            ),
            r"evidence\[0\]\.url: must be an https:// address",
        ),
        (
            HoldJointMeeting(
                action_id="a",
                lead="housing",
                attendees=PLAN,
                tasks={name: "t" * 1000 for name in PLAN},
            ),
            "tasks: at most 4000 characters for the whole plan; got 5000",
        ),
    ]
    await report_in(client, case_id, "housing")
    before = await history_length(client, case_id)
    refused.append(
        (
            SignOff(action_id="a", department="housing", outcome="resolved"),
            "the joint meeting has not agreed a plan yet",
        )
    )
    for action, message in refused:
        with pytest.raises(ActionRejected, match=message):
            await act(client, case_id, action)
    assert await history_length(client, case_id) == before
    await do(
        client, case_id, HoldJointMeeting(action_id=aid(), lead="housing", attendees=["housing"])
    )
    await report_in(client, case_id, "urban_management")  # on the case, but left out of the plan
    with pytest.raises(
        ActionRejected, match="'urban_management' is not in the joint meeting's plan"
    ):
        await sign(client, case_id, "urban_management")


async def test_return_after_the_window_is_refused(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    case_id = await raise_case(client, policy, level="publicity", category="greenery")
    await report_in(client, case_id, "landscaping")
    state = await state_of(client, case_id)
    dispatched = state.assignment("landscaping").dispatched_at  # type: ignore[union-attr]
    window_ends = clock.return_window_ends(state.policy, dispatched).at  # 2wd; resolve is 15wd
    assert window_ends < state.deadlines.resolve  # type: ignore[operator]
    await sleep_in_steps(env, window_ends + timedelta(minutes=1) - await env.get_current_time())
    before = await state_of(client, case_id)
    assert before.status == "in_progress" and before.level == "publicity"
    accepted = await update_events(client, case_id)
    with pytest.raises(ActionRejected, match="a return is accepted within 2wd of dispatch"):
        await sign(client, case_id, "landscaping", "not-ours", reason="not_our_duty")
    # (the time-skipping server logs a workflow task for a rejected update, so
    # the history length is checked on the real server in the tests above)
    assert await state_of(client, case_id) == before
    assert await update_events(client, case_id) == accepted


async def test_action_on_a_finished_case_is_refused(dev_client: Client, policy: Policy) -> None:
    client = dev_client
    case_id = await raise_case(client, policy, level="emergency", category="fire_lane")
    await closed(client, case_id)
    await final_state(client, case_id)
    before = await history_length(client, case_id)
    with pytest.raises(ActionRejected, match="closed"):
        await act(client, case_id, Withdraw(action_id=aid(), reason="late"))
    assert await history_length(client, case_id) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": "   "}, "title: must not be empty"),
        ({"title": "t" * 201}, "title: must be at most 200 characters"),
        ({"compound": ""}, "compound: must not be empty"),
        ({"description": "d" * 4001}, "description: must be at most 4000 characters"),
        ({"category": "moon_landing"}, "category: 'moon_landing' has no routing"),
        ({"departments": ["army"]}, "departments: unknown department 'army'"),
        ({"departments": ["police", "police"]}, "departments: a department is named twice"),
        ({"level": 9}, "level: must be one of publicity"),
        ({"title": "bell\x07"}, "title: must not contain control characters"),
        (
            {"evidence": [Evidence(url="https://f.example/p.jpg", sha256="Z" * 64)]},
            r"evidence\[0\]\.sha256: must be 64 lowercase hex digits",
        ),
    ],
)
async def test_bad_whistle_starts_nothing(
    client: Client, policy: Policy, change: dict[str, object], message: str
) -> None:
    request = raise_request(policy)
    for key, value in change.items():
        setattr(request, key, value)
    case_id = f"case-test-bad-{aid()[:8]}"
    with pytest.raises(RuleViolation, match=message):
        await raise_whistle(client, request, task_queue=TASK_QUEUE, case_id=case_id)
    with pytest.raises(RPCError) as missing:
        await client.get_workflow_handle(case_id).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND


async def test_extensions_cannot_pass_the_cap_together(dev_client: Client, policy: Policy) -> None:
    client = dev_client
    case_id = await raise_case(client, policy, level="emergency", category="fire_lane")
    await both_reported_in(client, case_id)
    hours = 3600
    await do(
        client,
        case_id,
        RequestExtension(
            action_id=aid(), department="fire_rescue", seconds=20 * hours, reason="tow"
        ),
    )
    before = await history_length(client, case_id)
    with pytest.raises(ActionRejected, match="would be 1d16h, over the policy's cap of 1d"):
        await act(
            client,
            case_id,
            RequestExtension(
                action_id=aid(), department="police", seconds=20 * hours, reason="also"
            ),
        )
    assert await history_length(client, case_id) == before


async def test_a_reused_action_id_with_other_content_is_refused(
    dev_client: Client, policy: Policy
) -> None:
    client = dev_client
    case_id = await raise_case(client, policy, level="emergency", category="fire_lane")
    reused = aid()
    await do(client, case_id, ReportIn(action_id=reused, department="fire_rescue"))
    before = await history_length(client, case_id)
    with pytest.raises(ActionRejected, match="was already used for a different action"):
        await act(client, case_id, ReportIn(action_id=reused, department="police"))
    assert await history_length(client, case_id) == before
    again = await act(client, case_id, ReportIn(action_id=reused, department="fire_rescue"))
    assert [e.department for e in again.events] == ["fire_rescue"]  # the true repeat


async def test_joint_extensions_follow_the_plan(dev_client: Client, policy: Policy) -> None:
    client = dev_client
    case_id = await raise_case(client, policy, level="joint", category="illegal_structure")
    await report_in(client, case_id, "urban_management", "housing")
    await do(
        client,
        case_id,
        HoldJointMeeting(action_id=aid(), lead="urban_management", attendees=["urban_management"]),
    )
    with pytest.raises(ActionRejected, match="'housing' is not in the joint meeting's plan"):
        await act(
            client,
            case_id,
            RequestExtension(action_id=aid(), department="housing", seconds=3600, reason="r"),
        )
    await do(
        client,
        case_id,
        RequestExtension(action_id=aid(), department="urban_management", seconds=3600, reason="r"),
    )
    await sign(client, case_id, "urban_management", "unresolved", reason="injunction")
    state = await state_of(client, case_id)
    assert state.status == "joint_meeting"
    assert all(a.pending_extension_seconds == 0 for a in state.departments)
    with pytest.raises(ActionRejected, match="has no extension request pending"):
        await act(
            client,
            case_id,
            DecideExtension(action_id=aid(), department="urban_management", approve=True),
        )
