"""The dispatcher against real local receivers: who hears what, retries under one
delivery id, 429 and Retry-After, dead letters told to the station, a channel's
rate limit, and two dispatchers at once sending each delivery once."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from cli.main import app
from models.tables import DeliveryRecord, NotificationRecord
from notify.dispatcher import BASE_DELAY, Dispatcher, backoff
from settings import get_settings
from store.deliveries import DELIVERED, DELIVERY_FAILED, NO_CHANNEL, TOO_OLD
from store.delivery_reads import deliveries_by_status, list_deliveries
from store.engine import make_engine
from tests.notifykit import SECRET, World, add_case, district, queue, settings_for, webhooks
from tests.receivers import Receiver, Reply


@pytest.fixture
def world(tmp_path: Path) -> World:
    engine = make_engine(f"sqlite:///{tmp_path / 'n.db'}")
    district(engine)
    return World(engine, settings_for(tmp_path))


def rows(engine: Engine) -> list[DeliveryRecord]:
    with Session(engine) as session:
        query = select(DeliveryRecord).order_by(col(DeliveryRecord.delivery_id))
        return list(session.exec(query))


def outbox(engine: Engine) -> dict[str, NotificationRecord]:
    with Session(engine) as session:
        return {n.key: n for n in session.exec(select(NotificationRecord))}


async def rounds(world: World, dispatcher: Dispatcher, n: int = 1) -> None:
    async with httpx.AsyncClient(trust_env=False) as http:
        for _ in range(n):
            await dispatcher.run_once(http)


async def test_each_recipient_hears_through_the_channels_that_serve_it(
    world: World, receiver: Receiver
) -> None:
    add_case(world.engine, "c1")
    queue(world.engine, "c1", "police_anning")  # by its code, and by its kind
    queue(world.engine, "c1", "station", kind="overdue")  # the compound's street
    queue(world.engine, "c1", "branch", kind="confirm")  # the compound's branch
    queue(world.engine, "c1", "fire_station_x")  # no channel serves it
    queue(
        world.engine, "c1", "police_anning", kind="reminder", at=world.clock.now.replace(year=2025)
    )
    channels = webhooks(
        receiver.url,
        unit=["police_anning"],
        police=["police"],
        street=["station:anning"],
        branch=["branch:anningyuan"],
        other=["station:elsewhere", "branch:elsewhere"],
    )
    await rounds(world, world.dispatcher(channels), 2)
    got = sorted((seen.path, seen.json()["kind"]) for seen in receiver.seen)
    assert got == [
        ("/branch", "confirm"),
        ("/police", "dispatch"),
        ("/street", "overdue"),
        ("/unit", "dispatch"),
    ]
    assert all(d.status == "delivered" for d in rows(world.engine))
    kept = outbox(world.engine)
    why = {key.split("/")[2] + "/" + n.kind: n.unsent_why for key, n in kept.items()}
    assert why["fire_station_x/dispatch"] == NO_CHANNEL
    assert why["police_anning/reminder"] == TOO_OLD  # a backlog older than the maximum age
    assert kept["c1/0/police_anning/dispatch"].delivered_at is not None


async def test_the_body_is_signed_and_reads_in_chinese(world: World, receiver: Receiver) -> None:
    add_case(world.engine, "c1")
    queue(world.engine, "c1", "police_anning")
    await rounds(world, world.dispatcher(webhooks(receiver.url, unit=["police_anning"])))
    (seen,) = receiver.seen
    expected = hmac.new(SECRET.encode(), seen.body, hashlib.sha256).hexdigest()
    assert seen.headers["X-Whistle-Signature"] == f"sha256={expected}"
    body = seen.json()
    assert body["case_id"] == "c1" and body["unit"] == "police_anning"
    assert body["url"] == "https://whistle.example/case/c1"
    assert body["title"] == "【应急哨】新派单：消防通道被占用"
    assert "期限：2026-11-30 14:25（还剩 25 分钟）" in body["text"]  # Beijing time


async def test_retries_keep_the_delivery_id_and_respect_retry_after(
    world: World, receiver: Receiver
) -> None:
    add_case(world.engine, "c1")
    queue(world.engine, "c1", "police_anning")
    receiver.script = [Reply(500), Reply(429, headers={"Retry-After": "120"}), Reply(200)]
    dispatcher = world.dispatcher(
        webhooks(receiver.url, unit=["police_anning"]), rng=random.Random(1)
    )
    await rounds(world, dispatcher)
    (first,) = rows(world.engine)
    assert first.status == "pending" and first.attempts == 1
    wait = (
        first.next_attempt_at.replace(tzinfo=world.clock.now.tzinfo) - world.clock.now
    ).total_seconds()
    assert BASE_DELAY * 0.5 <= wait <= BASE_DELAY  # backoff with jitter
    await rounds(world, dispatcher)  # not due yet: nothing sent
    assert len(receiver.seen) == 1
    world.clock.advance(seconds=BASE_DELAY)
    await rounds(world, dispatcher)  # 429: the receiver asked for two minutes
    (second,) = rows(world.engine)
    wait = (
        second.next_attempt_at.replace(tzinfo=world.clock.now.tzinfo) - world.clock.now
    ).total_seconds()
    assert wait == 120
    world.clock.advance(seconds=119)
    await rounds(world, dispatcher)
    assert len(receiver.seen) == 2  # never early
    world.clock.advance(seconds=1)
    await rounds(world, dispatcher)
    assert len(set(receiver.delivery_ids())) == 1 and len(receiver.seen) == 3
    (done,) = rows(world.engine)
    assert done.status == "delivered" and done.attempts == 3


async def test_a_dead_letter_is_told_to_the_station(world: World, receiver: Receiver) -> None:
    add_case(world.engine, "c1")
    queue(world.engine, "c1", "police_anning")
    receiver.script = [Reply(500)] * 4  # the channel takes 4 attempts
    channels = webhooks(receiver.url, unit=["police_anning"], street=["station:anning"])
    dispatcher = world.dispatcher(channels)
    for _ in range(4):
        await rounds(world, dispatcher)
        world.clock.advance(hours=1)
    await rounds(world, dispatcher, 2)  # the station's notification planned, then sent
    failed = [d for d in rows(world.engine) if d.status == "failed"]
    assert len(failed) == 1 and failed[0].attempts == 4 and "500" in failed[0].last_error
    told = [seen for seen in receiver.seen if seen.path == "/street"]
    assert len(told) == 1 and told[0].json()["kind"] == DELIVERY_FAILED
    assert "通知发送失败" in told[0].json()["title"]


async def test_a_channels_minute_is_shared_by_every_dispatcher(
    world: World, receiver: Receiver
) -> None:
    add_case(world.engine, "c1")
    queue(world.engine, "c1", "police_anning", n=5)
    raw = webhooks(receiver.url, unit=["police_anning"])[0]
    limited = raw.model_copy(update={"rate_per_minute": 3})
    first, second = world.dispatcher([limited], "d1"), world.dispatcher([limited], "d2")
    await rounds(world, first)
    await rounds(world, second)
    assert len(receiver.seen) == 3  # the minute is full for both
    assert all(d.attempts == 0 for d in rows(world.engine) if d.status == "pending")
    world.clock.advance(minutes=1)
    await rounds(world, second)
    assert len(receiver.seen) == 5 and len(set(receiver.delivery_ids())) == 5


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_two_dispatchers_at_once_send_each_delivery_once(
    database: str, tmp_path: Path, receiver: Receiver, request: pytest.FixtureRequest
) -> None:
    if database == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'two.db'}")
        district(engine)
    else:
        engine = request.getfixturevalue("pg_engine")
        from store.org import org_in_force

        if org_in_force(engine) is None:
            district(engine)
    world = World(engine, settings_for(tmp_path))
    world.clock.now = world.clock.now.replace(year=2029)  # apart from other tests' rows
    prefix = f"two-{database}"
    for i in range(20):
        add_case(engine, f"{prefix}-{i}", raised_at=world.clock.now, updated_at=world.clock.now)
        queue(engine, f"{prefix}-{i}", "police_anning", at=world.clock.now, n=3)
    channels = webhooks(receiver.url, unit=["police_anning"], police=["police"])
    a, b = (world.dispatcher(channels, owner, batch=7) for owner in ("d1", "d2"))
    async with httpx.AsyncClient(trust_env=False) as http:
        for _ in range(12):
            await asyncio.gather(a.run_once(http), b.run_once(http))
    ids = [
        i
        for i, seen in zip(receiver.delivery_ids(), receiver.seen, strict=True)
        if seen.json()["case_id"].startswith(prefix)
    ]
    assert len(ids) == 20 * 3 * 2 and len(set(ids)) == len(ids)  # each once, none lost


def test_backoff_doubles_with_jitter_and_obeys_the_channel() -> None:
    rng = random.Random(3)
    for attempt in range(1, 8):
        wait = backoff(attempt, None, rng)
        assert BASE_DELAY * 2 ** (attempt - 1) * 0.5 <= wait <= BASE_DELAY * 2 ** (attempt - 1)
    assert backoff(30, None, rng) <= 3600
    assert backoff(1, 42.0, rng) == 42.0 and backoff(1, 10**6, rng) == 3600


async def test_the_cli_lists_deliveries_and_sends_failed_ones_again(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "cli.db"
    engine = make_engine(f"sqlite:///{db}")
    district(engine)
    world = World(engine, settings_for(tmp_path))
    add_case(engine, "c1")
    queue(engine, "c1", "police_anning")
    queue(engine, "c1", "nobody_here")
    receiver.script = [Reply(404)]  # permanent: a dead letter at once
    await rounds(world, world.dispatcher(webhooks(receiver.url, unit=["police_anning"])))
    monkeypatch.setenv("WHISTLE_DATABASE_URL", f"sqlite:///{db}")
    get_settings.cache_clear()
    runner = CliRunner()
    listed = runner.invoke(app, ["notifications", "--json"])
    assert listed.exit_code == 0, listed.output
    document = json.loads(listed.stdout)
    assert document["counts"] == {"pending": 0, "delivered": 0, "failed": 1}
    (failed,) = document["deliveries"]
    assert failed["status"] == "failed" and "404" in failed["error"]
    assert [u["to"] for u in document["unsent"]] == ["nobody_here"]
    text = runner.invoke(app, ["notifications", "--status", "failed"]).stdout
    assert failed["delivery_id"][:12] in text and "404" in text
    short = runner.invoke(app, ["notifications", "retry", "abc"])
    assert short.exit_code == 2 and "at least 8 characters" in short.stderr
    again = runner.invoke(app, ["notifications", "retry", failed["delivery_id"][:8], "--json"])
    assert json.loads(again.stdout) == {"retried": 1}
    (row,) = rows(engine)
    assert row.status == "pending" and row.attempts == 0
    get_settings.cache_clear()
    engine.dispose()


async def test_a_delivery_keeps_its_cases_compound_for_a_streets_reads(
    world: World, receiver: Receiver
) -> None:
    """Planned by the dispatcher itself, each delivery keeps its case's compound folded
    as a scope matches it: a station's reads find them by it, whatever the letter case."""
    add_case(world.engine, "c1", compound="AnningYuan")
    queue(world.engine, "c1", "police_anning")
    await rounds(world, world.dispatcher(webhooks(receiver.url, unit=["police_anning"])))
    assert [d.compound for d in rows(world.engine)] == ["anningyuan"]
    mine, other = frozenset({"ANNINGYUAN", "xiangyang"}), frozenset({"xiangyang"})
    assert deliveries_by_status(world.engine, mine)[DELIVERED] == 1
    assert deliveries_by_status(world.engine, other)[DELIVERED] == 0
    assert [d.case_id for d in list_deliveries(world.engine, compounds=mine)] == ["c1"]
    assert list_deliveries(world.engine, status=DELIVERED, compounds=other) == []
