"""The station's commands without a server: what each delivers (straight on
Temporal, or the request it sends to the API), unit codes resolved in the
organisation in force, and the overdue board over a SQLite projection in local time.

The same actions against a worker are in tests/test_station_api.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from cli import support
from cli.main import app
from cli.remote import Remote
from models.case import (
    Action,
    HoldJointMeeting,
    Redispatch,
    RequestJointMeeting,
    ReviewReturn,
    Supervise,
    UnitRef,
)
from models.policy import Policy
from models.tables import CaseRecord
from settings import get_settings
from store.engine import make_engine
from store.org import activate_org
from tests.test_station_api import streets_org

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "whistle.db"
    monkeypatch.setenv("WHISTLE_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("WHISTLE_TEMPORAL_ADDRESS", "127.0.0.1:1")
    monkeypatch.setenv("WHISTLE_TIMEZONE", "Asia/Shanghai")
    monkeypatch.setenv("COLUMNS", "120")
    get_settings.cache_clear()
    make_engine(f"sqlite:///{path}").dispose()
    yield path
    get_settings.cache_clear()


@pytest.fixture
def with_org(db: Path, policy: Policy) -> Path:
    engine = make_engine(f"sqlite:///{db}")
    activate_org(engine, streets_org(policy))
    engine.dispose()
    return db


@pytest.fixture
def delivered(monkeypatch: pytest.MonkeyPatch) -> list[Action]:
    seen: list[Action] = []
    monkeypatch.setattr(support, "act_and_print", lambda _c, action, _j, _v: seen.append(action))
    return seen


def whistle(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_each_command_delivers_its_action_as_its_role(
    with_org: Path, delivered: list[Action]
) -> None:
    for args in (
        ["review-return", "c", "--unit", "police_a", "--approve", "--dispatch", "police_1"],
        ["review-return", "c", "--unit", "police_a", "--refuse", "--reason", "yours"],
        ["redispatch", "c", "--add", "police_1", "--replace", "police_a", "--reason", "r"],
        ["supervise", "c", "--note", "on site by 10"],
        ["request-meeting", "c", "--reason", "they point at each other"],
        ["supervise", "c", "--note", "n", "--actor", "duty officer Zhao"],
        ["meeting", "c", "--lead", "housing_1", "--join", "police_1"],
    ):
        done = whistle(*args)
        assert done.exit_code == 0, (args, done.output)
    approve, refuse, moved, pressed, asked, _named, held = delivered
    assert isinstance(approve, ReviewReturn) and isinstance(refuse, ReviewReturn)
    assert (approve.department, approve.approve) == ("police_a", True)
    assert approve.dispatch == [UnitRef(code="police_1", kind="police")]
    assert (refuse.approve, refuse.reason, refuse.dispatch) == (False, "yours", [])
    assert isinstance(moved, Redispatch)
    assert (moved.add, moved.replace) == ([UnitRef(code="police_1", kind="police")], "police_a")
    assert isinstance(pressed, Supervise) and pressed.note == "on site by 10"
    assert isinstance(asked, RequestJointMeeting)
    assert isinstance(held, HoldJointMeeting)
    assert held.join == [UnitRef(code="police_1", kind="police")]
    assert [a.actor for a in delivered] == [
        "station",
        "station",
        "station",
        "station",
        "branch",
        "duty officer Zhao",
        "station",
    ]


def test_without_an_organisation_a_department_is_its_own_unit(
    db: Path, delivered: list[Action]
) -> None:
    done = whistle("redispatch", "c", "--add", "police", "--reason", "r")
    assert done.exit_code == 0, done.output
    assert isinstance(delivered[0], Redispatch)
    assert delivered[0].add == [UnitRef(code="police", kind="police")]


def test_an_unknown_unit_is_refused_before_anything_is_sent(
    with_org: Path, delivered: list[Action]
) -> None:
    done = whistle("redispatch", "c", "--add", "police_zz", "--reason", "r")
    assert done.exit_code == 2
    assert "add: 'police_zz' is not a unit of the organisation" in done.output
    done = whistle("review-return", "c", "--unit", "u", "--approve", "--dispatch", "nobody")
    assert done.exit_code == 2 and "dispatch: 'nobody' is not a unit" in done.output
    refused = whistle("review-return", "c", "--unit", "u")
    assert refused.exit_code == 2  # --approve or --refuse is required
    assert delivered == []


def test_through_the_api_the_codes_go_as_they_are(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, str, Any, str | None]] = []
    answer = {"case_id": "c", "level": "emergency", "status": "in_progress", "events": []}

    def call(self: Remote, method: str, path: str, body: Any = None, *, key: Any = None) -> Any:
        sent.append((method, path, body, key))
        return answer

    monkeypatch.setattr(Remote, "call", call)
    api = ["--api", "http://api", "--token", "t", "--action-id", "k1", "--json"]
    for args in (
        ["review-return", "c", "-d", "police_a", "--approve", "--dispatch", "police_9"],
        ["redispatch", "c", "--add", "police_9", "--reason", "r"],
        ["supervise", "c", "--note", "n"],
        ["request-meeting", "c", "--reason", "r"],
        ["meeting", "c", "--lead", "housing_1", "--join", "police_9"],
    ):
        done = whistle(*args, *api)
        assert done.exit_code == 0, (args, done.output)
        assert json.loads(done.stdout) == answer
    assert sent[:-1] == [
        (
            "POST",
            "/cases/c/return-review",
            {"department": "police_a", "approve": True, "reason": "", "dispatch": ["police_9"]},
            "k1",
        ),
        (
            "POST",
            "/cases/c/redispatch",
            {"add": ["police_9"], "replace": None, "reason": "r"},
            "k1",
        ),
        ("POST", "/cases/c/supervise", {"note": "n"}, "k1"),
        ("POST", "/cases/c/joint-meeting-request", {"reason": "r"}, "k1"),
    ]
    meeting = sent[-1]
    assert meeting[1] == "/cases/c/joint-meeting"
    assert (meeting[2]["lead"], meeting[2]["join"]) == ("housing_1", ["police_9"])


def _late(db: Path, case_id: str, compound: str, late: timedelta, **fields: Any) -> datetime:
    now = datetime.now(UTC)
    due = now - late
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        values: dict[str, Any] = {
            "case_id": case_id,
            "compound": compound,
            "category": "fire_lane",
            "title": "Car on the fire lane",
            "level": "emergency",
            "status": "in_progress",
            "departments": "fire_rescue_1",
            "raised_by": "branch",
            "raised_at": due - timedelta(hours=1),
            "updated_at": now,
            "resolve_deadline": due,
            "policy_version": "p-test",
            **fields,
        }
        session.add(CaseRecord(**values))
        session.commit()
    engine.dispose()
    return due


def test_the_overdue_board_most_overdue_first_in_local_time(with_org: Path) -> None:
    due = _late(with_org, "late-a", "anningyuan", timedelta(hours=3, minutes=10))
    _late(with_org, "late-b", "xiangyang", timedelta(days=2))
    _late(
        with_org,
        "late-meeting",
        "anningyuan",
        timedelta(minutes=40),
        status="joint_meeting",
        level="joint",
        report_in_deadline=datetime.now(UTC) - timedelta(minutes=40),
    )
    _late(with_org, "on-time", "anningyuan", -timedelta(hours=1))
    _late(with_org, "closed", "anningyuan", timedelta(days=9), status="closed")

    done = whistle("overdue", "--json")
    assert done.exit_code == 0, done.output
    rows = json.loads(done.stdout)["cases"]
    assert [r["case_id"] for r in rows] == ["late-b", "late-a", "late-meeting"]
    assert [r["street"] for r in rows] == ["s2", "s1", "s1"]
    assert [r["deadline"] for r in rows] == ["resolve", "resolve", "joint_meeting"]
    assert datetime.fromisoformat(rows[1]["due"]) == due

    s1 = whistle("overdue", "--street", "s1", "--json")
    assert [r["case_id"] for r in json.loads(s1.stdout)["cases"]] == ["late-a", "late-meeting"]

    text = whistle("overdue", "--street", "s1")
    assert text.exit_code == 0, text.output
    local = due.astimezone(get_settings().zone()).strftime("%Y-%m-%d %H:%M")
    assert local in text.output and "Asia/Shanghai" in text.output
    assert "3h10m" in text.output and "joint meeting" in text.output

    unknown = whistle("overdue", "--street", "s9")
    assert unknown.exit_code == 2 and "street: 's9' is not a street" in unknown.output


def test_an_empty_board_says_so(db: Path) -> None:
    done = whistle("overdue")
    assert done.exit_code == 0 and "no case is overdue" in done.output
    assert json.loads(whistle("overdue", "--json").stdout)["cases"] == []
