"""The HTTP API, through real HTTP, against a real worker and Temporal test server:
every action by its role, every forbidden combination refused and harmless."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from temporalio.client import Client

from api.responses import CaseDocument, DeadlinesDocument, DepartmentDocument, EventDocument
from casework.cases import read_case
from casework.views import RAISED_FIELDS, case_document
from models.levels import WhistleLevel
from models.limits import ACTION_ID_MAX
from store.principals import issue_token

Json = dict[str, Any]


class Api:
    def __init__(self, url: str, tokens: dict[str, str]) -> None:
        self.http = httpx.AsyncClient(base_url=url, timeout=30)
        self.tokens = tokens

    async def call(
        self, role: str | None, method: str, path: str, body: Json | None = None, **headers: str
    ) -> httpx.Response:
        if role is not None:
            headers["Authorization"] = f"Bearer {self.tokens.get(role, role)}"
        return await self.http.request(method, path, json=body, headers=headers)

    async def ok(
        self, role: str, method: str, path: str, body: Json | None = None, **h: str
    ) -> Json:
        response = await self.call(role, method, path, body, **h)
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
        return str((await self.ok("branch", "POST", "/cases", body))["case_id"])

    async def case(self, case_id: str) -> Json:
        return await self.ok("auditor", "GET", f"/cases/{case_id}")


@pytest_asyncio.fixture
async def api(api_url: str, tokens: dict[str, str]) -> AsyncIterator[Api]:
    caller = Api(api_url, tokens)
    yield caller
    await caller.http.aclose()


async def test_a_whole_case_through_the_api_by_each_role(api: Api) -> None:
    case = await api.raise_case(description="grey sedan, plate unknown")
    for role in ("fire", "police"):
        await api.ok(role, "POST", f"/cases/{case}/report-in", {})
    moved = await api.ok(
        "fire",
        "POST",
        f"/cases/{case}/sign-off",
        {"outcome": "unresolved", "reason": "owner refuses"},
    )
    assert moved["level"] == "enforcement"
    for role in ("fire", "police"):
        await api.ok(role, "POST", f"/cases/{case}/report-in", {})
    await api.ok("fire", "POST", f"/cases/{case}/extensions", {"by": "1d", "reason": "tow truck"})
    # The street's station decides it (tests/test_station_api.py), no longer the branch.
    decision = {"department": "fire_rescue", "approve": True}
    refused = await api.call("branch", "POST", f"/cases/{case}/extensions/decision", decision)
    assert refused.status_code == 403
    await api.ok("fire", "POST", f"/cases/{case}/sign-off", {"outcome": "resolved"})
    await api.ok("branch", "POST", f"/cases/{case}/reopen", {"reason": "car is back"})
    await api.ok("fire", "POST", f"/cases/{case}/sign-off", {"outcome": "resolved"})
    closed = await api.ok("branch", "POST", f"/cases/{case}/confirm", {"satisfaction": 5})
    assert closed["status"] == "closed"

    document = await api.case(case)
    actors = {e["kind"]: e["actor"] for e in document["events"]}
    assert actors["raised"] == "branch:branch-t"
    assert actors["reported_in"] == "department:police-t"
    assert actors["extension_requested"] == "department:fire-t"
    assert "extension_approved" not in actors
    assert actors["confirmed"] == "branch:branch-t"
    events = await api.ok("admin", "GET", f"/cases/{case}/events")
    assert events["events"] == document["events"]


async def test_the_branch_no_longer_holds_the_joint_meeting(api: Api) -> None:
    # The street's station holds it; the countersign that follows is in
    # tests/test_station_api.py.
    case = await api.raise_case(
        level="joint", category="illegal_structure", departments=["housing", "police"]
    )
    before = len((await api.case(case))["events"])
    meeting = {"lead": "housing", "tasks": {"police": "keep order"}, "deadline": "5d"}
    held = await api.call("branch", "POST", f"/cases/{case}/joint-meeting", meeting)
    assert held.status_code == 403
    assert "only a station may hold a joint meeting" in held.json()["detail"]
    assert len((await api.case(case))["events"]) == before


FORBIDDEN: list[tuple[str | None, str, str, Json, int]] = [
    (None, "GET", "", {}, 401),
    ("wst_not-a-token", "GET", "", {}, 401),
    ("other_branch", "GET", "", {}, 404),
    ("other_branch", "POST", "/withdraw", {"reason": "mine now"}, 404),
    ("other_branch", "GET", "/events", {}, 404),
    ("housing", "GET", "", {}, 404),
    ("housing", "POST", "/report-in", {}, 404),
    ("police", "POST", "/report-in", {"department": "fire_rescue"}, 403),
    ("police", "POST", "/sign-off", {"department": "fire_rescue", "outcome": "resolved"}, 403),
    ("fire", "POST", "/confirm", {"satisfaction": 5}, 403),
    ("fire", "POST", "/withdraw", {"reason": "not ours"}, 403),
    ("fire", "POST", "/extensions/decision", {"department": "fire_rescue", "approve": True}, 403),
    ("branch", "POST", "/report-in", {"department": "police"}, 403),
    ("branch", "POST", "/sign-off", {"outcome": "resolved"}, 403),
    ("auditor", "POST", "/report-in", {}, 403),
    ("auditor", "POST", "/escalate", {"reason": "audit"}, 403),
    ("admin", "POST", "/confirm", {"satisfaction": 3}, 403),
    ("admin", "POST", "/withdraw", {"reason": "admin"}, 403),
    ("fire", "POST", "/sign-off", {"outcome": "resolved"}, 409),  # before report-in
    ("branch", "POST", "/confirm", {"satisfaction": 5}, 409),  # nothing resolved yet
    ("branch", "POST", "/confirm", {"satisfaction": 9}, 422),
    ("branch", "POST", "/confirm", {"satisfaction": "5"}, 422),
    ("branch", "POST", "/confirm", {"satisfaction": 5, "score": 5}, 422),
    ("branch", "POST", "/withdraw", {"reason": ""}, 422),
    ("branch", "POST", "/withdraw", {"reason": "x" * 1001}, 422),
    ("fire", "POST", "/sign-off", {"outcome": "done"}, 422),
    ("fire", "POST", "/extensions", {"by": "soon", "reason": "r"}, 422),
    ("fire", "POST", "/report-in", {"department": "Fire Rescue!"}, 422),
]


@pytest.mark.parametrize(
    ("role", "method", "suffix", "body", "code"),
    FORBIDDEN,
    ids=[f"{r}-{m}{s}-{c}" for r, m, s, _, c in FORBIDDEN],
)
async def test_refused_requests_change_nothing(
    api: Api, role: str | None, method: str, suffix: str, body: Json, code: int
) -> None:
    case = await api.raise_case()
    before = await api.case(case)
    response = await api.call(
        role, method, f"/cases/{case}{suffix}", None if method == "GET" else body
    )
    assert response.status_code == code, response.text
    assert "detail" in response.json()
    assert await api.case(case) == before


async def test_validation_errors_name_the_field(api: Api) -> None:
    case = await api.raise_case()
    response = await api.call("branch", "POST", f"/cases/{case}/withdraw", {"reason": "  "})
    detail = response.json()["detail"][0]
    assert detail["loc"][-1] == "reason" and "must not be empty" in detail["msg"]
    response = await api.call(
        "branch",
        "POST",
        "/cases",
        {"compound": "Anningyuan", "level": 2, "category": "moon", "title": "t"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "category"]
    bad_evidence = [
        ({"url": "http://f.example/a.jpg", "sha256": "ab" * 32}, "url", "https://"),
        ({"url": "https://f.example/a.jpg", "sha256": "AB" * 32}, "sha256", "pattern"),
        (
            {"url": "https://f.example/a.jpg", "sha256": "ab" * 32, "bytes": "..."},
            "bytes",
            "Extra inputs",
        ),
    ]
    for item, field, rule_text in bad_evidence:
        response = await api.call(
            "branch",
            "POST",
            "/cases",
            {
                "compound": "Anningyuan",
                "level": 2,
                "category": "parking",
                "title": "t",
                "evidence": [item],
            },
        )
        assert response.status_code == 422, response.text
        detail = response.json()["detail"][0]
        assert detail["loc"] == ["body", "evidence", 0, field], detail
        assert rule_text in detail["msg"]
    twice = {"url": "https://f.example/a.jpg", "sha256": "ab" * 32}
    response = await api.call(
        "fire",
        "POST",
        f"/cases/{case}/sign-off",
        {"outcome": "resolved", "evidence": [twice, twice]},
    )
    assert response.status_code == 422
    assert "[1].sha256: the same file is referenced twice" in response.text
    response = await api.call("fire", "POST", f"/cases/{case}/report-in", {})
    rule = await api.call("fire", "POST", f"/cases/{case}/report-in", {})
    assert rule.status_code == 409 and "has already reported in" in rule.json()["detail"]


async def test_raising_is_for_a_branch_in_its_own_compounds(api: Api) -> None:
    body = {"compound": "Anningyuan", "level": "emergency", "category": "fire_lane", "title": "t"}
    for role, code in (("other_branch", 403), ("fire", 403), ("auditor", 403), ("admin", 403)):
        response = await api.call(role, "POST", "/cases", body)
        assert response.status_code == code, (role, response.text)
    created = await api.call("other_branch", "POST", "/cases", {**body, "compound": "Xiangyang"})
    assert created.status_code == 201


async def test_idempotency_keys(api: Api) -> None:
    body = {"compound": "Anningyuan", "level": 2, "category": "parking", "title": "t"}
    first = await api.ok("branch", "POST", "/cases", body, **{"Idempotency-Key": "req-1"})
    again = await api.call("branch", "POST", "/cases", body, **{"Idempotency-Key": "req-1"})
    assert again.status_code == 200 and again.json()["case_id"] == first["case_id"]
    # the document `whistle raise --json` prints too, either way
    assert tuple(first) == tuple(again.json()) == RAISED_FIELDS
    assert first["level"] == again.json()["level"] == WhistleLevel.parse(2).label
    assert (first["duplicate"], again.json()["duplicate"]) == (False, True)
    case = first["case_id"]
    one = await api.ok("police", "POST", f"/cases/{case}/report-in", {}, **{"Idempotency-Key": "k"})
    two = await api.ok("police", "POST", f"/cases/{case}/report-in", {}, **{"Idempotency-Key": "k"})
    assert one["events"] == two["events"]
    kinds = [e["kind"] for e in (await api.case(case))["events"]]
    assert kinds.count("reported_in") == 1


async def test_lists_are_scoped_and_filtered(api: Api) -> None:
    mine = await api.raise_case(title="Needle-in-a-haystack sedan")
    await api.ok(
        "other_branch",
        "POST",
        "/cases",
        {"compound": "Xiangyang", "level": 1, "category": "greenery", "title": "Trees"},
    )

    async def listed(role: str, query: str = "") -> set[str]:
        cases = (await api.ok(role, "GET", f"/cases?limit=500{query}"))["cases"]
        return {c["case_id"] for c in cases}

    for _ in range(200):  # the projection lands just after the case starts
        if mine in await listed("auditor"):
            break
        await asyncio.sleep(0.05)
    assert mine in await listed("branch")
    assert mine in await listed("fire")
    assert mine not in await listed("other_branch")
    assert mine not in await listed("housing")
    assert await listed("branch", "&text=needle-in") == {mine}
    assert mine in await listed("branch", "&status=awaiting_report_in&level=emergency")
    assert mine not in await listed("branch", "&status=closed&level=emergency")
    assert mine not in await listed("branch", "&overdue=true")
    assert mine in await listed("branch", "&department=police&compound=Anningyuan")
    assert mine not in await listed("branch", "&department=housing")
    branch_cases = (await api.ok("branch", "GET", "/cases?limit=500"))["cases"]
    # only its own compound; cases raised under an organisation record its code (anningyuan)
    assert {c["compound"].lower() for c in branch_cases} == {"anningyuan"}
    bad = await api.call("branch", "GET", "/cases?status=lost")
    assert bad.status_code == 422


async def test_tokens_expire_and_are_revoked(api: Api, engine: Engine) -> None:
    _, expired = issue_token(engine, "auditor-t", expires_in=timedelta(seconds=-1))
    assert (await api.call(expired, "GET", "/cases")).status_code == 401
    issued = await api.ok(
        "admin", "POST", "/principals/auditor-t/tokens", {"expires_in": "1h", "label": "laptop"}
    )
    assert (await api.call(issued["token"], "GET", "/cases")).status_code == 200
    revoke = await api.call("admin", "DELETE", f"/tokens/{issued['token_id']}")
    assert revoke.status_code == 204
    assert (await api.call(issued["token"], "GET", "/cases")).status_code == 401
    assert (await api.call("admin", "DELETE", f"/tokens/{issued['token_id']}")).status_code == 404


async def test_admin_manages_principals_and_policy(api: Api) -> None:
    made = await api.call(
        "admin",
        "POST",
        "/principals",
        {"name": "sanitation-t", "kind": "department", "department": "sanitation"},
    )
    assert made.status_code == 201
    again = await api.call(
        "admin",
        "POST",
        "/principals",
        {"name": "sanitation-t", "kind": "department", "department": "sanitation"},
    )
    assert again.status_code == 422 and "already exists" in again.text
    unknown = await api.call(
        "admin",
        "POST",
        "/principals",
        {"name": "army-t", "kind": "department", "department": "army"},
    )
    assert unknown.status_code == 422 and "unknown department" in unknown.text
    for role in ("branch", "fire", "auditor"):
        assert (
            await api.call(role, "POST", "/principals", {"name": "x", "kind": "auditor"})
        ).status_code == 403
        assert (await api.call(role, "GET", "/principals")).status_code == 403
        assert (await api.call(role, "PUT", "/policy", {"toml": ""})).status_code == 403
    names = {p["name"] for p in (await api.ok("admin", "GET", "/principals"))["principals"]}
    assert {"sanitation-t", "branch-t"} <= names
    policy = await api.ok("branch", "GET", "/policy")
    assert policy["levels"]["emergency"]["report_in_seconds"] == 1800
    # issue 11's rules reach the API too: working days, the miss rule, review, redo, ranking
    joint = policy["levels"]["joint"]
    assert joint["report_in_working_days"] == 3 and joint["on_miss"] == "supervise"
    assert policy["rules"]["return_review_working_days"] == 1 and policy["rules"]["redo_below"] == 3
    assert policy["assessment"] == {"min_dispatches": 5, "list_size": 3}
    bad = await api.call(
        "admin", "PUT", "/policy", {"toml": '[levels.emergency]\nreport_in = "0s"\n'}
    )
    assert bad.status_code == 422 and "levels.emergency.report_in" in bad.text
    assert (await api.ok("auditor", "GET", "/policy"))["version"] == policy["version"]


async def test_openapi_is_served(api: Api) -> None:
    schema = (await api.http.get("/openapi.json")).json()
    assert "/cases/{case_id}/sign-off" in schema["paths"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            code, answer = next((c, a) for c, a in operation["responses"].items() if c < "300")
            if code != "204":  # every answer with a body is described
                described = answer["content"]["application/json"]["schema"]
                assert described.get("$ref") or described.get("anyOf"), (method, path)
    assert (await api.http.get("/docs")).status_code == 200


async def test_assessment_is_for_auditors_and_admins(api: Api) -> None:
    for role in ("auditor", "admin"):
        table = await api.ok(role, "GET", "/stats?by=compound&from=2020-01-01")
        assert table["by"] == "compound" and "Anningyuan" in table["groups"]
        lists = await api.ok(role, "GET", "/stats/red-black?quarter=2026Q4")
        # the lists state their period, sample and formula (issue 11)
        assert {"quarter", "from", "to", "zone", "formula", "min_dispatches", "lists"} <= set(lists)
        assert set(lists["lists"][0]) == {"kind", "ranked", "left_out", "red", "black"}
    for role in ("branch", "fire"):
        assert (await api.call(role, "GET", "/stats")).status_code == 403
    bad = await api.call("auditor", "GET", "/stats?quarter=2026Q4&from=2026-10-01")
    assert bad.status_code == 422
    assert (await api.call("auditor", "GET", "/stats?quarter=2026Q9")).status_code == 422


# --- the contract: Idempotency-Key, docs, body limit -------------------------


async def test_any_idempotency_key_the_header_accepts_works(api: Api) -> None:
    key = "k" * ACTION_ID_MAX  # the header's declared maximum
    body = {"compound": "Anningyuan", "level": 2, "category": "parking", "title": "long key"}
    raised = await api.call("branch", "POST", "/cases", body, **{"Idempotency-Key": key})
    assert raised.status_code == 201, raised.text
    case = raised.json()["case_id"]
    one = await api.call(
        "police", "POST", f"/cases/{case}/report-in", {}, **{"Idempotency-Key": key}
    )
    assert one.status_code == 200, one.text
    two = await api.ok("police", "POST", f"/cases/{case}/report-in", {}, **{"Idempotency-Key": key})
    assert two["events"] == one.json()["events"]
    too_long = await api.call("branch", "POST", "/cases", body, **{"Idempotency-Key": key + "k"})
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert "action_id" not in too_long.text


async def test_a_raise_repeated_with_another_body_is_refused(api: Api) -> None:
    body = {"compound": "Anningyuan", "level": 2, "category": "parking", "title": "first"}
    key = {"Idempotency-Key": "raise-twice"}
    first = await api.call("branch", "POST", "/cases", body, **key)
    assert first.status_code == 201, first.text
    same = await api.call("branch", "POST", "/cases", body, **key)
    assert same.status_code == 200 and same.json()["duplicate"] is True
    assert same.json()["case_id"] == first.json()["case_id"]
    other = await api.call("branch", "POST", "/cases", {**body, "title": "second"}, **key)
    assert other.status_code == 409, other.text
    assert "Idempotency-Key" in other.json()["detail"]
    assert (await api.case(first.json()["case_id"]))["title"] == "first"
    case, key = first.json()["case_id"], {"Idempotency-Key": "act-twice"}
    await api.ok("branch", "POST", f"/cases/{case}/escalate", {"reason": "one"}, **key)
    again = await api.call("branch", "POST", f"/cases/{case}/escalate", {"reason": "two"}, **key)
    assert again.status_code == 409, again.text
    assert again.json()["detail"].startswith("Idempotency-Key:")


async def test_the_case_response_model_matches_the_case_document(api: Api, client: Client) -> None:
    """The API's case model is the live case document's shape (casework.views)."""
    case = await api.raise_case()
    document = case_document(await read_case(client, case))
    assert set(document) == set(CaseDocument.model_fields)
    assert set(document["events"][0]) == set(EventDocument.model_fields)
    assert set(document["deadlines"]) == set(DeadlinesDocument.model_fields)
    assert set(document["departments"][0]) == set(DepartmentDocument.model_fields)
    assert await api.case(case) == json.loads(json.dumps(document))


async def test_docs_are_served_from_whistle_itself(api: Api) -> None:
    page = await api.http.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r"""https?://[^"'\s)]+""", page.text)
    assert urls == [], urls
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    assert all(a.startswith("/") for a in assets), assets
    for asset in assets:
        fetched = await api.http.get(asset)
        assert fetched.status_code == 200, asset
        assert fetched.content
    assert "'validatorUrl': null" in page.text or '"validatorUrl": null' in page.text
    assert (await api.http.get("/redoc")).status_code == 404


