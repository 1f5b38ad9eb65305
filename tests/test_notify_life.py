"""A case's whole life, on the time-skipping server with a real worker, delivered
by the dispatcher to local receivers: each recipient hears what it should, by
kind, through the channels that serve it (a unit by its kind, the street's
station, the compound's branch, and a channel for everyone)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest_asyncio
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from models.case import Confirm
from models.policy import Policy
from settings import Settings
from store.engine import make_engine
from tests.casekit import (
    aid,
    do,
    final_state,
    raise_case,
    report_in,
    sign,
    skip_past,
    until,
    using_queue,
)
from tests.notifykit import World, district, settings_for, webhooks
from tests.receivers import Receiver
from worker import ACTIVITY_THREADS, build_worker

QUEUE = "whistle-notify-life"


@pytest_asyncio.fixture
async def district_engine(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Engine]:
    """A projection with the example district, and a worker on its own queue writing it."""
    engine = make_engine(f"sqlite:///{tmp_path / 'life.db'}")
    district(engine)
    settings = Settings(task_queue=QUEUE, workflow_sandbox="strict")
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        async with build_worker(env.client, engine, settings, executor):
            yield engine
    engine.dispose()


async def test_a_whole_life_reaches_each_recipient_by_kind(
    env: WorkflowEnvironment,
    district_engine: Engine,
    policy: Policy,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    client = env.client
    with using_queue(QUEUE):
        case_id = await raise_case(
            client, policy, level="emergency", category="fire_lane", compound="anningyuan"
        )
        await report_in(client, case_id, "fire_rescue")
        await skip_past(client, env, case_id, lambda s: s.deadlines.report_in)
        await until(client, case_id, lambda s: s.level == "enforcement")  # police missed it
        await report_in(client, case_id, "police")
        await sign(client, case_id, "fire_rescue", "resolved")
        await until(client, case_id, lambda s: s.status == "awaiting_confirmation")
        await do(client, case_id, Confirm(action_id=aid(), satisfaction=5))
        await final_state(client, case_id)
    world = World(district_engine, settings_for(tmp_path))
    channels = webhooks(
        receiver.url,
        units=["fire_rescue", "police"],
        station=["station:anning"],
        branch=["branch:anningyuan"],
        everyone=["*"],
    )
    dispatcher = world.dispatcher(channels)
    async with httpx.AsyncClient(trust_env=False) as http:
        while await dispatcher.run_once(http):
            pass
    heard = Counter(
        (seen.path.strip("/"), seen.json()["recipient"], seen.json()["kind"])
        for seen in receiver.seen
    )
    told = {
        ("fire_rescue", "dispatch"): 2,  # at the emergency whistle, then at enforcement
        ("police", "dispatch"): 2,
        ("police", "reminder"): 1,  # 催办 before its report-in deadline (fire_rescue was in)
        ("police", "supervision"): 1,  # 督办 once it missed it
        ("station:anning", "overdue"): 1,  # the street's station hears of the miss
        ("branch:anningyuan", "confirm"): 1,  # the result waits for the branch
    }
    served_by = {"fire_rescue": "units", "police": "units", "station:anning": "station"}
    served_by["branch:anningyuan"] = "branch"
    expected = Counter({(served_by[who], who, kind): n for (who, kind), n in told.items()})
    expected.update({("everyone", who, kind): n for (who, kind), n in told.items()})
    assert heard == expected
    assert len(set(receiver.delivery_ids())) == len(receiver.seen)  # each delivery once
    titles = {seen.json()["title"] for seen in receiver.seen if seen.json()["kind"] == "dispatch"}
    assert titles == {
        "【应急哨】新派单：Car blocking the fire lane",
        "【执法哨】新派单：Car blocking the fire lane",
    }
    assert all(seen.json()["case_id"] == case_id for seen in receiver.seen)
