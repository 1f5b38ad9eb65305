"""``GET /notifications`` and ``POST /notifications/retry`` through real HTTP: the
counts, the latest deliveries and the unsent notifications, filtered by status
and case; a station reads and retries only its street's; failed ones sent again
by prefix or all; bad bodies refused naming the field; branches and units refused.

The deliveries are rows written as the dispatcher writes them, on closed cases of
the two-street organisation in force for the module (``tests.webkit.people``):
anningyuan is in street s1, xiangyang in s2. They are removed afterwards.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Engine

from models.limits import DELIVERED_COUNTED_HOURS
from models.tables import CaseRecord, DeliveryRecord, NotificationRecord
from store.deliveries import (
    DELIVERED,
    FAILED,
    ID_PREFIX_MIN,
    NO_CHANNEL,
    PENDING,
    STATUSES,
)
from store.delivery_reads import deliveries_by_status
from store.principals import add_principal, get_principal, issue_token

Json = dict[str, Any]
AT = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
"""When the world's deliveries were made: an hour ago, so delivered ones count."""
CASES = CaseRecord.__table__  # type: ignore[attr-defined]
NOTES = NotificationRecord.__table__  # type: ignore[attr-defined]
SENDS = DeliveryRecord.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Sent:
    """One delivery of the world: its case, kind, channel and status as planned."""

    case_id: str
    kind: str
    channel: str
    status: str

    @property
    def key(self) -> str:
        return f"{self.case_id}/0/police_a/{self.kind}"

    @property
    def id(self) -> str:
        """Hex, as the dispatcher's ids are (made here: the tests read, never plan)."""
        return hashlib.sha256(f"{self.key}\n{self.channel}".encode()).hexdigest()[:32]


def world(prefix: str) -> dict[str, Sent]:
    """Two cases in anningyuan (s1), one in xiangyang (s2); four deliveries."""
    a1, a2, x1 = f"{prefix}-a1", f"{prefix}-a2", f"{prefix}-x1"
    return {
        "a1_wecom": Sent(a1, "dispatch", "wecom", DELIVERED),
        "a1_hook": Sent(a1, "dispatch", "hook", FAILED),
        "a2_sms": Sent(a2, "reminder", "sms", PENDING),
        "x1_wecom": Sent(x1, "dispatch", "wecom", FAILED),
    }


def _state(sent: Sent, at: datetime = AT) -> dict[str, Any]:
    return {
        "status": sent.status,
        "attempts": 3 if sent.status == FAILED else 1,
        "next_attempt_at": at,
        "last_error": "HTTP 500 from the robot" if sent.status == FAILED else "",
        "delivered_at": at if sent.status == DELIVERED else None,
        "failed_at": at if sent.status == FAILED else None,
    }


def _compound(case_id: str) -> str:
    return "xiangyang" if case_id.endswith("-x1") else "anningyuan"


def plant(engine: Engine, sends: dict[str, Sent], at: datetime = AT) -> None:
    """The cases (closed: no board or worklist picks them up), the outbox, the
    deliveries, and one notification no channel had."""
    case_ids = sorted({s.case_id for s in sends.values()})
    cases = [
        {
            "case_id": case_id,
            "compound": _compound(case_id),
            "category": "fire_lane",
            "title": "消防通道被占用",
            "level": "emergency",
            "status": "closed",
            "departments": "police_a",
            "raised_by": "branch",
            "raised_at": at - timedelta(hours=1),
            "updated_at": at,
            "policy_version": "p",
        }
        for case_id in case_ids
    ]
    notes = {
        s.key: {
            "key": s.key,
            "case_id": s.case_id,
            "department": "police_a",
            "level": "emergency",
            "kind": s.kind,
            "message": "emergency whistle",
            "at": at,
            "planned_at": at,
            "routes": 2,
            "unsent_why": None,  # every row has every key: executemany takes the first's
        }
        for s in sends.values()
    }
    unsent = f"{case_ids[0]}/0/station/overdue"
    notes[unsent] = notes[sends["a1_wecom"].key] | {
        "key": unsent,
        "department": "station",
        "kind": "overdue",
        "routes": 0,
        "unsent_why": NO_CHANNEL,
    }
    rows = [
        {
            "delivery_id": s.id,
            "notification_key": s.key,
            "case_id": s.case_id,
            "compound": _compound(s.case_id),  # as store.deliveries.new_delivery keeps it
            "channel": s.channel,
            "recipient": "police_a",
            "created_at": at,
            "contact": "",  # a person on duty's; where the table has it
            **_state(s, at),
        }
        for s in sends.values()
    ]
    rows = [{k: v for k, v in row.items() if k in SENDS.c} for row in rows]
    with engine.begin() as conn:
        conn.execute(insert(CASES), cases)
        conn.execute(insert(NOTES), list(notes.values()))
        conn.execute(insert(SENDS), rows)


def restore(engine: Engine, sends: dict[str, Sent]) -> None:
    """Every delivery back as planted (a retry changes them)."""
    with engine.begin() as conn:
        for s in sends.values():
            conn.execute(update(SENDS).where(SENDS.c.delivery_id == s.id).values(**_state(s)))


