"""A reader's scope matches compounds whatever their case, on SQLite and PostgreSQL.

A case raised before an organisation was put in force records the compound as
the branch wrote it (``Anningyuan``); the organisation knows it by its code
(``anningyuan``), and so do the scopes of stations and of branches.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from api.access import scope_of
from models.policy import Policy
from models.principals import Principal, PrincipalKind
from models.publication import CaseChanges
from org.loader import example_path, load_org
from store.case_filters import CaseFilter, CaseScope
from store.projection import write_changes
from store.reads import search_cases
from tests.casekit import aid
from tests.rowkit import case_summary

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, engine: Engine) -> Engine:
    chosen: Engine = engine if request.param == "sqlite" else request.getfixturevalue("pg_engine")
    return chosen


def project(engine: Engine, compound: str, title: str) -> str:
    """A case row as the projection writes it."""
    case_id = f"scope-{aid()}"
    summary = case_summary(case_id, NOW, compound=compound, title=title)
    write_changes(engine, CaseChanges(summary=summary))
    return case_id


def seen(engine: Engine, scope: CaseScope, title: str) -> set[str]:
    """The ids a reader in ``scope`` finds among the cases titled ``title``."""
    rows = search_cases(engine, CaseFilter(text=title, limit=100), scope, NOW)
    return {row.case_id for row in rows}


def test_a_scope_matches_compounds_whatever_their_case(any_engine: Engine) -> None:
    title = f"case test {aid()[:8]}"
    before_org = project(any_engine, "Anningyuan", title)  # raised before the organisation
    by_code = project(any_engine, "anningyuan", title)  # raised with it: the code
    shouted = project(any_engine, "ANNINGYUAN", title)
    other = project(any_engine, "Xiangyang", title)
    anningyuan = {before_org, by_code, shouted}
    assert seen(any_engine, CaseScope(compounds=frozenset({"anningyuan"})), title) == anningyuan
    assert seen(any_engine, CaseScope(compounds=frozenset({"Anningyuan"})), title) == anningyuan
    assert seen(any_engine, CaseScope(compounds=frozenset({"xiangyang"})), title) == {other}
    assert seen(any_engine, CaseScope(compounds=frozenset({"anning"})), title) == set()
    assert seen(any_engine, CaseScope(compounds=frozenset()), title) == set()
    assert seen(any_engine, CaseScope(), title) == anningyuan | {other}


def test_a_station_sees_its_streets_cases_raised_before_the_organisation(
    any_engine: Engine, policy: Policy
) -> None:
    org = load_org(example_path(), policy)
    compound = org.compounds["anningyuan"]
    street = org.communities[compound.community].street
    title = f"case test {aid()[:8]}"
    before_org = project(any_engine, "Anningyuan", title)
    by_code = project(any_engine, "anningyuan", title)
    elsewhere = project(any_engine, "Nowhere Garden", title)  # in no street of the organisation
    station = Principal(name="duty office", kind=PrincipalKind.STATION, street=street)
    found = seen(any_engine, scope_of(station, org=org), title)
    assert found == {before_org, by_code} and elsewhere not in found
    branch = Principal(
        name="anning branch", kind=PrincipalKind.BRANCH, compounds=frozenset({"Anningyuan"})
    )
    assert seen(any_engine, scope_of(branch, org=org), title) == {before_org, by_code}
