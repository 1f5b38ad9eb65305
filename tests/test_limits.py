"""The rules defined once in models/ and used by every door: codes, principal
names, the compounds a branch speaks for, the time zone and dates."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from models.errors import PolicyError, RuleViolation
from models.limits import (
    CODE_MAX,
    COMPOUNDS_PER_PRINCIPAL_MAX,
    PRINCIPAL_NAME_MAX,
    check_code,
    check_principal_name,
)
from models.workdays import DEFAULT_TIMEZONE, as_date, zone
from policy.loader import parse_policy
from settings import Settings
from store.engine import make_engine
from store.principals import add_principal


def test_a_code_is_checked_and_its_rule_named() -> None:
    assert check_code("fire_rescue", field="f") == "fire_rescue"
    assert check_code("a" * CODE_MAX, field="f")
    for bad in ("", "Fire", "1st", "a-b", "a" * (CODE_MAX + 1), "abc\n"):
        with pytest.raises(RuleViolation, match=rf"^departments\.x: a code .*at most {CODE_MAX}"):
            check_code(bad, field="departments.x")


def test_a_principal_name_is_checked_and_its_rule_named() -> None:
    assert check_principal_name("fire-3", field="name") == "fire-3"
    assert check_principal_name("a" * PRINCIPAL_NAME_MAX, field="name")
    for bad in ("", "-a", "A", "a b", "a" * (PRINCIPAL_NAME_MAX + 1)):
        with pytest.raises(RuleViolation, match=rf"^name: 1 to {PRINCIPAL_NAME_MAX} lower-case"):
            check_principal_name(bad, field="name")


def test_the_policy_loader_names_the_code_rule() -> None:
    with pytest.raises(PolicyError, match=r"departments\.Fire: a code is .*at most 64"):
        parse_policy('[departments]\nFire = "消防"\n', source="t")
    with pytest.raises(PolicyError, match=r"routing\.Bad: a code is"):
        parse_policy('[routing]\nBad = ["police"]\n', source="t")


def test_a_branch_speaks_for_at_most_so_many_compounds(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        many = [f"c{i}" for i in range(COMPOUNDS_PER_PRINCIPAL_MAX + 1)]
        with pytest.raises(
            RuleViolation, match=rf"compounds: at most {COMPOUNDS_PER_PRINCIPAL_MAX}"
        ):
            add_principal(engine, name="big", kind="branch", compounds=many)
        added = add_principal(
            engine, name="full", kind="branch", compounds=many[:COMPOUNDS_PER_PRINCIPAL_MAX]
        )
        assert len(added.compounds) == COMPOUNDS_PER_PRINCIPAL_MAX
        with pytest.raises(RuleViolation, match=r"^name: 1 to 64 lower-case"):
            add_principal(engine, name="Bad Name", kind="admin")
    finally:
        engine.dispose()


def test_one_time_zone_rule_for_settings_and_deadlines() -> None:
    assert Settings.model_fields["timezone"].default == DEFAULT_TIMEZONE
    assert zone("Asia/Urumqi").key == "Asia/Urumqi"
    with pytest.raises(RuleViolation, match=r"^timezone: unknown IANA zone 'Mars/Olympus'"):
        zone("Mars/Olympus", field="timezone")
    with pytest.raises(
        ValidationError, match=r"WHISTLE_TIMEZONE: unknown IANA zone 'Mars/Olympus'"
    ):
        Settings(timezone="Mars/Olympus")
    assert Settings(timezone=" Asia/Urumqi ").zone().key == "Asia/Urumqi"


def test_one_date_parser() -> None:
    assert as_date("2026-10-08", "d") == date(2026, 10, 8)
    with pytest.raises(RuleViolation, match=r"^extra holidays: must be an ISO date"):
        as_date("8 Oct", "extra holidays")
    with pytest.raises(RuleViolation, match="give a date, not a datetime"):
        as_date(datetime(2026, 10, 8), "d")
