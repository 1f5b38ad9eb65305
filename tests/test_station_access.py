"""Who sees which case once an organisation is in force: a station its street's
cases, a unit's principals the cases dispatched to their unit, a branch its own
compounds however the case spells them; and the station principal over the API.

End to end on its own SQLite database, task queue and worker: the organisation
put in force here must not route the other tests' cases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import HTTPException
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from api.access import can_see, require_station_for, scope_of, street_compounds
from api.app import create_app
from casework.cases import act, read_case
from models.case import CaseStatus, Withdraw
from models.org import Organisation
from models.policy import Policy
from models.principals import Principal, PrincipalKind
from org.loader import parse_org
from settings import Settings
from store.engine import make_engine
from store.org import activate_org
from store.principals import add_principal, issue_token
from tests.casekit import aid
from tests.test_routing import TWO_STREETS
from worker import ACTIVITY_THREADS, build_worker

QUEUE = "whistle-station-access"
Json = dict[str, Any]

STATION_1 = Principal(name="st1", kind=PrincipalKind.STATION, street="s1")
STATION_2 = Principal(name="st2", kind=PrincipalKind.STATION, street="s2")
BRANCH = Principal(name="b", kind=PrincipalKind.BRANCH, compounds=frozenset({"Anningyuan"}))
UNIT = Principal(name="pc", kind=PrincipalKind.DEPARTMENT, department="police_c")


@pytest.fixture
def org(policy: Policy) -> Organisation:
    return parse_org(TWO_STREETS, policy, source="two-streets.toml")


# --- the rules, without a server ----------------------------------------------


def test_a_station_sees_the_compounds_of_its_street(org: Organisation) -> None:
    assert street_compounds(org, "s1") == {"anningyuan", "heping"}
    assert can_see(STATION_1, "anningyuan", [], org=org)
    assert can_see(STATION_1, "Anningyuan", [], org=org)  # raised before the organisation
    assert not can_see(STATION_1, "xiangyang", [], org=org)
    assert not can_see(STATION_1, "Nowhere", [], org=org)
    assert can_see(STATION_2, "xiangyang", [], org=org)
    assert scope_of(STATION_1, org=org).compounds == frozenset({"anningyuan", "heping"})


def test_without_an_organisation_a_station_sees_nothing() -> None:
    assert not can_see(STATION_1, "anningyuan", [], org=None)
    assert scope_of(STATION_1, org=None).compounds == frozenset()


def test_a_branch_sees_its_compound_by_its_code_too(org: Organisation) -> None:
    assert can_see(BRANCH, "Anningyuan", [], org=None)
    assert can_see(BRANCH, "anningyuan", [], org=None)
    assert not can_see(BRANCH, "heping", [], org=org)
    assert scope_of(BRANCH, org=None).compounds == frozenset({"Anningyuan", "anningyuan"})


def test_a_unit_sees_the_cases_dispatched_to_it(org: Organisation) -> None:
    assert can_see(UNIT, "anningyuan", ["fire_rescue_1", "police_c"], org=org)
    assert not can_see(UNIT, "anningyuan", ["fire_rescue_1", "police_a"], org=org)
    assert scope_of(UNIT, org=org).department == "police_c"


def test_only_the_station_of_the_compounds_street_acts_for_it(org: Organisation) -> None:
    require_station_for(STATION_1, "Anningyuan", org, "supervise")
    with pytest.raises(HTTPException) as refused:
        require_station_for(STATION_2, "anningyuan", org, "supervise")
    assert refused.value.status_code == 403
    assert "station:st2 is the station of street 's2'" in str(refused.value.detail)
    with pytest.raises(HTTPException, match="only a station may supervise"):
        require_station_for(BRANCH, "anningyuan", org, "supervise")
    with pytest.raises(HTTPException) as refused:
        require_station_for(STATION_1, "anningyuan", None, "supervise")
    assert "no organisation is in force" in str(refused.value.detail)


# --- end to end ------------------------------------------------------------------


@dataclass
class Site:
    engine: Engine
    http: httpx.AsyncClient
    tokens: dict[str, str]

    async def call(self, role: str, method: str, path: str, body: Json | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return await self.http.request(method, path, json=body, headers=headers)

    async def ok(self, role: str, method: str, path: str, body: Json | None = None) -> Json:
        response = await self.call(role, method, path, body)
        assert response.status_code in (200, 201), (response.status_code, response.text)
        found: Json = response.json()
        return found

    async def listed(self, role: str) -> set[str]:
        return {c["case_id"] for c in (await self.ok(role, "GET", "/cases"))["cases"]}


PRINCIPALS: list[tuple[str, str, list[str], str | None, str | None]] = [
    ("admin", "admin", [], None, None),
    ("branch", "branch", ["Anningyuan"], None, None),
    ("other_branch", "branch", ["xiangyang", "Nowhere"], None, None),
    ("station_1", "station", [], None, "s1"),
    ("station_2", "station", [], None, "s2"),
    ("police_c", "department", [], "police_c", None),
    ("police_b", "department", [], "police_b", None),
]


@pytest_asyncio.fixture
async def site(env: WorkflowEnvironment, tmp_path: Path, policy: Policy) -> AsyncIterator[Site]:
    engine = make_engine(f"sqlite:///{tmp_path / 'station.db'}")
    activate_org(engine, parse_org(TWO_STREETS, policy, source="two-streets.toml"))
    tokens = {}
    for role, kind, compounds, department, street in PRINCIPALS:
        add_principal(
            engine, name=role, kind=kind, compounds=compounds, department=department, street=street
        )
        tokens[role] = issue_token(engine, role)[1]
    app = create_app(Settings(task_queue=QUEUE), engine=engine, client=env.client)
    app.state.engine, app.state.client = engine, env.client  # no lifespan over ASGI here
    settings = Settings(task_queue=QUEUE, workflow_sandbox="strict")
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        async with build_worker(env.client, engine, settings, executor):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                found = Site(engine, http, tokens)
                yield found
                # No open case, and no unfinished publication, outlives its worker: an
                # activity left without a worker would stop the test server skipping time
                # for every later test.
                for case_id in await found.listed("admin"):
                    if CaseStatus((await read_case(env.client, case_id)).status).is_open:
                        await act(env.client, case_id, Withdraw(action_id=aid(), reason="done"))
                    await env.client.get_workflow_handle(case_id).result()
    engine.dispose()


async def _projected(site: Site, *case_ids: str) -> None:
    for _ in range(200):
        if set(case_ids) <= await site.listed("admin"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not projected: {case_ids}")


async def test_a_station_sees_its_streets_cases_and_a_unit_its_own(site: Site) -> None:
    body = {"level": "emergency", "category": "fire_lane", "title": "Car on the fire lane"}
    mine = await site.ok("branch", "POST", "/cases", {**body, "compound": "Anningyuan"})
    theirs = await site.ok("other_branch", "POST", "/cases", {**body, "compound": "xiangyang"})
    a, b = mine["case_id"], theirs["case_id"]
    await _projected(site, a, b)

    shown = await site.ok("station_1", "GET", f"/cases/{a}")
    assert shown["compound"] == "anningyuan"  # recorded by the organisation's code
    assert (await site.call("station_1", "GET", f"/cases/{b}")).status_code == 404
    assert await site.listed("station_1") == {a}
    assert await site.listed("station_2") == {b}
    assert (await site.call("station_2", "GET", f"/cases/{a}/events")).status_code == 404
    assert await site.listed("branch") == {a}  # its "Anningyuan" is the case's "anningyuan"
    assert (await site.ok("branch", "GET", f"/cases/{a}"))["case_id"] == a
    listed = await site.ok("admin", "GET", "/cases?compound=Anningyuan")
    assert {c["case_id"] for c in listed["cases"]} == {a}

    assigned = [d["department"] for d in shown["departments"]]
    assert assigned == ["fire_rescue_1", "police_c"]  # the narrowest police unit
    assert await site.listed("police_c") == {a}
    assert await site.listed("police_b") == {b}
    assert (await site.call("police_b", "GET", f"/cases/{a}")).status_code == 404


async def test_a_compound_outside_the_organisation_is_refused_at_raise(site: Site) -> None:
    body = {"level": "emergency", "category": "fire_lane", "title": "t", "compound": "Nowhere"}
    refused = await site.call("other_branch", "POST", "/cases", body)
    assert refused.status_code == 422
    assert "compound: 'Nowhere' is not a compound of the organisation" in refused.text
    body = {**body, "compound": "xiangyang", "category": "no_such"}
    refused = await site.call("other_branch", "POST", "/cases", body)
    assert refused.status_code == 422 and "category: 'no_such' has no routing" in refused.text
    assert await site.listed("admin") == set()


async def test_the_api_adds_a_station_of_a_street_in_force(site: Site) -> None:
    added = await site.ok(
        "admin", "POST", "/principals", {"name": "st-new", "kind": "station", "street": "s2"}
    )
    assert added["kind"] == "station"
    for body, message in [
        ({"kind": "station", "street": "s9"}, "street: 's9' is not a street of the organisation"),
        ({"kind": "station"}, "street: a station names its street"),
        ({"kind": "auditor", "street": "s1"}, "street: only a station is bound to a street"),
        (
            {"kind": "department", "department": "zz"},
            "department: unknown department 'zz': neither a unit",
        ),
    ]:
        refused = await site.call("admin", "POST", "/principals", {"name": "x", **body})
        assert refused.status_code == 422 and message in refused.text, refused.text
    unit = {"name": "pa", "kind": "department", "department": "police_a"}
    assert (await site.call("admin", "POST", "/principals", unit)).status_code == 201
    assert (await site.call("station_1", "POST", "/principals", unit)).status_code == 403
