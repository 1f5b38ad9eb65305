"""The street's station through the real API, a real worker and the Temporal test
server: it holds the joint meeting and decides extensions (the branch no longer
may), reviews returns, re-dispatches, supervises and reads its overdue board.

An organisation of two streets is in force for this module only: its activation
is removed afterwards, so the rest of the suite routes by department as before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, func, select
from temporalio.client import Client

from models.org import Organisation
from models.policy import Policy
from models.tables import CaseRecord, OrganisationActivationRecord
from org.loader import parse_org
from store.org import activate_org
from store.principals import add_principal, issue_token
from tests.casekit import raised_cases

Json = dict[str, Any]

# Two streets: anningyuan in s1, xiangyang in s2. Every kind has a unit serving
# both; police_a (community c1) is the narrower police unit of anningyuan, so
# police_1 is free to be added or dispatched by the station.
STREETS = (
    'name = "测试区"\n\n'
    '[streets.s1]\nname = "一街道"\n\n'
    '[streets.s2]\nname = "二街道"\n\n'
    '[communities.c1]\nname = "一社区"\nstreet = "s1"\n\n'
    '[communities.c2]\nname = "二社区"\nstreet = "s2"\n\n'
    '[compounds.anningyuan]\nname = "安宁苑"\ncommunity = "c1"\n\n'
    '[compounds.xiangyang]\nname = "向阳小区"\ncommunity = "c2"\n\n'
    '[units.police_a]\nname = "甲派出所"\nkind = "police"\njurisdiction = ["c1"]\n\n'
)
PRINCIPALS: list[tuple[str, str, str | None, str | None]] = [
    ("station", "station", None, "s1"),
    ("other_station", "station", None, "s2"),
    ("fire_1", "department", "fire_rescue_1", None),
    ("police_a", "department", "police_a", None),
    ("police_1", "department", "police_1", None),
    ("housing_1", "department", "housing_1", None),
    ("urban_1", "department", "urban_management_1", None),
]


def streets_org(policy: Policy) -> Organisation:
    """Two streets, and a unit of every kind of the policy serving both."""
    text = STREETS + "".join(
        f'[units.{kind}_1]\nname = "{kind}单位"\nkind = "{kind}"\njurisdiction = ["s1", "s2"]\n\n'
        for kind in policy.departments
    )
    return parse_org(text, policy, source="streets.toml")


@pytest.fixture(scope="module")
def station_tokens(engine: Engine, tokens: dict[str, str], policy: Policy) -> Iterator[Json]:
    """The organisation in force, and tokens of the station and the units: role -> token."""
    with Session(engine) as session:
        before = session.exec(select(func.max(col(OrganisationActivationRecord.id)))).one() or 0
    activate_org(engine, streets_org(policy))
    found = dict(tokens)
    for role, kind, department, street in PRINCIPALS:
        name = f"{role.replace('_', '-')}-st"
        add_principal(engine, name=name, kind=kind, department=department, street=street)
        found[role] = issue_token(engine, name)[1]
    yield found
    with Session(engine) as session:
        session.exec(
            delete(OrganisationActivationRecord).where(
                col(OrganisationActivationRecord.id) > before
            )
        )
        session.exec(delete(CaseRecord).where(col(CaseRecord.case_id).startswith("board-st-")))
        session.commit()


class Api:
    def __init__(self, url: str, tokens: Json, client: Client) -> None:
        self.http = httpx.AsyncClient(base_url=url, timeout=30)
        self.tokens = tokens
        self.client = client

    async def call(
        self, role: str, method: str, path: str, body: Json | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return await self.http.request(method, path, json=body, headers=headers)

    async def ok(self, role: str, method: str, path: str, body: Json | None = None) -> Json:
        response = await self.call(role, method, path, body)
        assert response.status_code in (200, 201), (response.status_code, response.text)
        result: Json = response.json()
        return result

    async def raise_case(self, **fields: Any) -> str:
        body = {
            "compound": "Anningyuan",
            "level": "emergency",
            "category": "fire_lane",
            "title": "Car on the fire lane",
            **fields,
        }
        case_id = str((await self.ok("branch", "POST", "/cases", body))["case_id"])
        raised_cases.append((self.client, case_id))
        return case_id

    async def case(self, case_id: str) -> Json:
        return await self.ok("auditor", "GET", f"/cases/{case_id}")

    async def refused(self, role: str, path: str, body: Json, code: int, case_id: str) -> str:
        """The action is refused with ``code`` and records nothing."""
        before = len((await self.case(case_id))["events"])
        response = await self.call(role, "POST", f"/cases/{case_id}{path}", body)
        assert response.status_code == code, (role, path, response.text)
        assert len((await self.case(case_id))["events"]) == before
        return response.text


@pytest_asyncio.fixture
async def api(api_url: str, station_tokens: Json, client: Client) -> AsyncIterator[Api]:
    caller = Api(api_url, station_tokens, client)
    yield caller
    await caller.http.aclose()


def kinds(result: Json) -> list[str]:
    return [event["kind"] for event in result["events"]]


async def test_a_case_is_routed_to_the_units_of_its_street(api: Api) -> None:
    case = await api.raise_case()
    document = await api.case(case)
    assert document["compound"] == "anningyuan"
    assert [d["department"] for d in document["departments"]] == ["fire_rescue_1", "police_a"]
    assert (await api.ok("station", "GET", f"/cases/{case}"))["case_id"] == case
    assert (await api.call("other_station", "GET", f"/cases/{case}")).status_code == 404


async def test_the_station_holds_the_meeting_and_the_branch_may_not(api: Api) -> None:
    case = await api.raise_case(level="joint", category="illegal_structure")
    meeting = {
        "lead": "housing_1",
        "join": ["police_1"],  # a unit new to the case, brought in by the meeting
        "tasks": {"urban_management_1": "clear", "police_1": "keep order"},
        "deadline": "5d",
    }
    text = await api.refused("branch", "/joint-meeting", meeting, 403, case)
    assert "only a station may hold a joint meeting" in text
    await api.refused("other_station", "/joint-meeting", meeting, 404, case)
    await api.refused("housing_1", "/joint-meeting", meeting, 403, case)
    unknown = {**meeting, "join": ["police_zz"]}
    assert "join" in await api.refused("station", "/joint-meeting", unknown, 422, case)
    held = await api.ok("station", "POST", f"/cases/{case}/joint-meeting", meeting)
    assert "joint_meeting_held" in kinds(held)
    assert {e["actor"] for e in held["events"]} >= {"station:station-st"}
    for role in ("housing_1", "urban_1", "police_1"):
        await api.ok(role, "POST", f"/cases/{case}/sign-off", {"outcome": "resolved"})
    assert (await api.case(case))["status"] == "awaiting_confirmation"
    await api.refused("branch", "/escalate", {"reason": "more"}, 409, case)


async def test_the_station_decides_extensions_and_the_branch_may_not(api: Api) -> None:
    case = await api.raise_case()
    await api.ok("fire_1", "POST", f"/cases/{case}/report-in", {})
    await api.ok("fire_1", "POST", f"/cases/{case}/extensions", {"by": "1h", "reason": "tow"})
    decision = {"department": "fire_rescue_1", "approve": True}
    text = await api.refused("branch", "/extensions/decision", decision, 403, case)
    assert "only a station may decide an extension" in text
    await api.refused("other_station", "/extensions/decision", decision, 404, case)
    approved = await api.ok("station", "POST", f"/cases/{case}/extensions/decision", decision)
    assert kinds(approved) == ["extension_approved"]
    assert approved["events"][0]["actor"] == "station:station-st"


async def test_the_branch_requests_a_joint_meeting(api: Api) -> None:
    case = await api.raise_case()
    body = {"reason": "three departments point at each other"}
    await api.refused("station", "/joint-meeting-request", body, 403, case)
    await api.refused("station", "/report-in", {}, 403, case)
    await api.refused("station", "/withdraw", {"reason": "mine"}, 403, case)
    await api.refused("police_a", "/joint-meeting-request", body, 403, case)
    await api.refused("branch", "/joint-meeting-request", {"reason": ""}, 422, case)
    asked = await api.ok("branch", "POST", f"/cases/{case}/joint-meeting-request", body)
    assert kinds(asked)[0] == "joint_meeting_requested"
    assert asked["events"][0]["actor"] == "branch:branch-t"
    assert (asked["level"], asked["status"]) == ("joint", "joint_meeting")


async def test_the_station_reviews_returns(api: Api) -> None:
    case = await api.raise_case()
    not_ours = {"outcome": "not-ours", "reason": "not_our_duty"}
    await api.ok("police_a", "POST", f"/cases/{case}/report-in", {})  # on site first
    asked = await api.ok("police_a", "POST", f"/cases/{case}/sign-off", not_ours)
    assert "return_requested" in kinds(asked)
    await api.refused(
        "branch", "/return-review", {"department": "police_a", "approve": True}, 403, case
    )
    bad_unit = {"department": "police_a", "approve": True, "dispatch": ["police_zz"]}
    assert "dispatch" in await api.refused("station", "/return-review", bad_unit, 422, case)
    refuse = {"department": "police_a", "approve": False}
    assert "reason" in await api.refused("station", "/return-review", refuse, 409, case)
    kept = await api.ok(
        "station", "POST", f"/cases/{case}/return-review", {**refuse, "reason": "it is yours"}
    )
    assert kinds(kept) == ["return_refused"]
    assert "police_a" in [d["department"] for d in (await api.case(case))["departments"]]

    await api.ok("police_a", "POST", f"/cases/{case}/sign-off", not_ours)
    approve = {"department": "police_a", "approve": True, "dispatch": ["police_1"]}
    left = await api.ok("station", "POST", f"/cases/{case}/return-review", approve)
    assert "returned" in kinds(left)
    on_case = {d["department"]: d for d in (await api.case(case))["departments"]}
    assert "police_1" in on_case
    await api.ok("police_1", "POST", f"/cases/{case}/report-in", {})


async def test_the_station_redispatches(api: Api) -> None:
    case = await api.raise_case()
    body = {"add": ["police_1"], "replace": "police_a", "reason": "police_a is at the fair"}
    await api.refused("branch", "/redispatch", body, 403, case)
    await api.refused("station", "/redispatch", {**body, "reason": " "}, 422, case)
    await api.refused("station", "/redispatch", {**body, "add": []}, 422, case)
    assert "add" in await api.refused(
        "station", "/redispatch", {**body, "add": ["nobody"]}, 422, case
    )
    moved = await api.ok("station", "POST", f"/cases/{case}/redispatch", body)
    assert "redispatched" in kinds(moved)
    assert (await api.call("police_1", "GET", f"/cases/{case}")).status_code == 200
    await api.ok("police_1", "POST", f"/cases/{case}/report-in", {})
    added = await api.ok(
        "station",
        "POST",
        f"/cases/{case}/redispatch",
        {"add": ["urban_management_1"], "reason": "r"},
    )
    assert "redispatched" in kinds(added)


async def test_the_station_supervises(api: Api) -> None:
    case = await api.raise_case()
    await api.refused("branch", "/supervise", {"note": "hurry"}, 403, case)
    await api.refused("station", "/supervise", {"note": ""}, 422, case)
    await api.refused("other_station", "/supervise", {"note": "hurry"}, 404, case)
    pressed = await api.ok("station", "POST", f"/cases/{case}/supervise", {"note": "on site by 10"})
    assert kinds(pressed) == ["supervised"]
    assert pressed["events"][0]["actor"] == "station:station-st"


def _overdue_row(engine: Engine, case_id: str, compound: str, late: timedelta) -> None:
    now = datetime.now(UTC)
    with Session(engine) as session:
        session.add(
            CaseRecord(
                case_id=case_id,
                compound=compound,
                category="fire_lane",
                title=f"late by {late}",
                level="emergency",
                status="in_progress",
                departments="fire_rescue_1",
                raised_by="branch:branch-t",
                raised_at=now - late - timedelta(hours=1),
                updated_at=now,
                resolve_deadline=now - late,
                policy_version="p-test",
            )
        )
        session.commit()


async def test_the_overdue_board_of_a_street(api: Api, engine: Engine) -> None:
    _overdue_row(engine, "board-st-1", "anningyuan", timedelta(hours=2))
    _overdue_row(engine, "board-st-2", "anningyuan", timedelta(days=1))
    _overdue_row(engine, "board-st-3", "xiangyang", timedelta(hours=5))

    def mine(board: Json) -> list[str]:
        return [row["case_id"] for row in board["cases"] if row["case_id"].startswith("board-st-")]

    board = await api.ok("station", "GET", "/board/overdue")
    assert mine(board) == ["board-st-2", "board-st-1"]  # most overdue first; its street only
    first = board["cases"][0]
    assert first["deadline"] == "resolve" and first["street"] == "s1"
    assert 86400 <= first["overdue_seconds"] < 86400 + 60
    assert mine(await api.ok("auditor", "GET", "/board/overdue")) == [
        "board-st-2",
        "board-st-3",
        "board-st-1",
    ]
    assert mine(await api.ok("admin", "GET", "/board/overdue?street=s2")) == ["board-st-3"]
    assert mine(await api.ok("station", "GET", "/board/overdue?street=s1&limit=1")) == [
        "board-st-2"
    ]
    assert (await api.call("station", "GET", "/board/overdue?street=s2")).status_code == 403
    for role in ("branch", "fire_1"):
        assert (await api.call(role, "GET", "/board/overdue")).status_code == 403
    unknown = await api.call("auditor", "GET", "/board/overdue?street=s9")
    assert unknown.status_code == 422 and "street" in unknown.text
