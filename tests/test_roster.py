"""The duty roster (值班表): shifts read from a file, refused with the shift and key,
round the clock across midnight in the district's zone; an emergency whistle's
message reaches whoever is on duty at 3 a.m. on their own phone."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from typer.testing import CliRunner

from cli.main import app
from notify.channels import ChannelsFileError, parse_channels
from notify.roster import RosterError, Shift, load_roster, parse_roster
from settings import get_settings
from store.engine import make_engine
from store.roster import on_duty, roster_of, set_rosters
from tests.notifykit import World, add_case, district, queue, settings_for, webhooks
from tests.receivers import Receiver

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROSTER = """
[[shift]]
unit = "police_anning"
from = "08:00"
to = "20:00"
name = "王警官"
phone = "13800000001"

[[shift]]
unit = "police_anning"
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
from = "20:00"
to = "08:00"
name = "张警官"
phone = "13800000002"
email = "zhang@police.example"
"""


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_shifts_cover_the_clock_across_midnight(tmp_path: Path) -> None:
    path = tmp_path / "roster.toml"
    path.write_text(ROSTER, encoding="utf-8")
    day, night = load_roster(path)
    assert day.covers(local("2026-11-30 08:00"), SHANGHAI)
    assert not day.covers(local("2026-11-30 20:00"), SHANGHAI)
    assert night.covers(local("2026-11-30 20:00"), SHANGHAI)
    assert night.covers(local("2026-12-01 03:00"), SHANGHAI)  # the shift began the day before
    assert not night.covers(local("2026-12-01 08:00"), SHANGHAI)
    weekdays = Shift(unit="u", days=("mon",), starts="22:00", ends="06:00", name="x", phone="12345")
    assert weekdays.covers(local("2026-12-01 05:59"), SHANGHAI)  # Tuesday, Monday's night
    assert not weekdays.covers(local("2026-12-02 05:59"), SHANGHAI)  # Wednesday


@pytest.mark.parametrize(
    ("shift", "message"),
    [
        ({"unit": "Police"}, "shift 1: unit: a code is lower-case"),
        ({"from": "8:00"}, "shift 1: from: must be a time of day such as 08:00"),
        ({"to": "25:00"}, "shift 1: to: must be a time of day such as 08:00"),
        ({"days": ["monday"]}, "shift 1: days: each must be one of mon"),
        ({"phone": None}, "shift 1: phone or email: a person on duty must be reachable"),
        ({"phone": "call me"}, "shift 1: phone: must be a phone number"),
        ({"pager": "1"}, "shift 1: pager: Extra inputs are not permitted"),
    ],
)
def test_a_bad_shift_is_refused_naming_it(shift: dict[str, object], message: str) -> None:
    good: dict[str, object] = {"unit": "police_anning", "from": "08:00", "to": "20:00"}
    raw = {**good, "name": "王", "phone": "13800000001", **shift}
    raw = {key: value for key, value in raw.items() if value is not None}
    with pytest.raises(RosterError) as refused:
        parse_roster({"shift": [raw]}, "roster.toml")
    assert f"roster.toml: {message}" in str(refused.value)


def test_a_duty_entry_needs_a_channel_that_reaches_a_person() -> None:
    hook = {"name": "h", "kind": "webhook", "for": ["duty"], "url": "http://x", "secret": "s"}
    with pytest.raises(
        ChannelsFileError, match=r'kind: "duty" entries in for need an email or sms'
    ):
        parse_channels({"channel": [hook]}, "c.toml")
    sms = {
        "name": "s",
        "kind": "sms",
        "url": "http://x",
        "access_key": "a",
        "secret_key": "b",
        "sign_name": "n",
        "template_id": "t",
    }
    assert parse_channels({"channel": [{**sms, "for": ["duty"]}]}, "c.toml")  # their own phone
    with pytest.raises(ChannelsFileError, match="phones: must list at least one"):
        parse_channels({"channel": [{**sms, "for": ["duty", "police"]}]}, "c.toml")


async def test_an_emergency_reaches_whoever_is_on_duty_at_3am(
    tmp_path: Path, receiver: Receiver
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'duty.db'}")
    district(engine)
    path = tmp_path / "roster.toml"
    path.write_text(ROSTER, encoding="utf-8")
    set_rosters(engine, load_roster(path), datetime.now(UTC))
    world = World(engine, settings_for(tmp_path))
    three_am = local("2026-12-01 03:00").astimezone(UTC)
    world.clock.now = three_am
    assert [s.name for s in on_duty(engine, "police_anning", three_am, SHANGHAI)] == ["张警官"]
    add_case(engine, "e1", raised_at=three_am, updated_at=three_am)
    add_case(engine, "p1", level="publicity", raised_at=three_am, updated_at=three_am)
    queue(engine, "e1", "police_anning", at=three_am)
    queue(engine, "e1", "station", kind="overdue", at=three_am)  # not a unit: no duty
    queue(engine, "p1", "police_anning", at=three_am)
    with engine.begin() as conn:  # the publicity case's outbox row carries its level
        conn.exec_driver_sql("UPDATE notifications SET level = 'publicity' WHERE case_id = 'p1'")
    sms = {
        "name": "duty-sms",
        "kind": "sms",
        "for": ["duty"],
        "url": f"{receiver.url}/sms",
        "access_key": "a",
        "secret_key": "b",
        "sign_name": "应急哨",
        "template_id": "SMS_1",
    }
    channels = [
        *webhooks(receiver.url, unit=["police_anning"]),
        *parse_channels({"channel": [sms]}, "t"),
    ]
    async with httpx.AsyncClient(trust_env=False) as http:
        await world.dispatcher(channels).run_once(http)
    to_duty = [seen for seen in receiver.seen if seen.path == "/sms"]
    assert len(to_duty) == 1 and to_duty[0].json()["phones"] == ["13800000002"]
    assert sorted(seen.json()["case_id"] for seen in receiver.seen if seen.path == "/unit") == [
        "e1",
        "p1",
    ]
    engine.dispose()


def test_the_roster_is_loaded_and_shown_by_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHISTLE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    path = tmp_path / "roster.toml"
    path.write_text(ROSTER, encoding="utf-8")
    runner = CliRunner()
    loaded = runner.invoke(app, ["roster", "load", str(path), "--json"])
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.stdout) == {"units": {"police_anning": 2}}
    shown = runner.invoke(app, ["roster", "show", "police_anning", "--json"])
    assert [s["name"] for s in json.loads(shown.stdout)["shifts"]] == ["王警官", "张警官"]
    path.write_text(ROSTER.replace('"08:00"', '"8am"', 1), encoding="utf-8")
    refused = runner.invoke(app, ["roster", "load", str(path)])
    assert refused.exit_code == 2 and "shift 1: from: must be a time of day" in refused.stderr
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    assert len(roster_of(engine)) == 2  # a refused file changes nothing
    engine.dispose()
    get_settings.cache_clear()
