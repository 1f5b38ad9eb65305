"""The ``whistle`` command without a server: options, output for people, actors.

What needs Temporal is in tests/test_cli_e2e.py; here the commands run in
process (typer's CliRunner) over a SQLite projection filled by hand, or with
the delivery of an action replaced by a recorder.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlmodel import Session
from temporalio.service import RPCError, RPCStatusCode
from typer.testing import CliRunner

from audit.replay import fetch_history
from casework.cases import TemporalRefused
from casework.connection import TemporalUnreachable
from casework.views import CASE_FIELDS, DEADLINE_FIELDS, DEPARTMENT_FIELDS, RAISED_FIELDS
from cli import actions, output, reading, support
from cli.main import app
from engine.embedded import EmbeddedTemporal
from engine.exits import EXIT_UNAVAILABLE
from models.case import Action
from models.errors import CaseNotFound, EngineUnavailable
from models.levels import WhistleLevel
from models.limits import LIST_LIMIT_DEFAULT, SATISFACTION_MAX, SATISFACTION_MIN, SOURCE_MAX
from models.tables import CaseEventRecord, CaseRecord, PolicyRecord
from policy.loader import load_policy
from settings import get_settings
from store.case_filters import CaseFilter
from store.engine import make_engine
from store.org import org_in_force
from store.policies import activate_policy, policy_for_new_cases, policy_in_force

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
    assert (  # a local quarter (issue #11): it starts at midnight in the district
        "period 2026Q4: raised 2026-10-01 00:00 until 2027-01-01 00:00 Asia/Shanghai" in text.stdout
    )
    assert json.loads(whistle("stats", "--quarter", "2026Q4", "--json").stdout)["from"] == (
        "2026-10-01T00:00:00+08:00"
    )
    assert "period: every case" in whistle("stats").stdout
    bad = whistle("stats", "--from", "2026-13-01")
    assert bad.exit_code == 2 and "from: must be a day" in bad.stderr


def add_raised_event(db: Path, case_id: str) -> None:
    """A bare ``raised`` event in the projection, as a restore by hand would leave it."""
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        session.add(
            CaseEventRecord(
                case_id=case_id, seq=1, kind="raised", at=NOW, actor="b", level="emergency"
            )
        )
        session.commit()
    engine.dispose()


def test_stats_rebuild_credits_a_ledger_put_back_by_hand(db: Path) -> None:
    """Rows restored around the projection count once ``stats rebuild`` has run."""
    add_case(db, "restored-1", compound="Restored", status="closed")
    add_raised_event(db, "restored-1")

    def by_compound() -> dict[str, Any]:
        done = whistle("stats", "--by", "compound", "--json")
        assert done.exit_code == 0, done.output
        groups: dict[str, Any] = json.loads(done.stdout)["groups"]
        return groups

    assert "Restored" not in by_compound()
    done = whistle("stats", "rebuild")
    assert done.exit_code == 0, done.output
    assert "credited" in done.stdout
    assert by_compound()["Restored"]["cases"] == 1
    again = whistle("stats", "rebuild", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout) == {"credited": 1}


def test_audit_verify_tells_not_yet_projected_from_broken(db: Path) -> None:
    """A case raised a moment ago (no case row, no events yet) is not broken."""
    fresh = whistle("audit", "verify", "just-raised", "--json")
    assert fresh.exit_code == 0, fresh.output
    document = json.loads(fresh.stdout)
    assert document["ok"] is True
    assert document["cases"] == [
        {
            "case_id": "just-raised",
            "ok": False,
            "projected": False,
            "events": 0,
            "archived": False,
            "problem": None,
        }
    ]
    text = whistle("audit", "verify", "just-raised")
    assert text.exit_code == 0, text.output
    assert "not yet projected" in text.stdout and "BROKEN" not in text.stdout
    assert "1 cases checked, 0 broken, 1 not yet projected" in text.stdout

    add_raised_event(db, "orphan")
    orphan = whistle("audit", "verify", "orphan")
    assert orphan.exit_code == 1 and "BROKEN" in orphan.stdout


def test_policy_is_printed_for_people(db: Path) -> None:
    done = whistle("policy")
    assert done.exit_code == 0, done.output
    text = done.stdout
    assert "seconds" not in text and "{" not in text
    for title in ("levels", "rules", "calendar", "assessment", "routing", "departments"):
        assert title in text
    assert "return reasons" in text

    def row(name: str) -> list[str]:
        line = next(line for line in text.splitlines() if f" {name} " in line)
        return [cell.strip() for cell in line.strip("│ ").split("│")]

    # whistle, report in, resolve, remind at, extension cap, on a miss, supervise every
    assert row("emergency") == ["emergency", "30m", "1d", "50%", "1d", "escalate", "30m"]
    assert row("enforcement") == ["enforcement", "2h", "5wd", "50%", "10d", "escalate", "2h"]
    assert row("joint") == ["joint", "3wd", "15wd", "50%", "10d", "supervise", "1d"]
    assert "wd: working days" in text
    assert "fire_lane" in text and "not_our_duty" in text
    assert "return a case within 2wd of being dispatched" in text
    assert "the station reviews a return (退单审核) within 1wd" in text
    assert "the branch confirms within 3wd" in text
    assert "a score below 3 (of 5) sends the case back for a redo (重办)" in text
    assert "at most 2 times; then to the station's joint meeting" in text
    assert "ends at 24:00 local time (Asia/Shanghai)" in text
    assert "own days off: none" in text and "own days worked: none" in text
    assert "at least 5 dispatches" in text and "name 3 units each" in text


def test_a_clock_time_policy_is_printed_as_such(db: Path, tmp_path: Path) -> None:
    given = tmp_path / "district.toml"
    given.write_text(
        "[levels.enforcement]\n"
        'resolve = "7d"\n'
        'on_miss = "supervise"\n'
        "[rules]\n"
        'return_window = "2d"\n'
        'confirmation = "36h"\n'
        'return_review = "4h"\n'
        "redo_below = 0\n"
        "[calendar]\n"
        'closes_at = "17:30"\n'
        'holidays = ["2026-11-16"]\n'
        'workdays = ["2026-11-21", "2026-11-22"]\n'
        "[assessment]\n"
        "min_dispatches = 8\n"
        "list_size = 5\n",
        encoding="utf-8",
    )
    done = whistle("policy", "--check", str(given))
    assert done.exit_code == 0, done.output
    text = done.stdout
    enforcement = next(line for line in text.splitlines() if " enforcement " in line)
    assert [cell.strip() for cell in enforcement.strip("│ ").split("│")] == [
        "enforcement",
        "2h",
        "7d",
        "50%",
        "10d",
        "supervise",
        "2h",
    ]
    assert "return a case within 2d of being dispatched" in text
    assert "the station reviews a return (退单审核) within 4h" in text
    assert "the branch confirms within 1d12h" in text
    assert "every score closes the case: no redo" in text
    assert "ends at 17:30 local time" in text
    assert "own days off: 2026-11-16" in text
    assert "own days worked: 2026-11-21, 2026-11-22" in text
    assert "at least 8 dispatches" in text and "name 5 units each" in text


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
        ["request-meeting", "c", "--reason", "r"],
        ["meeting", "c", "--lead", "police"],
        ["supervise", "c", "--note", "n"],
        ["report-in", "c", "-d", "police", "--actor", "officer Wang"],
    ):
        done = whistle(*args)
        assert done.exit_code == 0, (args, done.output)
    assert [a.actor for a in delivered] == [
        "department:police",
        "department:police",
        "department:police",
        "station",  # the station decides extensions (extend --approve)
        "branch",
        "branch",
        "branch",
        "branch",
        "branch",  # the branch requests a joint meeting,
        "station",  # the station holds it
        "station",  # and supervises (督办)
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
        TemporalRefused("case: no worker answered"),
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


def test_the_projection_names_the_joint_meeting_deadline(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meeting_by = datetime.now(UTC) + timedelta(hours=3)
    add_case(db, "case-joint", level="joint", status="joint_meeting", report_in_deadline=meeting_by)
    add_case(db, "case-fresh")

    async def no_server(settings: object) -> object:
        return object()

    async def unanswered(client: object, case_id: str) -> object:
        raise CaseNotFound(f"case: no case {case_id!r}")

    monkeypatch.setattr(support, "connect", no_server)
    monkeypatch.setattr(reading, "read_case", unanswered)

    def deadlines(case_id: str) -> dict[str, Any]:
        done = whistle("show", case_id, "--json")
        assert done.exit_code == 0, done.output
        found: dict[str, Any] = json.loads(done.stdout)["deadlines"]
        return found

    joint = deadlines("case-joint")
    assert joint["report_in"] is None
    assert datetime.fromisoformat(joint["joint_meeting"]) == meeting_by
    fresh = deadlines("case-fresh")
    assert fresh["report_in"] is not None and fresh["joint_meeting"] is None


# --- one rule, one home: the same answer from every door ------------------------


def test_raise_json_is_the_document_the_api_answers(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fake_raise(client: object, request: Any, **_: Any) -> str:
        return "case-x"

    async def no_server(settings: object) -> object:
        return object()

    monkeypatch.setattr(actions, "raise_whistle", fake_raise)
    monkeypatch.setattr(support, "connect", no_server)
    done = whistle(
        "raise",
        "--compound",
        "A",
        "--level",
        "2",
        "--category",
        "parking",
        "--title",
        "t",
        "--json",
    )
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert tuple(document) == RAISED_FIELDS  # as POST /cases (tests/test_api.py)
    assert document["level"] == WhistleLevel.parse(2).label and document["duplicate"] is False


def test_a_satisfaction_out_of_range_is_bad_input(db: Path, delivered: list[Action]) -> None:
    for score in (str(SATISFACTION_MIN - 1), str(SATISFACTION_MAX + 1)):
        done = whistle("confirm", "c", "--satisfaction", score)
        assert done.exit_code == output.EXIT_BAD_INPUT, done.output
    assert delivered == []


@pytest.mark.parametrize("command", ["policy", "org"])
def test_apply_and_check_together_are_refused(db: Path, tmp_path: Path, command: str) -> None:
    given = tmp_path / "given.toml"
    given.write_text("", encoding="utf-8")
    done = whistle(command, "--apply", str(given), "--check", str(given))
    assert done.exit_code == output.EXIT_BAD_INPUT
    assert "give one of them" in done.output
    engine = make_engine(f"sqlite:///{db}")
    try:
        assert policy_in_force(engine) is None and org_in_force(engine) is None
    finally:
        engine.dispose()


def test_a_listing_has_one_default_size() -> None:
    from api.routes import cases as api_cases

    defaults = [
        inspect.signature(function).parameters["limit"].default
        for function in (reading.cases, api_cases.list_cases)
    ]
    assert defaults == [LIST_LIMIT_DEFAULT, LIST_LIMIT_DEFAULT]
    assert CaseFilter().limit == LIST_LIMIT_DEFAULT


def test_the_policy_for_new_cases_and_a_long_source(db: Path) -> None:
    engine = make_engine(f"sqlite:///{db}")
    settings = get_settings()
    try:
        fallback = policy_for_new_cases(engine, settings)
        assert fallback.version == load_policy(settings.policy_file).version
        activate_policy(engine, fallback, source="/" + "p" * (SOURCE_MAX + 100))
        with Session(engine) as session:
            record = session.get(PolicyRecord, fallback.version)
        assert record is not None and len(record.source) == SOURCE_MAX
        assert policy_for_new_cases(engine, settings) == policy_in_force(engine)
    finally:
        engine.dispose()


# --- errors: EngineUnavailable, never a base class kept for old callers ---------


def test_the_worker_exits_4_only_when_temporal_is_unavailable(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import worker

    async def unreachable(settings: object, stop: object) -> None:
        raise TemporalUnreachable("cannot reach Temporal at 127.0.0.1:1")

    async def broken(settings: object, stop: object) -> None:
        raise RuntimeError("a bug, not an outage")

    monkeypatch.setattr(worker, "run_worker", unreachable)
    assert worker.main() == EXIT_UNAVAILABLE
    monkeypatch.setattr(worker, "run_worker", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        worker.main()


async def test_a_dead_dev_server_is_engine_unavailable(tmp_path: Path) -> None:
    class Exited:
        returncode = 1

        def poll(self) -> int:
            return self.returncode

    server = EmbeddedTemporal(tmp_path, port=1)
    server._process = Exited()  # type: ignore[assignment]
    with pytest.raises(EngineUnavailable, match="exited with 1"):
        await server.connect(timeout=1)


@pytest.mark.parametrize(
    ("status", "error"),
    [(RPCStatusCode.NOT_FOUND, CaseNotFound), (RPCStatusCode.UNAVAILABLE, EngineUnavailable)],
)
async def test_fetching_a_history_fails_as_a_whistle_error(
    status: RPCStatusCode, error: type[Exception]
) -> None:
    class Handle:
        async def fetch_history(self) -> object:
            raise RPCError("Temporal says no", status, b"")

    class Refusing:
        def get_workflow_handle(self, case_id: str) -> Handle:
            return Handle()

    with pytest.raises(error) as raised:
        await fetch_history(Refusing(), None, "case-gone")  # type: ignore[arg-type]
    assert not isinstance(raised.value, RPCError)
    assert not isinstance(TemporalRefused("x"), RPCError)
    assert not isinstance(TemporalUnreachable("x"), RuntimeError)


def test_admin_sets_a_password_from_standard_input(db: Path) -> None:
    from store.sign_in import sign_in

    added = runner.invoke(app, ["admin", "add-principal", "--name", "pw-t", "--kind", "auditor"])
    assert added.exit_code == 0, added.output
    done = runner.invoke(
        app, ["admin", "set-password", "pw-t", "--password-stdin"], input="cli-set-2026\n"
    )
    assert done.exit_code == 0 and "password set for pw-t" in done.output
    engine = make_engine(f"sqlite:///{db}")
    assert sign_in(engine, "pw-t", "cli-set-2026", "127.0.0.1").principal is not None
    short = runner.invoke(app, ["admin", "set-password", "pw-t", "--password-stdin"], input="x\n")
    assert (
        short.exit_code == output.EXIT_BAD_INPUT and "password: must be 10 to 128" in short.output
    )
    unknown = runner.invoke(
        app, ["admin", "set-password", "nobody", "--password-stdin"], input="long enough pw\n"
    )
    assert unknown.exit_code == output.EXIT_NOT_FOUND and "no principal 'nobody'" in unknown.output
    engine.dispose()
