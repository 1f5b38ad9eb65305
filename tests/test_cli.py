"""The ``whistle`` command without a server: options, output for people, actors.

What needs Temporal is in tests/test_cli_e2e.py; here the commands run in
process (typer's CliRunner) over a SQLite projection filled by hand, or with
the delivery of an action replaced by a recorder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlmodel import Session
from temporalio.service import RPCStatusCode
from typer.testing import CliRunner

from casework.cases import TemporalRefused
from casework.views import CASE_FIELDS, DEADLINE_FIELDS, DEPARTMENT_FIELDS
from cli import actions, output, reading, support
from cli.main import app
from models.case import Action
from models.errors import CaseNotFound
from models.tables import CaseRecord
from settings import get_settings
from store.engine import make_engine

runner = CliRunner()
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def leaves(command: Any, path: str = "whistle") -> Iterator[tuple[str, Any]]:
    """Every command that runs (a group with a callback of its own runs too)."""
    subcommands = getattr(command, "commands", None)
    if subcommands is None or getattr(command, "invoke_without_command", False):
        yield path, command
    for name, sub in (subcommands or {}).items():
        yield from leaves(sub, f"{path} {name}")


def takes_json(command: Any) -> bool:
    return any("--json" in getattr(param, "opts", []) for param in command.params)


def test_every_command_takes_json() -> None:
    found = dict(leaves(typer.main.get_command(app)))
    assert {"whistle audit export", "whistle stats", "whistle dev"} <= set(found)
    assert [path for path, command in found.items() if not takes_json(command)] == []


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "whistle.db"
    monkeypatch.setenv("WHISTLE_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("WHISTLE_TEMPORAL_ADDRESS", "127.0.0.1:1")
    monkeypatch.setenv("WHISTLE_TIMEZONE", "Asia/Shanghai")
    monkeypatch.setenv("COLUMNS", "80")
    get_settings.cache_clear()
    make_engine(f"sqlite:///{path}").dispose()
    yield path
    get_settings.cache_clear()


def add_case(db: Path, case_id: str, **fields: Any) -> None:
    values: dict[str, Any] = {
        "compound": "Anningyuan",
        "category": "parking",
        "title": "Car on the fire lane",
        "level": "emergency",
        "status": "awaiting_report_in",
        "departments": "police,urban_management",
        "raised_by": "branch",
        "raised_at": NOW,
        "updated_at": NOW,
        "report_in_deadline": datetime.now(UTC) + timedelta(minutes=30),
        "policy_version": "p-test",
        **fields,
    }
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        session.add(CaseRecord(case_id=case_id, **values))
        session.commit()
    engine.dispose()


def whistle(*args: str) -> Any:
    return runner.invoke(app, list(args))


LONG_ID = "case-20261129-0123456789-a-rather-long-but-legal-id"


def test_cases_prints_whole_ids_and_filters_like_the_api(db: Path) -> None:
    add_case(db, LONG_ID)
    add_case(
        db,
        "case-late",
        compound="Xiangyang",
        title="Rooftop shed",
        level="joint",
        status="joint_meeting",
        departments="housing",
        report_in_deadline=datetime.now(UTC) - timedelta(hours=2),
    )
    shown = whistle("cases")
    assert shown.exit_code == 0, shown.output
    assert LONG_ID in shown.output and "case-late" in shown.output
    assert max(len(line) for line in shown.output.splitlines()) <= 80

    def listed(*args: str) -> list[str]:
        done = whistle("cases", *args, "--json")
        assert done.exit_code == 0, done.output
        return [c["case_id"] for c in json.loads(done.stdout)["cases"]]

    assert listed("--compound", "Xiangyang") == ["case-late"]
    assert listed("--level", "4") == ["case-late"]
    assert listed("--level", "emergency") == [LONG_ID]
    assert listed("--department", "police") == [LONG_ID]
    assert listed("--overdue") == ["case-late"]
    assert listed("--on-time") == [LONG_ID]
    assert listed("--text", "rooftop") == ["case-late"]
    assert listed("--status", "joint_meeting") == ["case-late"]
    assert whistle("cases", "--level", "urgent").exit_code == 2


def test_cases_says_when_none_match(db: Path) -> None:
    empty = whistle("cases", "--text", "nothing like it")
    assert empty.exit_code == 0
    assert empty.stdout == "" and "no cases match" in empty.stderr
    assert json.loads(whistle("cases", "--json").stdout) == {"cases": []}


def test_stats_names_its_period_and_keeps_an_explicit_offset(db: Path) -> None:
    done = whistle("stats", "--from", "2026-11-01T08:00+08:00", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["from"] == "2026-11-01T08:00:00+08:00"
    text = whistle("stats", "--quarter", "2026Q4")
    assert "period 2026Q4: raised from 2026-10-01 00:00 UTC until 2027-01-01 00:00 UTC" in (
        text.stdout
    )
    assert "period: every case" in whistle("stats").stdout
    bad = whistle("stats", "--from", "2026-13-01")
    assert bad.exit_code == 2 and "from: must be a day" in bad.stderr


def test_policy_is_printed_for_people(db: Path) -> None:
    done = whistle("policy")
    assert done.exit_code == 0, done.output
    assert "seconds" not in done.stdout and "{" not in done.stdout
    emergency = next(line for line in done.stdout.splitlines() if "emergency" in line)
    assert "30m" in emergency and "1d" in emergency
    for title in ("levels", "routing", "departments", "return reasons"):
        assert title in done.stdout
    assert "fire_lane" in done.stdout and "not_our_duty" in done.stdout
    assert "return a case within 2d" in done.stdout


def case_at(deadline: datetime, status: str = "awaiting_report_in") -> dict[str, Any]:
    return {
        "case_id": "case-1",
        "title": "Car",
        "compound": "Anningyuan",
        "category": "parking",
        "level": "enforcement",
        "status": status,
        "lead": "police",
        "policy_version": "p-1",
        "departments": [
            {
                "department": "police",
                "reported_in_at": None,
                "outcome": None,
                "task": None,
                "missed_deadlines": 1,
            }
        ],
        "deadlines": {"report_in": deadline.isoformat(), "resolve": None},
        "events": [
            {
                "seq": 2,
                "at": "2026-11-29T12:00:00.123456+00:00",
                "level": "emergency",
                "kind": "dispatched",
                "actor": "system",
                "department": None,
                "detail": {"departments": "police,urban_management", "lead": "police"},
            },
            {
                "seq": 3,
                "at": "2026-11-29T12:30:00+00:00",
                "level": "enforcement",
                "kind": "escalated",
                "actor": "system",
                "department": None,
                "from_level": "emergency",
                "to_level": "enforcement",
                "reason": "report-in deadline missed by police",
                "detail": {},
            },
        ],
    }


def shown(document: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> str:
    output.print_case(document, now=NOW)
    return capsys.readouterr().out


def test_show_gives_deadlines_in_local_time_with_time_left(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = shown(case_at(NOW + timedelta(minutes=25, seconds=40)), capsys)
    assert "deadline report in: 2026-11-29 20:25 (Asia/Shanghai)  in 25m" in text
    assert ".123456" not in text and "+00:00" not in text
    text = shown(case_at(NOW - timedelta(hours=2, seconds=5)), capsys)
    assert "overdue by 2h" in text
    closed = shown(case_at(NOW - timedelta(hours=2), status="closed"), capsys)
    assert "overdue" not in closed
    assert "2026-11-29 20:00:00" in text  # events too, in local time
    dispatched = next(line for line in text.splitlines() if "dispatched" in line)
    assert "police, urban_management" in dispatched and "lead police" in dispatched
    escalated = next(line for line in text.splitlines() if "escalated" in line)
    assert escalated.endswith("by system") and "police  " not in escalated


def test_an_unknown_time_zone_is_refused(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHISTLE_TIMEZONE", "Mars/Olympus")
    with pytest.raises(typer.Exit):
        output.display_zone()


@pytest.fixture
def delivered(monkeypatch: pytest.MonkeyPatch) -> list[Action]:
    """Actions the CLI would deliver, recorded instead of sent."""
    seen: list[Action] = []

    def record(case_id: str, action: Action, as_json: bool, via: object) -> None:
        seen.append(action)

    monkeypatch.setattr(support, "act_and_print", record)
    return seen


def test_default_actor_is_one_value_per_role(db: Path, delivered: list[Action]) -> None:
    for args in (
        ["report-in", "c", "-d", "police"],
        ["sign-off", "c", "-d", "police", "--outcome", "resolved"],
        ["extend", "c", "-d", "police", "--by", "1d", "--reason", "r"],
        ["extend", "c", "-d", "police", "--approve"],
        ["escalate", "c", "--reason", "r"],
        ["confirm", "c", "--satisfaction", "4"],
        ["reopen", "c", "--reason", "r"],
        ["withdraw", "c", "--reason", "r"],
        ["meeting", "c", "--lead", "police"],
        ["report-in", "c", "-d", "police", "--actor", "officer Wang"],
    ):
        done = whistle(*args)
        assert done.exit_code == 0, (args, done.output)
    assert [a.actor for a in delivered] == [
        "department:police",
        "department:police",
        "department:police",
        "branch",
        "branch",
        "branch",
        "branch",
        "branch",
        "branch",
        "officer Wang",
    ]


def test_raise_names_the_branch_unless_told(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raised: list[Any] = []

    async def fake_raise(client: object, request: Any, **_: Any) -> str:
        raised.append(request)
        return "case-x"

    async def no_server(settings: object) -> object:
        return object()

    monkeypatch.setattr(actions, "raise_whistle", fake_raise)
    monkeypatch.setattr(support, "connect", no_server)
    base = ["raise", "--compound", "A", "--level", "2", "--category", "parking", "--title", "t"]
    assert whistle(*base).exit_code == 0
    assert whistle(*base, "--actor", "secretary Li").exit_code == 0
    assert whistle(*base, "--raised-by", "secretary Wu").exit_code == 0
    assert [r.raised_by for r in raised] == ["branch", "secretary Li", "secretary Wu"]


@pytest.mark.parametrize(
    "failure",
    [
        TemporalRefused("case: no worker answered", RPCStatusCode.DEADLINE_EXCEEDED, b""),
        CaseNotFound("case: no case 'c'"),
    ],
)
def test_show_falls_back_to_the_projection_in_the_case_shape(
    db: Path, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    add_case(db, "case-projected")

    async def no_server(settings: object) -> object:
        return object()

    async def unanswered(client: object, case_id: str) -> object:
        raise failure

    monkeypatch.setattr(support, "connect", no_server)
    monkeypatch.setattr(reading, "read_case", unanswered)
    done = whistle("show", "case-projected", "--json")
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert tuple(document) == CASE_FIELDS
    assert document["source"] == "projection" and document["events"] == []
    assert tuple(document["deadlines"]) == DEADLINE_FIELDS
    assert [tuple(d) for d in document["departments"]] == [DEPARTMENT_FIELDS] * 2
    text = whistle("show", "case-projected")
    assert text.exit_code == 0 and "from the SQL projection" in text.stderr
    missing = whistle("show", "case-nowhere")
    assert missing.exit_code == (4 if isinstance(failure, TemporalRefused) else 3)