def remove(engine: Engine, prefix: str) -> None:
    with engine.begin() as conn:
        for table in (SENDS, NOTES, CASES):
            conn.execute(delete(table).where(table.c.case_id.startswith(f"{prefix}-")))


PREFIX = "nt-api"
SENDS_OF = world(PREFIX)


@dataclass
class World:
    tokens: dict[str, str]
    before: dict[str | None, dict[str, int]]
    """Counts before the module's were planted (others' tests'): of every delivery
    (None) and of each street's."""


@pytest.fixture(scope="module")
def planted(engine: Engine, people: dict[str, str]) -> Iterator[World]:
    admin = "admin-notify"
    if get_principal(engine, admin) is None:
        add_principal(engine, name=admin, kind="admin")
    names = {"admin": admin} | people
    tokens = {role: issue_token(engine, name)[1] for role, name in names.items()}
    before = {
        street: deliveries_by_status(engine, frozenset([compound]) if compound else None)
        for street, compound in ((None, None), ("s1", "anningyuan"), ("s2", "xiangyang"))
    }
    plant(engine, SENDS_OF)
    yield World(tokens, before)
    remove(engine, PREFIX)


@pytest_asyncio.fixture
async def api(api_url: str, planted: World, engine: Engine) -> AsyncIterator[Api]:
    restore(engine, SENDS_OF)
    caller = Api(httpx.AsyncClient(base_url=api_url, timeout=30), planted)
    yield caller
    await caller.http.aclose()


@dataclass
class Api:
    http: httpx.AsyncClient
    world: World

    async def call(self, role: str, method: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.world.tokens[role]}"}
        return await self.http.request(method, path, json=body, headers=headers)

    async def ok(self, role: str, method: str, path: str, body: Any = None) -> Json:
        answer = await self.call(role, method, path, body)
        assert answer.status_code == 200, (answer.status_code, answer.text)
        found: Json = answer.json()
        return found

    async def mine(self, role: str, query: str = "") -> Json:
        """The listing, with only this module's deliveries and unsent notifications."""
        found = await self.ok(role, "GET", f"/notifications?limit=500{query}")
        found["deliveries"] = [d for d in found["deliveries"] if d["case_id"].startswith(PREFIX)]
        found["unsent"] = [u for u in found["unsent"] if u["case_id"].startswith(PREFIX)]
        return found


def ids(document: Json) -> set[str]:
    return {d["delivery_id"] for d in document["deliveries"]}


def counted(api: Api, street: str | None, planted: dict[str, int]) -> dict[str, int]:
    """The counts expected: those before the module's, and the module's own."""
    return {s: api.world.before[street][s] + planted.get(s, 0) for s in STATUSES}


def by_name(*names: str) -> set[str]:
    return {SENDS_OF[name].id for name in names}


async def test_an_auditor_reads_the_counts_deliveries_and_unsent(api: Api) -> None:
    found = await api.mine("auditor")
    assert found["counts"] == counted(api, None, {DELIVERED: 1, PENDING: 1, FAILED: 2})
    assert ids(found) == by_name(*SENDS_OF)
    hook = next(d for d in found["deliveries"] if d["delivery_id"] == SENDS_OF["a1_hook"].id)
    assert hook == {
        "delivery_id": SENDS_OF["a1_hook"].id,
        "case_id": f"{PREFIX}-a1",
        "kind": "dispatch",
        "channel": "hook",
        "recipient": "police_a",
        "status": FAILED,
        "attempts": 3,
        "next_attempt_at": AT.isoformat(),
        "delivered_at": None,
        "failed_at": AT.isoformat(),
        "error": "HTTP 500 from the robot",
    }
    assert found["unsent"] == [
        {
            "key": f"{PREFIX}-a1/0/station/overdue",
            "case_id": f"{PREFIX}-a1",
            "to": "station",
            "kind": "overdue",
            "at": AT.isoformat(),
            "why": NO_CHANNEL,
        }
    ]


async def test_filtered_by_status_and_by_case(api: Api) -> None:
    failed = await api.mine("admin", "&status=failed")
    assert ids(failed) == by_name("a1_hook", "x1_wecom") and failed["unsent"] == []
    one_case = await api.ok("auditor", "GET", f"/notifications?case={PREFIX}-a1")
    assert ids(one_case) == by_name("a1_wecom", "a1_hook") and one_case["unsent"] == []
    both = await api.ok("auditor", "GET", f"/notifications?case={PREFIX}-a1&status=delivered")
    assert ids(both) == by_name("a1_wecom")
    limited = await api.ok("auditor", "GET", f"/notifications?case={PREFIX}-a1&limit=1")
    assert len(limited["deliveries"]) == 1


