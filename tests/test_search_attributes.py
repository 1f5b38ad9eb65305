"""The cases' Temporal search attributes (issue 14): each case keeps WhistleLevel,
WhistleStatus, Compound, Units and Overdue in step with its life, upserting only
what changed; the embedded server of ``whistle dev`` has them registered and
``temporal workflow list --query`` finds cases by them; the worker's check adds
them or refuses clearly."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy.engine import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from casework.search_attributes import (
    SearchAttributesMissing,
    create_commands,
    ensure_search_attributes,
    registered,
)
from engine.embedded import EmbeddedTemporal, temporal_binary
from models.case import SYSTEM, CaseEvent, EventKind, HoldJointMeeting, Supervise, Withdraw
from models.policy import Policy
from models.search_attributes import KEYS, fold_late
from settings import Settings
from tests.casekit import (
    STATION_ACTOR,
    TASK_QUEUE,
    aid,
    do,
    driver,
    raise_case,
    raise_request,
    report_in,
    sign,
    skip_past,
    until,
)
from tests.devkit import Dev
from tests.ports import free_port
from worker import ACTIVITY_THREADS, build_worker

NAMES = {key.name for key in KEYS}


async def attributes(client: Client, case_id: str) -> dict[str, Any]:
    described = await client.get_workflow_handle(case_id).describe()
    return {p.key.name: p.value for p in described.typed_search_attributes if p.key.name in NAMES}


async def attributes_become(
    client: Client, case_id: str, expected: dict[str, Any], timeout: float = 20.0
) -> dict[str, Any]:
    """The case's attributes once those named in ``expected`` hold those values."""
    deadline = time.monotonic() + timeout
    while True:
        now = await attributes(client, case_id)
        if {name: now.get(name) for name in expected} == expected:
            return now
        assert time.monotonic() < deadline, f"{case_id}: {now}, expected {expected}"
        await asyncio.sleep(0.05)


