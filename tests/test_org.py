"""The district's organisation as data: the example district, the lookups
routing will use, every rule refused with its key, storage that takes effect
without a restart, and ``whistle org``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from cli.main import app
from models.errors import OrgError, RuleViolation
from models.org import Organisation, Unit, community_of, compounds_served, street_of, units_for
from models.policy import Policy
from org.loader import (
    coverage_gaps,
    example_path,
    load_org,
    org_document,
    org_from_document,
    parse_org,
    routed_kinds,
)
from settings import get_settings
from store.engine import make_engine
from store.org import activate_org, org_in_force, org_version_of

runner = CliRunner()

OTHER_KINDS = (
    "urban_management",
    "fire_rescue",
    "market_regulation",
    "housing",
    "environment",
    "landscaping",
    "sanitation",
    "utilities",
)
SMALL = (
    'name = "测试街道"\n\n'
    '[streets.s1]\nname = "一街道"\n\n'
    '[communities.c1]\nname = "一社区"\nstreet = "s1"\n\n'
    '[communities.c2]\nname = "二社区"\nstreet = "s1"\n\n'
    '[compounds.anningyuan]\nname = "安宁苑"\ncommunity = "c1"\n\n'
    '[compounds.p2]\nname = "二小区"\ncommunity = "c2"\n\n'
    '[grids.g1]\nname = "一网格"\ncommunity = "c1"\ncompounds = ["anningyuan"]\n\n'
    '[units.police_a]\nname = "甲派出所"\nkind = "police"\njurisdiction = ["c1"]\n\n'
    '[units.police_b]\nname = "乙派出所"\nkind = "police"\njurisdiction = ["p2"]\n\n'
) + "".join(
    f'[units.{kind}_1]\nname = "{kind}单位"\nkind = "{kind}"\njurisdiction = ["s1"]\n\n'
    for kind in OTHER_KINDS
)


def small(policy: Policy, text: str = SMALL) -> Organisation:
    return parse_org(text, policy, source="small.toml")


@pytest.fixture(scope="module")
def example(policy: Policy) -> Organisation:
    return load_org(example_path(), policy)


# --- the example district ---------------------------------------------------------


def test_the_example_is_a_real_sized_district(example: Organisation, policy: Policy) -> None:
    assert (len(example.streets), len(example.communities)) == (1, 8)
    assert (len(example.compounds), len(example.units)) == (60, 25)
    assert {unit.kind for unit in example.units.values()} == set(policy.departments)
    # the README's and the tests' compounds
    assert {"anningyuan", "xiangyang"} <= set(example.compounds)
    assert example.version.startswith("o-")
    assert load_org(example_path(), policy).version == example.version


def test_the_example_covers_every_compound_and_routed_department(
    example: Organisation, policy: Policy
) -> None:
    assert set(routed_kinds(policy)) == {n for names in policy.routing.values() for n in names}
    assert coverage_gaps(example, policy) == []
    for compound in example.compounds:
        for kind in routed_kinds(policy):
            assert units_for(example, compound, kind), (compound, kind)


def test_grids_walk_compounds_of_their_community(example: Organisation) -> None:
    walked = [c for grid in example.grids.values() for c in grid.compounds]
    assert sorted(walked) == sorted(example.compounds)
    for grid in example.grids.values():
        assert {example.compounds[c].community for c in grid.compounds} == {grid.community}


# --- lookups ----------------------------------------------------------------------


def codes(units: list[Unit]) -> list[str]:
    return [unit.code for unit in units]


def test_units_for_by_community_jurisdiction(example: Organisation) -> None:
    assert codes(units_for(example, "anningyuan", "police")) == ["police_anning"]
    assert codes(units_for(example, "xiangyang", "police")) == ["police_xiangyang"]
    assert codes(units_for(example, "qingta_xili", "fire_rescue")) == ["fire_qingta"]


def test_units_for_by_street_jurisdiction_narrowest_first(example: Organisation) -> None:
    assert codes(units_for(example, "anningyuan", "urban_management")) == ["um_squad_1"]
    # squad 2 serves the community, squad 1 the whole street: the narrower first
    assert codes(units_for(example, "liyuan_beili", "urban_management")) == [
        "um_squad_2",
        "um_squad_1",
    ]
    # a compound named on its own comes before the street-wide unit
    assert codes(units_for(example, "hepingli_1", "housing")) == [
        "housing_safety",
        "housing_property",
    ]
    assert codes(units_for(example, "anningyuan", "housing")) == ["housing_property"]
    assert len(units_for(example, "anningyuan", "utilities")) == 4
    assert units_for(example, "anningyuan", "no_such_kind") == []


def test_street_and_community_of_a_compound_as_a_case_names_it(example: Organisation) -> None:
    assert street_of(example, "anningyuan").code == "anning"
    assert street_of(example, "Anningyuan").name == "安宁街道"  # the README's spelling
    assert community_of(example, " Xiangyang ").code == "xiangyangli"
    with pytest.raises(RuleViolation, match=r"^compound: 'Nowhere' is not a compound"):
        street_of(example, "Nowhere")
    with pytest.raises(RuleViolation, match=r"^compound: "):
        units_for(example, "Nowhere", "police")


def test_compounds_served(example: Organisation) -> None:
    assert len(compounds_served(example, example.units["water_supply"])) == 60
    assert compounds_served(example, example.units["housing_safety"]) == [
        "hepingli_1",
        "hepingli_2",
        "hepingli_3",
        "liyuan_xincun",
        "qingta_xincun",
    ]


def test_small_file_loads(policy: Policy) -> None:
    org = small(policy)
    assert codes(units_for(org, "p2", "police")) == ["police_b"]
    assert codes(units_for(org, "anningyuan", "police")) == ["police_a"]
    assert org.grids["g1"].compounds == ("anningyuan",)


# --- refusals ----------------------------------------------------------------------


def _replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert text.count(old) == 1, old
        return text.replace(old, new)

    return edit


def _append(extra: str) -> Callable[[str], str]:
    return lambda text: text + extra


def _prepend(extra: str) -> Callable[[str], str]:
    return lambda text: extra + text


BAD_FILES: list[tuple[str, Callable[[str], str], str]] = [
    ("toml syntax", _append("[units.x\n"), r"invalid TOML: .*line \d+"),
    ("a table twice", _append('[streets.s1]\nname = "又一街道"\n'), r"invalid TOML: .*line \d+"),
    ("unknown top key", _prepend('colour = "red"\n'), r"colour: unknown key"),
    ("section not a table", lambda _: "grids = 3\n", r"grids: must be a table"),
    (
        "entry not a table",
        lambda _: 'streets = { s1 = "一街道" }\n',
        r"streets\.s1: must be a table",
    ),
    ("bad code", _append('[streets."Bad-Code"]\nname = "街"\n'), r"streets\.Bad-Code: a code is"),
    (
        "code used twice",
        _append('[compounds.c1]\nname = "重名"\ncommunity = "c1"\n'),
        r"compounds\.c1: the code is already used by communities\.c1",
    ),
    (
        "community with an unknown street",
        _replace('name = "二社区"\nstreet = "s1"', 'name = "二社区"\nstreet = "s9"'),
        r"communities\.c2\.street: unknown street 's9'",
    ),
    (
        "community in two streets",
        _replace('name = "二社区"\nstreet = "s1"', 'name = "二社区"\nstreet = ["s1", "s1"]'),
        r"communities\.c2\.street: must name exactly one street",
    ),
    (
        "compound in two communities",
        _replace('community = "c2"', 'community = ["c1", "c2"]'),
        r"compounds\.p2\.community: must name exactly one community",
    ),
    (
        "compound in an unknown community",
        _replace('community = "c2"', 'community = "c9"'),
        r"compounds\.p2\.community: unknown community 'c9'",
    ),
    (
        "compound without a community",
        _replace('name = "二小区"\ncommunity = "c2"', 'name = "二小区"'),
        r"compounds\.p2\.community: missing",
    ),
    (
        "unknown key",
        _replace('name = "甲派出所"', 'name = "甲派出所"\ncolour = "blue"'),
        r"units\.police_a\.colour: unknown key",
    ),
    ("empty name", _replace('name = "一街道"', 'name = "  "'), r"streets\.s1\.name: must not be"),
    (
        "control character in a name",
        _replace('name = "一街道"', 'name = "一\\u0007街道"'),
        r"streets\.s1\.name: must not contain control characters",
    ),
    (
        "name not text",
        _replace('name = "一街道"', "name = 1"),
        r"streets\.s1\.name: must be a text",
    ),
    (
        "unit of an unknown kind",
        _replace('kind = "police"\njurisdiction = ["c1"]', 'kind = "tax"\njurisdiction = ["c1"]'),
        r"units\.police_a\.kind: unknown department 'tax'; the policy p-\w+ knows: ",
    ),
    (
        "empty jurisdiction",
        _replace('jurisdiction = ["c1"]', "jurisdiction = []"),
        r"units\.police_a\.jurisdiction: must not be empty",
    ),
    (
        "jurisdiction not a list",
        _replace('jurisdiction = ["c1"]', 'jurisdiction = "c1"'),
        r"units\.police_a\.jurisdiction: must be a list of codes",
    ),
    (
        "unknown place in a jurisdiction",
        _replace('jurisdiction = ["c1"]', 'jurisdiction = ["c1", "c7"]'),
        r"units\.police_a\.jurisdiction\[1\]: unknown place 'c7'",
    ),
    (
        "a place named twice",
        _replace('jurisdiction = ["c1"]', 'jurisdiction = ["c1", "c1"]'),
        r"units\.police_a\.jurisdiction: names a code twice",
    ),
    (
        "grid walking another community's compound",
        _replace('compounds = ["anningyuan"]', 'compounds = ["p2"]'),
        r"grids\.g1\.compounds\[0\]: compound 'p2' is in community 'c2', not the grid's 'c1'",
    ),
    (
        "grid walking an unknown compound",
        _replace('compounds = ["anningyuan"]', 'compounds = ["anningyuan", "nowhere"]'),
        r"grids\.g1\.compounds\[1\]: unknown compound 'nowhere'",
    ),
    (
        "street without a community",
        _append('[streets.s2]\nname = "二街道"\n'),
        r"streets\.s2: has no community",
    ),
    (
        "community without a compound",
        _append('[communities.c3]\nname = "三社区"\nstreet = "s1"\n'),
        r"communities\.c3: has no compound",
    ),
    (
        "a compound no police station serves",
        _replace('jurisdiction = ["p2"]', 'jurisdiction = ["anningyuan"]'),
        r"units: 1 \(compound, department\) pairs have no unit .* dispatched to nobody: p2 has no police$",
    ),
    (
        "a new compound nobody serves",
        _append(
            '[communities.c3]\nname = "三社区"\nstreet = "s2"\n[streets.s2]\nname = "二街道"\n'
            '[compounds.p3]\nname = "三小区"\ncommunity = "c3"\n'
        ),
        r"units: 9 \(compound, department\) pairs .*: p3 has no urban_management, p3 has no "
        r"fire_rescue, .* \(and 4 more\)$",
    ),
    ("no street", lambda _: 'name = "空"\n', r"streets: must name at least one street"),
]


@pytest.mark.parametrize(
    ("edit", "expected"), [(e, x) for _, e, x in BAD_FILES], ids=[n for n, _, _ in BAD_FILES]
)
def test_a_bad_file_is_refused_with_its_key(
    policy: Policy, edit: Callable[[str], str], expected: str
) -> None:
    with pytest.raises(OrgError, match=r"^org file small\.toml: " + expected):
        small(policy, edit(SMALL))


def test_an_unreadable_or_binary_file_is_refused(tmp_path: Path, policy: Policy) -> None:
    with pytest.raises(OrgError, match="cannot be read"):
        load_org(tmp_path / "missing.toml", policy)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(OrgError, match="must be UTF-8 text"):
        load_org(binary, policy)


def test_version_follows_content(policy: Policy) -> None:
    org = small(policy)
    assert small(policy).version == org.version
    renamed = small(policy, SMALL.replace('name = "一街道"', 'name = "第一街道"'))
    assert renamed.version != org.version
    assert org_from_document(json.loads(json.dumps(org_document(org)))) == org
    tampered = org_document(org)
    tampered["compounds"]["p2"]["community"] = "c1"
    with pytest.raises(OrgError, match="does not match its version"):
        org_from_document(tampered)


# --- storage ------------------------------------------------------------------------


def _edited_example(tmp_path: Path) -> Path:
    """The example with one more compound in 安华社区."""
    path = tmp_path / "edited.toml"
    path.write_text(
        example_path().read_text("utf-8")
        + '\n[compounds.anning_xinyuan]\nname = "安宁新苑"\ncommunity = "anhua"\n',
        encoding="utf-8",
    )
    return path


def _apply_and_read_back(engine: Engine, tmp_path: Path, policy: Policy) -> None:
    first = load_org(example_path(), policy)
    activate_org(engine, first, source=str(example_path()))
    assert org_in_force(engine) == first
    edited = load_org(_edited_example(tmp_path), policy)
    activate_org(engine, edited, source="edited.toml")
    now = org_in_force(engine)  # the same engine, nothing restarted
    assert now == edited and now.version != first.version
    assert codes(units_for(now, "anning_xinyuan", "police")) == ["police_anning"]
    assert org_version_of(engine, first.version) == first
    activate_org(engine, first, source="again")  # an older version comes back
    assert org_in_force(engine) == first


def test_apply_then_read_back_from_sqlite(tmp_path: Path, policy: Policy) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'org.db'}")
    try:
        assert org_in_force(engine) is None
        _apply_and_read_back(engine, tmp_path, policy)
        # another process (a new engine) reads the same
        other = make_engine(f"sqlite:///{tmp_path / 'org.db'}")
        assert org_in_force(other) == org_in_force(engine)
        other.dispose()
    finally:
        engine.dispose()


@pytest.mark.parametrize("step", [0, -3600], ids=["same instant", "clock stepped back"])
def test_the_last_applied_is_in_force_whatever_the_clock(
    tmp_path: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch, step: int
) -> None:
    import store.org

    times = iter(
        datetime(2026, 11, 29, 12, tzinfo=UTC) + timedelta(seconds=step * i) for i in range(9)
    )

    class Clock(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Clock:
            at = next(times)
            return cls.fromtimestamp(at.timestamp(), tz)

    monkeypatch.setattr(store.org, "datetime", Clock)
    engine = make_engine(f"sqlite:///{tmp_path / 'org.db'}")
    try:
        first = load_org(example_path(), policy)
        edited = load_org(_edited_example(tmp_path), policy)
        activate_org(engine, first)
        activate_org(engine, edited)
        assert org_in_force(engine) == edited
        activate_org(engine, first)
        assert org_in_force(engine) == first
    finally:
        engine.dispose()


def test_apply_then_read_back_from_postgresql(
    pg_engine: Engine, tmp_path: Path, policy: Policy
) -> None:
    _apply_and_read_back(pg_engine, tmp_path, policy)


# --- the CLI --------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "whistle.db"
    monkeypatch.setenv("WHISTLE_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("WHISTLE_TEMPORAL_ADDRESS", "127.0.0.1:1")
    monkeypatch.setenv("COLUMNS", "120")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_cli_check_refuses_a_bad_file_naming_the_key(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(SMALL.replace('street = "s1"', 'street = "s9"', 1), encoding="utf-8")
    result = runner.invoke(app, ["org", "--check", str(bad)])
    assert result.exit_code == 2, result.output
    assert "communities.c1.street: unknown street 's9'" in result.output
    result = runner.invoke(app, ["org", "--apply", str(bad)])
    assert result.exit_code == 2
    assert runner.invoke(app, ["org", "--json"]).stdout.strip() == "null"


def test_cli_check_apply_and_show(
    db: Path, tmp_path: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # a terminal as it comes
    example = str(example_path())
    shown = runner.invoke(app, ["org"])
    assert shown.exit_code == 0 and "no organisation in force" in shown.output

    checked = runner.invoke(app, ["org", "--check", example])
    assert checked.exit_code == 0, checked.output
    version = load_org(example_path(), policy).version
    assert f"checked: organisation {version}" in checked.output
    assert runner.invoke(app, ["org", "--json"]).stdout.strip() == "null"  # not applied

    applied = runner.invoke(app, ["org", "--apply", example, "--json"])
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.stdout)["version"] == version

    shown = runner.invoke(app, ["org"])
    assert shown.exit_code == 0, shown.output
    assert f"organisation {version}" in shown.output
    assert "1 street, 8 communities, 60 compounds, 16 grids, 25 units" in shown.output
    assert "安宁派出所" in shown.output and "um_squad_1" in shown.output
    longest = max(load_org(example_path(), policy).units, key=len)
    assert longest in shown.output, "a unit's code is cut in the table"

    edited = runner.invoke(app, ["org", "--apply", str(_edited_example(tmp_path)), "--json"])
    assert edited.exit_code == 0, edited.output
    document = json.loads(runner.invoke(app, ["org", "--json"]).stdout)
    assert document["version"] == json.loads(edited.stdout)["version"] != version
    assert document["compounds"]["anning_xinyuan"] == {"name": "安宁新苑", "community": "anhua"}
    assert document["units"]["police_anning"]["jurisdiction"] == ["anhua", "heping"]


def test_cli_apply_and_check_together_is_refused(db: Path) -> None:
    example = str(example_path())
    result = runner.invoke(app, ["org", "--apply", example, "--check", example])
    assert result.exit_code == 2
