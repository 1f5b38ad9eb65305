"""The auditor's pages, through real HTTP against the API's app, a real worker and
the Temporal test server: search, a case's ledger and replay verdicts, the
assessment's charts and lists, both spreadsheets, and 403 for everyone else."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.ledger import GENESIS
from models.periods import current_quarter
from models.tables import CaseEventRecord
from settings import Settings
from store.principals import add_principal
from store.reads import case_events
from store.sign_in import set_password
from tests.browserkit import PHONE, serious_violations, snap
from tests.casekit import TASK_QUEUE
from tests.test_audit import projected
from web.charts import bar_chart, grouped_chart
from web.export import XLSX

PASSWORD = "audit-web-password-1"
ZONE = Settings(task_queue=TASK_QUEUE).zone()


@pytest.fixture(scope="module")
def auditing_people(engine: Engine) -> dict[str, str]:
    """Principals who sign in with a password: kind -> name."""
    specs: dict[str, dict[str, Any]] = {
        "auditor": {"kind": "auditor"},
        "admin": {"kind": "admin"},
        "branch": {"kind": "branch", "compounds": ["Anningyuan"]},
        "department": {"kind": "department", "department": "police"},
    }
    names = {}
    for role, spec in specs.items():
        name = f"webaudit-{role}"
        add_principal(engine, name=name, **spec)
        set_password(engine, name, PASSWORD)
        names[role] = name
    return names


async def signed_in(api_url: str, name: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=api_url, timeout=60)
    form = await http.get("/login")
    assert "whistle_signin_csrf" in http.cookies
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found is not None
    answer = await http.post(
        "/login", data={"name": name, "password": PASSWORD, "csrf": found[1], "next": "/"}
    )
    assert answer.status_code == 303, answer.text
    return http


@pytest_asyncio.fixture
async def auditor(
    api_url: str, auditing_people: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    http = await signed_in(api_url, auditing_people["auditor"])
    yield http
    await http.aclose()


class Api:
    def __init__(self, url: str, tokens: dict[str, str]) -> None:
        self.http = httpx.AsyncClient(base_url=url, timeout=60)
        self.tokens = tokens

    async def ok(self, role: str, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        answer = await self.http.request(method, path, json=body, headers=headers)
        assert answer.status_code in (200, 201), (answer.status_code, answer.text)
        return answer.json()


RANKED_AFTER = 5
"""Cases enough for both units to be ranked (the default policy's ``min_dispatches``)."""


async def close_one(api: Api, engine: Engine, title: str) -> dict[str, Any]:
    """A whistle blown, reported in, resolved and confirmed (5) through the API, and
    projected (the search, the ledger and the assessment read the projection)."""
    raised = await api.ok(
        "branch",
        "POST",
        "/cases",
        {"compound": "Anningyuan", "level": "emergency", "category": "fire_lane", "title": title},
    )
    case_id = raised["case_id"]
    for role in ("fire", "police"):
        await api.ok(role, "POST", f"/cases/{case_id}/report-in", {})
    await api.ok("fire", "POST", f"/cases/{case_id}/sign-off", {"outcome": "resolved"})
    closed = await api.ok("branch", "POST", f"/cases/{case_id}/confirm", {"satisfaction": 5})
    assert closed["status"] == "closed"
    await projected(engine, case_id, "closed")
    document: dict[str, Any] = await api.ok("auditor", "GET", f"/cases/{case_id}")
    return document


@pytest_asyncio.fixture(scope="module")
async def closed_cases(
    api_url: str, tokens: dict[str, str], engine: Engine
) -> AsyncIterator[list[dict[str, Any]]]:
    api = Api(api_url, tokens)
    titles = ["Audit page: bikes in the stairwell"]
    titles += [f"Audit page: van on the fire lane {n}" for n in range(2, RANKED_AFTER + 1)]
    yield [await close_one(api, engine, title) for title in titles]
    await api.http.aclose()


@pytest.fixture
def closed_case(closed_cases: list[dict[str, Any]]) -> dict[str, Any]:
    return closed_cases[0]


def quarter_of(document: dict[str, Any]) -> str:
    # The test server's clock may have skipped ahead: the case's own quarter.
    return current_quarter(ZONE, datetime.fromisoformat(document["raised_at"]))


async def test_the_search_finds_the_case_and_words_bad_filters(
    auditor: httpx.AsyncClient, closed_case: dict[str, Any]
) -> None:
    case_id = closed_case["case_id"]
    page = await auditor.get(
        "/audit",
        params={"text": "bikes in the stairwell", "status": "closed", "level": "emergency"},
    )
    assert page.status_code == 200
    assert f'href="/audit/case/{case_id}"' in page.text
    assert 'href="/case/' not in page.text
    assert "已办结" in page.text  # the row's status, in the page's language
    assert '<option value="closed" selected>' in page.text

    none = await auditor.get("/audit", params={"text": "bikes", "overdue": "true"})
    assert none.status_code == 200 and case_id not in none.text

    bad = await auditor.get(
        "/audit", params={"level": "shouting", "status": "lost", "overdue": "maybe"}
    )
    assert bad.status_code == 422
    for field in ("level", "status", "overdue"):
        assert f'id="{field}-error"' in bad.text
        assert f'aria-describedby="{field}-error"' in bad.text
    assert "格式不正确" in bad.text and "请从列表中选择" in bad.text
    auditor.cookies.set("whistle_lang", "en")
    english = await auditor.get("/audit", params={"department": "Not A Code"})
    assert english.status_code == 422
    assert "is not in the expected form" in english.text


async def test_the_audit_case_page_checks_ledger_and_replay(
    auditor: httpx.AsyncClient, closed_case: dict[str, Any]
) -> None:
    case_id = closed_case["case_id"]
    page = await auditor.get(f"/audit/case/{case_id}")
    assert page.status_code == 200, page.text
    text = page.text
    assert closed_case["title"] in text  # the case page's own parts
    # The audit's table (below) holds every event: the case page's timeline is not repeated.
    assert 'class="timeline"' not in text
    assert "verdict ok" in text and "verdict bad" not in text
    assert f"台账完整：{len(closed_case['events'])} 条记录" in text
    assert "重放一致" in text
    assert "历史与台账一致" in text
    assert f'href="/audit/case/{case_id}/ledger.xlsx"' in text
    # the timeline table: who, when, and the deadline the dispatch set
    assert "department:fire-t" in text and "branch:branch-t" in text
    assert "报到期限" in text
    assert text.count('<td data-label="#">') == len(closed_case["events"])

    auditor.cookies.set("whistle_lang", "en")
    english = await auditor.get(f"/audit/case/{case_id}")
    assert "Replay matches" in english.text and "Ledger intact" in english.text

    missing = await auditor.get("/audit/case/no-such-case")
    assert missing.status_code == 404


async def test_an_open_case_replays_too(
    auditor: httpx.AsyncClient, api_url: str, tokens: dict[str, str]
) -> None:
    api = Api(api_url, tokens)
    raised = await api.ok(
        "branch",
        "POST",
        "/cases",
        {
            "compound": "Anningyuan",
            "level": "publicity",
            "category": "dog_keeping",
            "title": "Leash",
        },
    )
    case_id = raised["case_id"]
    try:
        for _ in range(100):  # the ledger is checked against the projection, which follows
            page = await auditor.get(f"/audit/case/{case_id}")
            assert page.status_code == 200, page.text
            # Not projected yet is not broken: the page says so, without alarm.
            assert "台账被改动" not in page.text, page.text
            if "台账完整" in page.text:
                break
            await asyncio.sleep(0.2)
        assert "重放一致" in page.text and "台账完整" in page.text
        assert "已归档" not in page.text
    finally:
        # A reason a spreadsheet would take for a formula (see the next test).
        await api.ok("branch", "POST", f"/cases/{case_id}/withdraw", {"reason": "=1+1 done"})
        await api.http.aclose()


async def test_text_stays_text_and_a_broken_ledger_is_named(
    auditor: httpx.AsyncClient, api_url: str, tokens: dict[str, str], engine: Engine
) -> None:
    api = Api(api_url, tokens)
    raised = await api.ok(
        "branch",
        "POST",
        "/cases",
        {"compound": "Anningyuan", "level": "publicity", "category": "noise", "title": "Drums"},
    )
    case_id = raised["case_id"]
    await api.ok("branch", "POST", f"/cases/{case_id}/withdraw", {"reason": "=HYPERLINK(1)"})
    await api.http.aclose()
    await projected(engine, case_id, "withdrawn")  # the ledger is the projection's
    ledger = await auditor.get(f"/audit/case/{case_id}/ledger.xlsx")
    sheet = load_workbook(io.BytesIO(ledger.content)).active
    withdrawn = [row for row in sheet.iter_rows(min_row=2) if row[2].value == "withdrawn"]
    assert withdrawn[0][9].value == "=HYPERLINK(1)" and withdrawn[0][9].data_type == "s"

    # Someone edits the ledger behind whistle's back: the page names the link.
    with Session(engine) as session:
        row = session.exec(
            select(CaseEventRecord).where(
                CaseEventRecord.case_id == case_id, CaseEventRecord.seq == 1
            )
        ).one()
        honest = row.actor
        row.actor = "branch:someone-else"
        session.add(row)
        session.commit()
    try:
        page = await auditor.get(f"/audit/case/{case_id}")
        assert page.status_code == 200
        assert "verdict bad" in page.text and "台账被改动" in page.text
        assert "event 1 (raised): content does not match its hash" in page.text
        assert "历史与台账一致" in page.text  # the history itself still holds the true events
    finally:
        with Session(engine) as session:
            row = session.exec(
                select(CaseEventRecord).where(
                    CaseEventRecord.case_id == case_id, CaseEventRecord.seq == 1
                )
            ).one()
            row.actor = honest
            session.add(row)
            session.commit()
    assert "verdict bad" not in (await auditor.get(f"/audit/case/{case_id}")).text

    missing = await auditor.get("/audit/case/no-such-case/ledger.xlsx")
    assert missing.status_code == 404


async def test_the_assessment_draws_charts_and_lists(
    auditor: httpx.AsyncClient, closed_case: dict[str, Any]
) -> None:
    quarter = quarter_of(closed_case)
    page = await auditor.get("/audit/assessment", params={"quarter": quarter})
    assert page.status_code == 200, page.text
    text = page.text
    charts = re.findall(r'<svg [^>]*role="img" aria-labelledby="([\w-]+)-title \1-desc"', text)
    assert charts == [
        "rates-by-unit",
        "rates-by-quarter",
        "whistles-by-compound",
        "escalations-by-level",
    ]
    for chart in charts:
        assert f'<title id="{chart}-title">' in text and f'<desc id="{chart}-desc">' in text
    assert 'viewBox="0 0 320 ' in text and 'width="100%"' in text
    assert "响应率" in text and "解决率" in text and "满意率" in text
    assert "fire_rescue" in text and "Anningyuan" in text
    # fire_rescue reported in, resolved and was scored: each of its three rates is known
    rate = r"\d{1,3}\.\d%"
    assert re.search(f"fire_rescue: 响应率 {rate}, 解决率 {rate}, 满意率 {rate}", text)
    assert re.search(f"{quarter}: 响应率 {rate}, 解决率 {rate}, 满意率 {rate}", text)
    assert "红榜" in text and "黑榜" in text
    red = text.split("<h3>红榜</h3>", 1)[1].split("<h3>黑榜</h3>", 1)[0]
    assert '<td data-label="名次">1</td>' in red  # both units ranked: one on each list
    assert "<script" not in text.split("</head>", 1)[1]  # no chart library
    assert f'href="/audit/assessment.xlsx?quarter={quarter}"' in text

    bad = await auditor.get("/audit/assessment", params={"quarter": "2026Q5"})
    assert bad.status_code == 422
    assert 'id="quarter-error"' in bad.text and "须形如 2026Q4" in bad.text
    assert "<svg" not in bad.text


async def test_the_spreadsheets(
    auditor: httpx.AsyncClient, closed_case: dict[str, Any], engine: Engine
) -> None:
    case_id = closed_case["case_id"]
    ledger = await auditor.get(f"/audit/case/{case_id}/ledger.xlsx")
    assert ledger.status_code == 200
    assert ledger.headers["content-type"] == XLSX
    assert ledger.headers["content-disposition"] == f'attachment; filename="ledger-{case_id}.xlsx"'
    sheet = load_workbook(io.BytesIO(ledger.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("序号", "事项", "事项代码")
    assert rows[0][-2:] == ("哈希", "前一哈希")
    records = case_events(engine, case_id)
    assert [r[0] for r in rows[1:]] == [r.seq for r in records]
    assert [r[2] for r in rows[1:]] == [r.kind for r in records]
    assert rows[1][1] == "吹哨" and rows[1][5] == "应急哨"
    assert isinstance(rows[1][3], datetime)
    assert [r[11] for r in rows[1:]] == [r.hash for r in records]
    assert [r[12] for r in rows[1:]] == [GENESIS] + [r.hash for r in records[:-1]]
    assert all(isinstance(r[10], str) and r[10].startswith("{") for r in rows[1:])

    quarter = quarter_of(closed_case)
    book = await auditor.get("/audit/assessment.xlsx", params={"quarter": quarter})
    assert book.status_code == 200
    assert book.headers["content-type"] == XLSX
    assert f'filename="assessment-{quarter}.xlsx"' in book.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(book.content))
    assert workbook.sheetnames == ["各单位三率", "红黑榜"]
    rates = list(workbook["各单位三率"].iter_rows(values_only=True))
    assert rates[0][:2] == ("季度", "单位") and "响应率" in rates[0]
    fire = [r for r in rates[1:] if r[1] == "fire_rescue"]
    assert len(fire) == 1 and fire[0][0] == quarter
    assert fire[0][2] == "fire_rescue"  # no organisation in force: its name is its code
    assert 0 <= fire[0][6] <= 1  # a share, shown as a percentage
    lists = list(workbook["红黑榜"].iter_rows(values_only=True))
    assert lists[0][:4] == ("季度", "榜单", "名次", "单位")
    rated = {r[1] for r in rates[1:]}
    assert {"fire_rescue", "police"} <= rated  # every unit of the quarter has its rates
    # The lists name units of the quarter (other tests' units share it under the full suite).
    assert {r[3] for r in lists[1:]} <= rated
    assert {r[1] for r in lists[1:]} <= {"红榜", "黑榜", "未参评单位"}
    assert {"红榜", "黑榜"} <= {r[1] for r in lists[1:]}
    assert all(r[6] is not None and 0 <= r[6] <= 1 for r in lists[1:] if r[1] != "未参评单位")

    bad = await auditor.get("/audit/assessment.xlsx", params={"quarter": "Q4"})
    assert bad.status_code == 422


async def test_an_admin_may_audit(api_url: str, auditing_people: dict[str, str]) -> None:
    http = await signed_in(api_url, auditing_people["admin"])
    try:
        assert (await http.get("/audit")).status_code == 200
        assert (await http.get("/audit/assessment")).status_code == 200
    finally:
        await http.aclose()


@pytest.mark.parametrize("role", ["branch", "department"])
async def test_others_are_refused(
    api_url: str, auditing_people: dict[str, str], closed_case: dict[str, Any], role: str
) -> None:
    case_id = closed_case["case_id"]
    http = await signed_in(api_url, auditing_people[role])
    try:
        for path in (
            "/audit",
            "/audit?level=shouting",
            f"/audit/case/{case_id}",
            f"/audit/case/{case_id}/ledger.xlsx",
            "/audit/assessment",
            "/audit/assessment.xlsx",
        ):
            refused = await http.get(path)
            assert refused.status_code == 403, path
            assert "text/html" in refused.headers["content-type"]
            assert "只有审计人员和管理员才能" in refused.text
    finally:
        await http.aclose()


async def test_no_session_is_sent_to_sign_in(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url) as http:
        answer = await http.get("/audit/assessment.xlsx?quarter=2026Q4")
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")


@pytest.mark.browser
async def test_the_audit_pages_on_a_phone(
    browser: Any, api_url: str, auditing_people: dict[str, str], closed_case: dict[str, Any]
) -> None:
    """At 390 px: nothing wider than the screen, and axe-core finds nothing serious."""
    context = await browser.new_context(base_url=api_url, viewport=PHONE, locale="zh-CN")
    try:
        page = await context.new_page()
        await page.goto("/login")
        await page.get_by_label("账号").fill(auditing_people["auditor"])
        await page.get_by_label("密码").fill(PASSWORD)
        await page.keyboard.press("Enter")
        await page.wait_for_url(re.compile(r"/audit$"))
        case_id = closed_case["case_id"]
        for name, path in (
            ("search", "/audit?text=bikes"),
            ("search-refused", "/audit?level=shouting"),
            ("case", f"/audit/case/{case_id}"),
            ("assessment", f"/audit/assessment?quarter={quarter_of(closed_case)}"),
        ):
            await page.goto(path)
            wide = await page.evaluate("document.documentElement.scrollWidth")
            assert wide <= PHONE["width"], (path, wide)
            assert await serious_violations(page) == [], path
            await snap(page, f"auditor-{name}")
    finally:
        await context.close()


def test_a_chart_is_accessible_and_escapes_its_words() -> None:
    chart = bar_chart("c1", "Units <&>", "Unit", "Cases", [("a<b", 3.0), ("long" * 20, None)])
    svg = str(chart.svg())
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"')
    assert '<title id="c1-title">Units &lt;&amp;&gt;</title>' in svg
    assert '<desc id="c1-desc">a&lt;b 3; ' in svg and "—" in svg
    assert "a<b" not in svg and "…" in svg  # a long label is shortened on the drawing
    table = str(chart.table("Figures"))
    assert "long" * 20 in table and "<caption>Units &lt;&amp;&gt;</caption>" in table
    shares = grouped_chart("c2", "Rates", "Unit", ["R", "S"], [("u", [0.5, None])], percent=True)
    assert "R 50.0%, S —" in shares.desc()
    assert 'width="132.0"' in str(shares.svg())  # half of the 264 units a bar may span