async def upserts(client: Client, case_id: str) -> int:
    """Upserts of the case's own attributes in its history (not the SDK's patch markers)."""
    count = 0
    async for event in client.get_workflow_handle(case_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
            count += bool(NAMES & set(fields.indexed_fields))
    return count


# --- a case's life, on the time-skipping server --------------------------------------


async def test_attributes_follow_the_case(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    compound = f"Search-{uuid.uuid4().hex[:6]}"
    case_id = await raise_case(client, policy, level="emergency", compound=compound)
    assert await attributes_become(client, case_id, {"WhistleStatus": "awaiting_report_in"}) == {
        "WhistleLevel": "emergency",
        "WhistleStatus": "awaiting_report_in",
        "Compound": compound,
        "Units": ["fire_rescue", "police"],
        "Overdue": False,
    }
    first = await upserts(client, case_id)
    assert first == 1  # all five at once

    # Nothing a search sees changes (the police are still awaited): no command.
    await report_in(client, case_id, "fire_rescue")
    assert await upserts(client, case_id) == first

    # The police miss the report-in: up to enforcement, their deadline capped
    # ("a miss never buys time"): the case is overdue until they report in.
    await skip_past(client, env, case_id, lambda s: s.deadlines.report_in)
    await until(client, case_id, lambda s: s.level == "enforcement")
    await attributes_become(
        client,
        case_id,
        {"WhistleLevel": "enforcement", "WhistleStatus": "awaiting_report_in", "Overdue": True},
    )
    await report_in(client, case_id, "police")
    await attributes_become(client, case_id, {"WhistleStatus": "in_progress", "Overdue": False})

    # The lead cannot resolve it: the joint task force, whose meeting is late.
    await sign(client, case_id, "fire_rescue", "unresolved", reason="owner refuses")
    await attributes_become(
        client, case_id, {"WhistleLevel": "joint", "WhistleStatus": "joint_meeting"}
    )
    assert (await attributes(client, case_id))["Overdue"] is False
    await skip_past(client, env, case_id, lambda s: s.deadlines.joint_meeting)
    await until(client, case_id, lambda s: "joint_meeting_overdue" in [e.kind for e in s.events])
    await attributes_become(client, case_id, {"Overdue": True})

    meeting = HoldJointMeeting(action_id=aid(), actor=STATION_ACTOR, lead="police")
    await do(client, case_id, meeting)
    await attributes_become(client, case_id, {"WhistleStatus": "in_progress", "Overdue": False})
    settled = await upserts(client, case_id)
    await do(client, case_id, Supervise(action_id=aid(), actor=STATION_ACTOR, note="hurry"))
    assert await upserts(client, case_id) == settled  # a note changes no attribute

    await do(client, case_id, Withdraw(action_id=aid(), reason="done"))
    assert await attributes_become(client, case_id, {"WhistleStatus": "withdrawn"}) == {
        "WhistleLevel": "joint",
        "WhistleStatus": "withdrawn",
        "Compound": compound,
        "Units": ["fire_rescue", "police"],
        "Overdue": False,
    }


async def test_a_closed_case_is_not_overdue(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    case_id = await raise_case(client, policy, level="emergency", category="utilities")
    await report_in(client, case_id, "utilities")
    await sign(client, case_id, "utilities")
    await attributes_become(client, case_id, {"WhistleStatus": "awaiting_confirmation"})
    await skip_past(client, env, case_id, lambda s: s.deadlines.confirmation)
    assert await attributes_become(client, case_id, {"WhistleStatus": "closed"}) == {
        "WhistleLevel": "emergency",
        "WhistleStatus": "closed",
        "Compound": "Anningyuan",
        "Units": ["utilities"],
        "Overdue": False,
    }


# --- Overdue, the pure fold ---------------------------------------------------------


def _event(kind: EventKind, actor: str = SYSTEM, **fields: Any) -> CaseEvent:
    return CaseEvent(
        seq=0,
        kind=kind.value,
        at=datetime(2026, 1, 1, tzinfo=UTC),
        actor=actor,
        level="x",
        **fields,
    )


def test_overdue_until_the_late_unit_acts() -> None:
    missed = fold_late(frozenset(), [_event(EventKind.REPORT_IN_MISSED, department="police")])
    assert missed == {"report_in:police"}
    other = fold_late(missed, [_event(EventKind.REPORTED_IN, "fire", department="fire")])
    assert other == missed
    assert fold_late(missed, [_event(EventKind.REPORTED_IN, "p", department="police")]) == set()
    resolve = fold_late(frozenset(), [_event(EventKind.RESOLVE_MISSED, department="police")])
    assert fold_late(resolve, [_event(EventKind.SIGNED_OFF, "p", department="police")]) == set()
    assert fold_late(resolve, [_event(EventKind.RETURNED, "p", department="police")]) == set()
    replaced = _event(EventKind.REDISPATCHED, "station", detail={"removed": "police"})
    assert fold_late(resolve, [replaced]) == set()


def test_a_new_whistle_clears_overdue_unless_the_miss_capped_it() -> None:
    late = frozenset({"report_in:police"})
    capped = [
        _event(EventKind.SUPERVISED, reason="report-in deadline missed by police"),
        _event(EventKind.ESCALATED, from_level="emergency", to_level="enforcement"),
        _event(EventKind.DISPATCHED),
    ]
    assert fold_late(late, capped) == late
    to_joint = [*capped[:1], _event(EventKind.ESCALATED, to_level="joint")]
    assert fold_late(late, to_joint) == set()
    by_hand = [_event(EventKind.ESCALATED, "branch", to_level="enforcement")]
    assert fold_late(late, by_hand) == set()
    for kind in (EventKind.RESOLVED, EventKind.CLOSED, EventKind.WITHDRAWN):
        assert fold_late(late, [_event(kind)]) == set()
    meeting = fold_late(frozenset(), [_event(EventKind.JOINT_MEETING_OVERDUE)])
    assert meeting == {"meeting"}
    assert fold_late(meeting, [_event(EventKind.JOINT_MEETING_HELD, "station")]) == set()


# --- the worker's check ---------------------------------------------------------------


class _Operator:
    """An operator service that lists no attribute and refuses to add any."""

    def __init__(self) -> None:
        self.asked: list[Any] = []

    async def list_search_attributes(self, request: Any) -> Any:
        class Answer:
            custom_attributes: dict[str, int] = {}  # noqa: RUF012

        return Answer()

    async def add_search_attributes(self, request: Any) -> Any:
        self.asked.append(request)
        raise RPCError("Request unauthorized.", RPCStatusCode.PERMISSION_DENIED, b"")


class _Client:
    def __init__(self) -> None:
        self.operator_service = _Operator()


async def test_the_worker_refuses_clearly_when_it_may_not_add_them() -> None:
    fake = _Client()
    with pytest.raises(SearchAttributesMissing) as refused:
        await ensure_search_attributes(cast(Client, fake), "district-7")
    message = str(refused.value)
    assert fake.operator_service.asked  # it tried
    assert "namespace district-7 lacks the search attributes" in message
    assert "Request unauthorized" in message
    for command in create_commands("district-7"):
        assert command in message
    assert (
        "temporal operator search-attribute create --namespace district-7 "
        "--name WhistleLevel --type Keyword"
    ) in message
    assert "--name Units --type KeywordList" in message
    assert "--name Overdue --type Bool" in message


async def test_the_worker_adds_them_where_missing(engine: Engine, policy: Policy) -> None:
    """A dev server started without them: the check adds them, and a case raised
    right after sets them (no stalled workflow task)."""
    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
    )
    try:
        client = environment.client
        assert not NAMES & set(await registered(client, client.namespace))
        added = await ensure_search_attributes(client, client.namespace)
        assert set(added) == NAMES
        assert set(await registered(client, client.namespace)) >= NAMES
        assert await ensure_search_attributes(client, client.namespace) == []
        settings = Settings(task_queue=TASK_QUEUE, workflow_sandbox="strict")
        with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
            async with build_worker(client, engine, settings, executor):
                case_id = await driver(client).raise_whistle(
                    raise_request(policy, level="publicity"), case_id=f"case-{aid()[:10]}"
                )
                await attributes_become(client, case_id, {"WhistleLevel": "publicity"})
                await driver(client).do(case_id, Withdraw(action_id=aid(), reason="done"))
    finally:
        await environment.shutdown()


# --- the embedded server of whistle dev, and the temporal CLI ---------------------------


def _listed(server: EmbeddedTemporal, query: str) -> list[str]:
    done = subprocess.run(
        [
            temporal_binary(),
            "workflow",
            "list",
            "--address",
            server.address,
            "--namespace",
            server.namespace,
            "--query",
            query,
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    listed = json.loads(done.stdout or "[]") or []
    return sorted(item["execution"]["workflowId"] for item in listed)


@pytest.mark.e2e
async def test_temporal_lists_the_joint_cases(
    tmp_path: Path, engine: Engine, policy: Policy
) -> None:
    """The server ``whistle dev`` starts knows the attributes from its first answer;
    ``temporal workflow list --query`` finds cases by them."""
    server = EmbeddedTemporal(tmp_path / "temporal", free_port())
    server.start()
    try:
        client = await server.connect()
        assert set(await registered(client, server.namespace)) >= NAMES
        settings = Settings(task_queue=TASK_QUEUE, workflow_sandbox="strict")
        with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
            async with build_worker(client, engine, settings, executor):
                cases = driver(client)
                joint = await cases.raise_whistle(
                    raise_request(policy, level="joint", category="illegal_structure"),
                    case_id=f"case-joint-{uuid.uuid4().hex[:8]}",
                )
                publicity = await cases.raise_whistle(
                    raise_request(policy, level="publicity", category="fire_safety"),
                    case_id=f"case-publicity-{uuid.uuid4().hex[:8]}",
                )
                queries = {
                    "WhistleLevel='joint'": [joint],
                    "WhistleLevel='publicity' AND Overdue=false": [publicity],
                    "Compound='Anningyuan' AND Units='housing'": [joint],
                    "WhistleStatus='joint_meeting'": [joint],
                }
                deadline = time.monotonic() + 20  # visibility is eventually consistent
                while True:
                    found = {q: await asyncio.to_thread(_listed, server, q) for q in queries}
                    if found == queries or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.3)
                assert found == queries
                for case_id in (joint, publicity):
                    await cases.do(case_id, Withdraw(action_id=aid(), reason="test finished"))
    finally:
        server.stop()


@pytest.mark.e2e
def test_temporal_lists_the_joint_cases_of_whistle_dev(tmp_path: Path) -> None:
    """``whistle dev`` as people run it, the cases raised with ``whistle raise``."""
    policy = tmp_path / "district.toml"
    policy.write_text('[levels.publicity]\nreport_in = "1h"\n', encoding="utf-8")
    dev = Dev(tmp_path / "data", free_port(), policy)
    dev.data_dir.mkdir()
    dev.start()
    try:
        raised = {}
        for level, category in (("joint", "illegal_structure"), ("publicity", "fire_safety")):
            raised[level] = dev.json(
                "raise",
                "--compound",
                "Anningyuan",
                "--level",
                level,
                "--category",
                category,
                "--title",
                f"a {level} whistle",
            )["case_id"]
        server = EmbeddedTemporal(dev.data_dir, dev.port)  # where whistle dev serves
        deadline = time.monotonic() + 20  # visibility is eventually consistent
        while (found := _listed(server, "WhistleLevel='joint'")) != [raised["joint"]]:
            assert time.monotonic() < deadline, found
            time.sleep(0.3)
    finally:
        dev.close()


async def test_the_check_adds_them_on_the_time_skipping_server(env: WorkflowEnvironment) -> None:
    """That server cannot list search attributes, only add them: the check adds them
    (those the fixture added already are left as they are)."""
    added = await ensure_search_attributes(env.client, env.client.namespace)
    assert set(added) == NAMES