FIVE_MB = 5 * 1024 * 1024


async def _raw_post(url: str, head: dict[str, str], body: bytes) -> bytes:
    """POST /cases over a socket; the status line of the answer."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        lines = ["POST /cases HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in head.items())]
        # No drain: the server may answer (and close) before it takes the rest.
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()


def _chunked(data: bytes, size: int = 65536, *, last: bool = True) -> bytes:
    parts = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + (b"0\r\n\r\n" if last else b"")


@pytest.mark.parametrize("role", [None, "branch"])
async def test_oversized_bodies_are_refused_before_they_are_read(
    api: Api, api_url: str, role: str | None
) -> None:
    auth = {"Authorization": f"Bearer {api.tokens[role]}"} if role else {}
    json_head = {"Content-Type": "application/json", **auth}
    big = b'{"title": "' + b"x" * FIVE_MB + b'"}'
    # A whole 5 MB body.
    head = {**json_head, "Content-Length": str(len(big))}
    assert (await _raw_post(api_url, head, big)).startswith(b"HTTP/1.1 413")
    # Announced as 5 MB but never sent: answered at once, so it was not read.
    head = {**json_head, "Content-Length": str(FIVE_MB)}
    assert (await _raw_post(api_url, head, b"{")).startswith(b"HTTP/1.1 413")
    # Streamed with no length and never ended: refused once past the limit.
    head = {**json_head, "Transfer-Encoding": "chunked"}
    assert (
        await _raw_post(api_url, head, _chunked(big[: 2 * 1024 * 1024], last=False))
    ).startswith(b"HTTP/1.1 413")
    # Within the limit, a streamed body is read as usual.
    body = {"compound": "Anningyuan", "level": 2, "category": "parking", "title": "streamed"}
    expected = b"HTTP/1.1 201" if role else b"HTTP/1.1 401"
    streamed = await _raw_post(api_url, head, _chunked(json.dumps(body).encode(), 16))
    assert streamed.startswith(expected), streamed


async def test_a_case_temporal_forgot_is_shown_from_the_projection_in_the_case_shape(
    api: Api, engine: Engine
) -> None:
    """The fallback answers the one case document, with ``source`` and nulls."""
    from datetime import UTC, datetime

    from models.case import CaseEvent
    from models.publication import CaseChanges, CaseSummary
    from store.projection import write_changes

    at = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    case_id = "forgotten-by-temporal-1"
    write_changes(
        engine,
        CaseChanges(
            summary=CaseSummary(
                case_id=case_id,
                compound="Anningyuan",
                category="fire_lane",
                title="An old case",
                level="emergency",
                status="closed",
                lead="fire_rescue",
                departments=["fire_rescue", "police"],
                raised_by="branch",
                raised_at=at,
                updated_at=at,
                report_in_deadline=None,
                resolve_deadline=None,
                confirmation_deadline=None,
                satisfaction=5,
                closing="confirmed",
                returns=0,
                redos=0,
                policy_version="p-old",
            ),
            events=[CaseEvent(seq=1, kind="raised", at=at, actor="branch", level="emergency")],
        ),
    )
    document = await api.case(case_id)
    assert document["source"] == "projection"
    assert set(document) == set(CaseDocument.model_fields)
    assert document["description"] is None and document["meeting"] is None
    assert [d["department"] for d in document["departments"]] == ["fire_rescue", "police"]
    assert [e["kind"] for e in document["events"]] == ["raised"]
    outsider = await api.call("other_branch", "GET", f"/cases/{case_id}")
    assert outsider.status_code == 404


async def test_an_admin_sets_a_workbench_password(api: Api, engine: Engine) -> None:
    from store.sign_in import sign_in

    path = "/principals/auditor-t/password"
    assert (await api.call("admin", "PUT", path, {"password": "api-set-2026"})).status_code == 204
    assert sign_in(engine, "auditor-t", "api-set-2026", "127.0.0.1").principal is not None
    assert (await api.call("admin", "PUT", path, {"password": "short"})).status_code == 422
    unknown = await api.call(
        "admin", "PUT", "/principals/nobody-t/password", {"password": "x" * 12}
    )
    assert unknown.status_code == 404
    assert (await api.call("branch", "PUT", path, {"password": "x" * 12})).status_code == 403
    assert sign_in(engine, "auditor-t", "x" * 12, "127.0.0.1").principal is None  # nothing changed
