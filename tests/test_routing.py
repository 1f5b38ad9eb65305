"""Routing a new case to the organisation's units, the station principal bound to
a street, and the migration that gives principals their street."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from typer.testing import CliRunner

from casework.routing import compound_code, route_units, unit_refs
from cli.main import app
from models.case import UnitRef
from models.errors import RuleViolation
from models.org import Organisation, compounds_of_street
from models.policy import Policy
from org.loader import parse_org
from settings import get_settings
from store.engine import alembic_config, make_engine
from store.org import activate_org
from store.principals import add_principal

runner = CliRunner()

ROUTED_ELSEWHERE = (
    "urban_management",
    "fire_rescue",
    "market_regulation",
    "housing",
    "environment",
    "landscaping",
    "sanitation",
    "utilities",
)
# Two streets: 安宁苑 in s1 (police_a by its community, police_c by the compound
# itself: the narrower), 向阳 in s2 (police_b by its street).
TWO_STREETS = (
    'name = "测试区"\n\n'
    '[streets.s1]\nname = "一街道"\n\n'
    '[streets.s2]\nname = "二街道"\n\n'
    '[communities.c1]\nname = "一社区"\nstreet = "s1"\n\n'
    '[communities.c2]\nname = "二社区"\nstreet = "s2"\n\n'
    '[compounds.anningyuan]\nname = "安宁苑"\ncommunity = "c1"\n\n'
    '[compounds.heping]\nname = "和平小区"\ncommunity = "c1"\n\n'
    '[compounds.xiangyang]\nname = "向阳小区"\ncommunity = "c2"\n\n'
    '[units.police_a]\nname = "甲派出所"\nkind = "police"\njurisdiction = ["c1"]\n\n'
    '[units.police_c]\nname = "丙警务站"\nkind = "police"\njurisdiction = ["anningyuan"]\n\n'
    '[units.police_b]\nname = "乙派出所"\nkind = "police"\njurisdiction = ["s2"]\n\n'
) + "".join(
    f'[units.{kind}_1]\nname = "{kind}单位"\nkind = "{kind}"\njurisdiction = ["s1", "s2"]\n\n'
    for kind in ROUTED_ELSEWHERE
)


@pytest.fixture
def org(policy: Policy) -> Organisation:
    return parse_org(TWO_STREETS, policy, source="two-streets.toml")


def codes(org: Organisation | None, policy: Policy, compound: str, *named: str) -> list[str]:
    return [u.code for u in route_units(org, policy, compound, "fire_lane", list(named))]


def test_the_narrowest_unit_of_each_kind_lead_first(org: Organisation, policy: Policy) -> None:
    units = route_units(org, policy, "Anningyuan", "fire_lane", [])
    assert [(u.code, u.kind) for u in units] == [
        ("fire_rescue_1", "fire_rescue"),
        ("police_c", "police"),  # the compound itself, before its community's police_a
    ]
    assert codes(org, policy, "heping") == ["fire_rescue_1", "police_a"]
    assert codes(org, policy, "xiangyang") == ["fire_rescue_1", "police_b"]


def test_named_departments_are_the_kinds_in_their_order(org: Organisation, policy: Policy) -> None:
    assert codes(org, policy, "xiangyang", "police", "housing") == ["police_b", "housing_1"]


def test_no_organisation_routes_nothing(policy: Policy) -> None:
    assert codes(None, policy, "Anningyuan") == []
    assert compound_code(None, "Anningyuan") == "Anningyuan"


def test_unit_codes_are_the_units_the_organisation_names(org: Organisation) -> None:
    assert unit_refs(org, ["police_a"], field="add") == [UnitRef(code="police_a", kind="police")]
    assert unit_refs(None, ["police"], field="add") == [UnitRef(code="police", kind="police")]
    with pytest.raises(RuleViolation, match="add: 'nobody' is not a unit"):
        unit_refs(org, ["nobody"], field="add")


def test_the_compounds_of_a_street_in_file_order(org: Organisation) -> None:
    assert compounds_of_street(org, "s1") == ["anningyuan", "heping"]
    assert compounds_of_street(org, "nowhere") == []


def test_a_compound_is_recorded_by_its_code(org: Organisation) -> None:
    assert compound_code(org, " Anningyuan ") == "anningyuan"


def test_an_unknown_category_is_left_to_check_raise(org: Organisation, policy: Policy) -> None:
    # models.rules.check_raise is the one home of that message.
    assert route_units(org, policy, "anningyuan", "no_such_category", []) == []


def test_a_compound_outside_the_organisation_is_refused(org: Organisation, policy: Policy) -> None:
    with pytest.raises(RuleViolation, match=r"^compound: 'Nowhere' is not a compound of the "):
        route_units(org, policy, "Nowhere", "fire_lane", [])
    with pytest.raises(RuleViolation, match=r"^compound: 'Nowhere' is not a compound"):
        compound_code(org, "Nowhere")


def test_a_kind_no_unit_covers_is_refused_naming_the_places(
    org: Organisation, policy: Policy
) -> None:
    # The loader refuses such a file; the policy can still route to a new kind later.
    units = {c: u for c, u in org.units.items() if c not in ("police_a", "police_c")}
    bare = dataclasses.replace(org, units=units)
    with pytest.raises(
        RuleViolation,
        match=r"^compound: no police unit's jurisdiction covers 安宁苑 "
        r"\(anningyuan, 一社区, 一街道\); add one to the organisation$",
    ):
        route_units(bare, policy, "Anningyuan", "fire_lane", [])
    assert codes(bare, policy, "xiangyang") == ["fire_rescue_1", "police_b"]


# --- the station principal, through the CLI -----------------------------------


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "whistle.db"
    monkeypatch.setenv("WHISTLE_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def add(*options: str) -> tuple[int, str]:
    result = runner.invoke(app, ["admin", "add-principal", *options])
    return result.exit_code, result.output


def test_cli_station_needs_an_organisation_then_a_street_of_it(
    db: Path, tmp_path: Path, policy: Policy
) -> None:
    code, out = add("--name", "anning-station", "--kind", "station", "--street", "s1")
    assert code == 2
    assert "street: no organisation is in force" in out and "whistle org --apply FILE" in out

    path = tmp_path / "two.toml"
    path.write_text(TWO_STREETS, encoding="utf-8")
    assert runner.invoke(app, ["org", "--apply", str(path)]).exit_code == 0

    code, out = add("--name", "anning-station", "--kind", "station", "--street", "s9")
    assert code == 2 and "street: 's9' is not a street of the organisation" in out
    assert "one of: s1, s2" in out
    code, out = add("--name", "anning-station", "--kind", "station")
    assert code == 2 and "street: a station names its street" in out
    code, out = add("--name", "b", "--kind", "branch", "--compound", "x", "--street", "s1")
    assert code == 2 and "street: only a station is bound to a street" in out
    code, out = add("--name", "s", "--kind", "station", "--street", "s1", "--department", "police")
    assert code == 2 and "department: only a department principal" in out

    code, out = add("--name", "anning-station", "--kind", "station", "--street", "s1")
    assert code == 0, out
    assert "added station:anning-station: street s1 (一街道)" in out
    listed = json.loads(runner.invoke(app, ["admin", "principals", "--json"]).stdout)
    assert listed["principals"] == [
        {
            "name": "anning-station",
            "kind": "station",
            "compounds": [],
            "department": None,
            "street": "s1",
        }
    ]


def test_cli_department_names_a_unit_or_a_department_code(
    db: Path, tmp_path: Path, policy: Policy
) -> None:
    code, out = add("--name", "pa", "--kind", "department", "--department", "police_a")
    assert code == 2
    assert "department: unknown department 'police_a': not a department code" in out
    assert "no organisation is in force" in out

    path = tmp_path / "two.toml"
    path.write_text(TWO_STREETS, encoding="utf-8")
    assert runner.invoke(app, ["org", "--apply", str(path)]).exit_code == 0
    code, out = add("--name", "pa", "--kind", "department", "--department", "police_a")
    assert code == 0 and "unit police_a (甲派出所, a police unit of the organisation)" in out
    code, out = add("--name", "pol", "--kind", "department", "--department", "police")
    assert code == 0 and "department code police of the policy" in out
    code, out = add("--name", "px", "--kind", "department", "--department", "police_x")
    assert code == 2
    assert "unknown department 'police_x': neither a unit of the organisation" in out


# --- the migration ------------------------------------------------------------


def test_migration_0005_adds_and_drops_the_street(tmp_path: Path, policy: Policy) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = make_engine(url)  # migrates to head
    activate_org(engine, parse_org(TWO_STREETS, policy, source="t"))
    add_principal(engine, name="st", kind="station", street="s2")
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("principals")}
    assert "street" not in columns and "department" in columns
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT name, street FROM principals")).all()
    assert [tuple(r) for r in rows] == [("st", None)]  # the street went with its column
    engine.dispose()


def test_cli_raise_routes_with_the_organisation_in_force(
    db: Path, tmp_path: Path, policy: Policy
) -> None:
    from casework.driver import whistle
    from cli.actions import _routed

    request = whistle(policy, category="parking", title="t", compound="Xiangyang")
    assert _routed(request, get_settings()) == request  # no organisation: as before
    path = tmp_path / "two.toml"
    path.write_text(TWO_STREETS, encoding="utf-8")
    assert runner.invoke(app, ["org", "--apply", str(path)]).exit_code == 0
    routed = _routed(request, get_settings())
    assert routed.compound == "xiangyang"
    assert [(u.code, u.kind) for u in routed.units] == [
        ("police_b", "police"),
        ("urban_management_1", "urban_management"),
    ]
    with pytest.raises(RuleViolation, match=r"^compound: 'Elsewhere' is not a compound"):
        _routed(dataclasses.replace(request, compound="Elsewhere"), get_settings())
    where = ["--compound", "Elsewhere", "--level", "emergency", "--category", "parking"]
    refused = runner.invoke(app, ["raise", *where, "--title", "t"])
    assert refused.exit_code == 2 and "compound: 'Elsewhere' is not a compound" in refused.output
