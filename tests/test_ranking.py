"""Issue 11's assessment rules, each on the smallest ledger that shows it: who is
charged with a case (approved and refused returns, withdrawal, the branch's
confirmation, the station's re-dispatch) and how the red and black lists rank
(a minimum sample, like with like). Projection rows are built directly, as in
test_stats."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.engine import Engine

from api.app import create_app
from audit.ranking import SCORE_FORMULA, assessment_rules, check_kind, quarter_lists, red_black
from audit.stats import stats
from models.errors import RuleViolation
from models.policy import AssessmentRules
from org.loader import example_path, load_org
from policy.loader import load_policy
from settings import Settings
from store.engine import make_engine
from store.org import activate_org
from tests.apikit import make_principals
from tests.test_stats import CaseBuilder, checked_stats, save

RULES = AssessmentRules(min_dispatches=2, list_size=1)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(f"sqlite:///{tmp_path}/ranking.db")
    yield made
    made.dispose()


def confirm(case: CaseBuilder, seconds: int, satisfaction: str = "5") -> None:
    case.add(seconds, "resolved")
    case.add(seconds, "confirmed", satisfaction=satisfaction)
    case.add(seconds, "closed")


def units(engine: Engine, by: str = "department") -> dict[str, dict[str, Any]]:
    return checked_stats(engine, by=by)


def test_an_approved_return_is_not_charged(engine: Engine) -> None:
    case = CaseBuilder("r1", "A", "emergency")
    case.dispatch(0, "police", "fire_rescue")
    case.add(600, "report_in_missed", "police")
    case.add(700, "return_requested", "police", reason="not_our_duty")
    case.add(800, "returned", "police")  # the station approved it
    case.add(900, "reported_in", "fire_rescue")
    case.add(1000, "signed_off", "fire_rescue", outcome="resolved")
    confirm(case, 1000)
    save(engine, case)
    police = units(engine)["police"]
    assert police["dispatches"] == 1 and police["return_rate"] == 1.0
    assert police["response_units"] == police["resolution_units"] == 0
    assert police["satisfaction_units"] == police["on_time_completion_units"] == 0
    assert units(engine)["fire_rescue"]["resolution_rate"] == 1.0


def test_a_refused_return_is_charged_like_any_case(engine: Engine) -> None:
    case = CaseBuilder("r2", "A", "emergency")
    case.dispatch(0, "police")
    case.add(300, "return_requested", "police", reason="not_our_duty")
    case.add(600, "return_refused", "police")
    case.add(1800, "report_in_missed", "police")
    case.add(9000, "resolve_missed", "police")
    case.add(99000, "closed", reason="unconfirmed")
    save(engine, case)
    police = units(engine)["police"]
    assert (police["return_rate"], police["return_units"]) == (0.0, 1)
    assert (police["response_rate"], police["response_units"]) == (0.0, 1)
    assert (police["resolution_rate"], police["resolution_units"]) == (0.0, 1)
    assert police["on_time_completion_rate"] == 0.0


def test_a_withdrawn_case_is_charged_to_no_one(engine: Engine) -> None:
    case = CaseBuilder("w1", "A", "emergency")
    case.dispatch(0, "police")
    case.add(1800, "report_in_missed", "police")
    case.add(2000, "returned", "police")
    case.add(3000, "withdrawn", reason="the owner moved the car")
    save(engine, case)
    assert units(engine) == {}
    compound = units(engine, "compound")["A"]
    assert compound["cases"] == 1 and compound["whistles_per_compound"] == 1.0  # a whistle blown
    assert compound["dispatches"] == 0
    assert all(compound[f"{m}_units"] == 0 for m in ("response", "resolution", "return"))


def test_resolution_rests_on_the_branchs_confirmation(engine: Engine) -> None:
    claimed = CaseBuilder("k1", "A", "emergency")
    claimed.dispatch(0, "police")
    claimed.add(600, "reported_in", "police")
    claimed.add(1000, "signed_off", "police", outcome="resolved")
    claimed.add(1000, "resolved")
    claimed.add(300000, "closed", reason="unconfirmed")  # the branch never confirmed it
    redone = CaseBuilder("k2", "A", "emergency")
    redone.dispatch(0, "police")
    redone.add(600, "reported_in", "police")
    redone.add(1000, "signed_off", "police", outcome="resolved")
    redone.add(1000, "resolved")
    redone.add(2000, "reopened", satisfaction="1")  # below redo_below: a redo, not a close
    redone.add(3000, "signed_off", "police", outcome="resolved")
    confirm(redone, 3000, satisfaction="4")
    save(engine, claimed, redone)
    police = units(engine)["police"]
    assert (police["resolution_rate"], police["resolution_units"]) == (0.5, 2)
    assert police["on_time_completion_rate"] == 1.0  # the sign-offs were on time
    assert (police["satisfaction_rate"], police["satisfaction_units"]) == (0.5, 2)  # 1 and 4
    assert police["redo_rate"] == 0.3333  # one reopening over three resolutions


def test_a_unit_the_station_removed_keeps_its_deadlines_not_the_outcome(engine: Engine) -> None:
    case = CaseBuilder("d1", "A", "enforcement")
    case.dispatch(0, "police")
    case.add(7200, "report_in_missed", "police")
    case.add(8000, "redispatched", added="urban_management", removed="police")
    case.add(8600, "reported_in", "urban_management")
    case.add(9000, "signed_off", "urban_management", outcome="resolved")
    confirm(case, 9000)
    save(engine, case)
    table = units(engine)
    assert table["police"]["response_units"] == 1 and table["police"]["resolution_units"] == 0
    added = table["urban_management"]
    assert added["mean_report_in_seconds"] == 600.0  # from the re-dispatch
    assert added["resolution_rate"] == 1.0 and added["satisfaction_rate"] == 1.0


def test_a_unit_needs_the_minimum_sample_to_be_ranked(engine: Engine) -> None:
    cases = []
    for number, names in enumerate((("police", "fire_rescue"), ("police",))):
        case = CaseBuilder(f"m{number}", "A", "emergency")
        case.dispatch(0, *names)
        for name in names:
            case.add(600, "reported_in", name)
        cases.append(case)
    save(engine, *cases)
    (lists,) = red_black(units(engine), RULES)["lists"]
    assert lists["ranked"] == [{"unit": "police", "kind": "police", "dispatches": 2}]
    assert lists["left_out"] == [
        {
            "unit": "fire_rescue",
            "kind": "fire_rescue",
            "dispatches": 1,
            "why": "fewer than 2 dispatches",
        }
    ]
    assert lists["red"] == lists["black"] == []  # one unit ranked: the best and the worst


def test_units_are_ranked_against_their_own_kind(engine: Engine) -> None:
    policy = load_policy()
    activate_org(engine, load_org(example_path(), policy), source="example")
    cases = []
    for number in range(2):
        case = CaseBuilder(f"p{number}", "A", "emergency")
        case.dispatch(0, "police_anning", "police_jinqiao", "um_squad_1")
        case.add(600, "reported_in", "police_anning")
        case.add(600, "reported_in", "um_squad_1")
        case.add(1800, "report_in_missed", "police_jinqiao")
        cases.append(case)
    save(engine, *cases)
    table = units(engine)
    assert table["police_anning"]["kind"] == "police" and table["um_squad_1"]["kind"] == (
        "urban_management"
    )
    (police,) = red_black(table, RULES, kind="police")["lists"]
    assert [r["unit"] for r in police["red"]] == ["police_anning"]
    assert [r["unit"] for r in police["black"]] == ["police_jinqiao"]
    each = red_black(table, RULES, each_kind=True)["lists"]
    assert [(lists["kind"], len(lists["ranked"])) for lists in each] == [
        ("police", 2),
        ("urban_management", 1),
    ]
    assert set(stats(engine, kind="police")["groups"]) == {"police_anning", "police_jinqiao"}
    with pytest.raises(RuleViolation, match="kind: picks units, so it needs by=department"):
        stats(engine, by="compound", kind="police")
    with pytest.raises(RuleViolation, match="kind: give one kind or ask for each kind"):
        red_black(table, RULES, kind="police", each_kind=True)
    with pytest.raises(RuleViolation, match="kind: unknown department kind 'polize'"):
        check_kind("polize", policy)


def test_the_lists_state_their_local_quarter_rules_and_formula(engine: Engine) -> None:
    case = CaseBuilder("q1", "A", "emergency", start=datetime(2026, 9, 30, 17, tzinfo=UTC))
    case.dispatch(0, "police")  # 1 October, 01:00 in Beijing: the fourth quarter
    case.add(600, "reported_in", "police")
    save(engine, case)
    policy = replace(load_policy(), assessment=AssessmentRules(min_dispatches=1, list_size=3))
    document = quarter_lists(engine, policy, quarter="2026Q4", zone=ZoneInfo("Asia/Shanghai"))
    assert document["from"] == "2026-10-01T00:00:00+08:00" and document["zone"] == "Asia/Shanghai"
    assert document["formula"] == SCORE_FORMULA and document["min_dispatches"] == 1
    assert [r["unit"] for r in document["lists"][0]["ranked"]] == ["police"]


@pytest.mark.skipif(
    load_policy().assessment is None, reason="policy.loader does not read [assessment] yet"
)
def test_a_policy_stored_without_assessment_rules_takes_the_defaults() -> None:
    default = load_policy()
    assert assessment_rules(replace(default, assessment=None)) == default.assessment
    own = AssessmentRules(min_dispatches=9, list_size=2)
    assert assessment_rules(replace(default, assessment=own)) == own


def test_a_miss_counts_once_and_meeting_it_late_is_not_on_time(engine: Engine) -> None:
    case = CaseBuilder("s1", "A", "emergency")  # on_miss = supervise: the unit stays late
    case.dispatch(0, "police")
    case.add(1800, "report_in_missed", "police")
    case.add(3600, "report_in_missed", "police")  # the supervision interval passed too
    case.add(4000, "reported_in", "police")
    case.add(90000, "resolve_missed", "police")
    case.add(95000, "signed_off", "police", outcome="resolved")
    confirm(case, 95000)
    save(engine, case)
    police = units(engine)["police"]
    assert (police["response_rate"], police["response_units"]) == (0.0, 1)
    assert (police["on_time_completion_rate"], police["on_time_completion_units"]) == (0.0, 1)
    assert police["mean_report_in_seconds"] == 4000.0  # the time it really took
    assert police["resolution_rate"] == 1.0


async def test_the_api_ranks_by_kind_and_states_the_sample(engine: Engine) -> None:
    activate_org(engine, load_org(example_path(), load_policy()), source="example")
    cases = []
    for number in range(5):  # the default policy ranks from 5 dispatches
        case = CaseBuilder(f"h{number}", "A", "emergency")
        case.dispatch(0, "police_anning", "um_squad_1", *(["fire_anning"] if number else []))
        case.add(600, "reported_in", "police_anning")
        case.add(600, "reported_in" if number else "report_in_missed", "um_squad_1")
        cases.append(case)
    save(engine, *cases)
    auditor = make_principals(engine, "rank")["auditor"]
    app = create_app(Settings(), engine=engine)
    app.state.engine = engine  # no lifespan here: these routes need no Temporal client
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {auditor}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as http:
        answer = (await http.get("/stats/red-black?quarter=2026Q4")).json()
        assert answer["formula"] == SCORE_FORMULA and answer["zone"] == "Asia/Shanghai"
        assert (answer["min_dispatches"], answer["from"]) == (5, "2026-10-01T00:00:00+08:00")
        (every,) = answer["lists"]
        assert [u["unit"] for u in every["ranked"]] == ["police_anning", "um_squad_1"]
        assert every["left_out"] == [
            {
                "unit": "fire_anning",
                "kind": "fire_rescue",
                "dispatches": 4,
                "why": "fewer than 5 dispatches",
            }
        ]
        police = (await http.get("/stats/red-black?quarter=2026Q4&kind=police")).json()
        assert [u["unit"] for u in police["lists"][0]["ranked"]] == ["police_anning"]
        assert police["lists"][0]["red"] == police["lists"][0]["black"] == []  # one unit
        each = (await http.get("/stats/red-black?quarter=2026Q4&each_kind=true")).json()
        assert [lists["kind"] for lists in each["lists"]] == [
            "fire_rescue",
            "police",
            "urban_management",
        ]
        table = (await http.get("/stats?quarter=2026Q4&kind=urban_management")).json()
        assert list(table["groups"]) == ["um_squad_1"] and table["kind"] == "urban_management"
        bad = await http.get("/stats/red-black?kind=polize")
        assert bad.status_code == 422 and "kind: unknown department kind" in bad.text
        both = await http.get("/stats/red-black?kind=police&each_kind=true")
        assert both.status_code == 422 and "not both" in both.text
        grouped = await http.get("/stats?by=level&kind=police")
        assert grouped.status_code == 422 and "needs by=department" in grouped.text