async def test_a_station_reads_only_its_streets_deliveries(api: Api) -> None:
    s1 = await api.mine("station")
    assert ids(s1) == by_name("a1_wecom", "a1_hook", "a2_sms") and len(s1["unsent"]) == 1
    s2 = await api.mine("other_station")
    assert ids(s2) == by_name("x1_wecom") and s2["unsent"] == []
    assert s1["counts"] == counted(api, "s1", {DELIVERED: 1, PENDING: 1, FAILED: 1})
    assert s2["counts"] == counted(api, "s2", {FAILED: 1})
    elsewhere = await api.ok("other_station", "GET", f"/notifications?case={PREFIX}-a1")
    assert elsewhere["deliveries"] == []


async def test_the_counts_hold_what_stands_and_the_last_days_deliveries(
    api: Api, engine: Engine
) -> None:
    """Pending and failed ones count whatever their age; delivered ones, those of the
    last DELIVERED_COUNTED_HOURS: the page shows what stands, not the whole history."""
    before = (await api.ok("auditor", "GET", "/notifications?limit=1"))["counts"]
    old = f"{PREFIX}-old"
    sends = {
        "a1_wecom": Sent(f"{old}-a1", "dispatch", "wecom", DELIVERED),
        "a1_hook": Sent(f"{old}-a1", "dispatch", "hook", FAILED),
    }
    plant(engine, sends, at=AT - timedelta(hours=DELIVERED_COUNTED_HOURS))
    try:
        after = (await api.ok("auditor", "GET", "/notifications?limit=1"))["counts"]
        assert after == before | {FAILED: before[FAILED] + 1}
        station = await api.ok("station", "GET", f"/notifications?case={old}-a1")
        assert {d["delivery_id"] for d in station["deliveries"]} == {
            sends["a1_wecom"].id,
            sends["a1_hook"].id,
        }
    finally:
        remove(engine, old)


async def test_bad_queries_name_the_parameter(api: Api) -> None:
    for query, field in (("status=lost", "status"), ("limit=0", "limit"), ("case=a/b", "case")):
        answer = await api.call("auditor", "GET", f"/notifications?{query}")
        assert answer.status_code == 422, query
        assert answer.json()["detail"][0]["loc"] == ["query", field]


async def test_failed_ones_sent_again_by_prefix(api: Api) -> None:
    hook = SENDS_OF["a1_hook"].id
    done = await api.ok("admin", "POST", "/notifications/retry", {"ids": [hook[:ID_PREFIX_MIN]]})
    assert done == {"retried": 1}
    found = await api.ok("auditor", "GET", f"/notifications?case={PREFIX}-a1")
    again = next(d for d in found["deliveries"] if d["delivery_id"] == hook)
    assert again["status"] == PENDING and again["attempts"] == 0 and again["failed_at"] is None
    # Not failed any more (nor the delivered one): nothing to send again.
    twice = {"ids": [hook, SENDS_OF["a1_wecom"].id]}
    assert await api.ok("admin", "POST", "/notifications/retry", twice) == {"retried": 0}


async def test_all_failed_sent_again_by_an_admin_and_by_a_station(api: Api) -> None:
    # The station of s1: its street's failed one, not s2's.
    done = await api.ok("station", "POST", "/notifications/retry", {"all_failed": True})
    assert done == {"retried": 1}
    failed = await api.mine("auditor", "&status=failed")
    assert ids(failed) == by_name("x1_wecom")
    # A station naming another street's delivery sends nothing.
    other = {"ids": [SENDS_OF["x1_wecom"].id]}
    assert await api.ok("station", "POST", "/notifications/retry", other) == {"retried": 0}
    done = await api.ok("admin", "POST", "/notifications/retry", {"all_failed": True})
    assert done["retried"] >= 1
    assert ids(await api.mine("auditor", "&status=failed")) == set()


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "ids", "at least one delivery id"),
        ({"ids": []}, "ids", "at least one delivery id"),
        ({"all_failed": False}, "ids", "at least one delivery id"),
        ({"ids": ["0123456789"], "all_failed": True}, "ids", "not both"),
        ({"ids": ["0123456"]}, "ids", "at least 8 characters"),
        ({"ids": ["not-hex-at-all"]}, "ids", "pattern"),
        ({"every": True}, "every", "Extra inputs"),
    ],
)
async def test_a_bad_retry_is_refused_naming_the_field(
    api: Api, body: Json, field: str, words: str
) -> None:
    answer = await api.call("admin", "POST", "/notifications/retry", body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["detail"][0]
    assert error["loc"][:2] == ["body", field] and words in error["msg"]
    assert ids(await api.mine("auditor", "&status=failed")) == by_name("a1_hook", "x1_wecom")


async def test_branches_and_units_are_refused(api: Api) -> None:
    for role in ("branch", "fire"):
        answer = await api.call(role, "GET", "/notifications")
        assert answer.status_code == 403 and "only auditors, admins and stations" in answer.text
    for role in ("branch", "fire", "auditor"):
        answer = await api.call(role, "POST", "/notifications/retry", {"all_failed": True})
        assert answer.status_code == 403 and "only admins and stations" in answer.text
    assert ids(await api.mine("auditor", "&status=failed")) == by_name("a1_hook", "x1_wecom")
