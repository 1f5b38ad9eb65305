"""Each role's main flow in a real headless Chromium (Debian's), against the
workbench served with a real worker on the Temporal test server: a branch raises
with a photo on a phone, a unit at a desk sees it arrive without reloading,
reports in and signs off, the branch asks for a joint meeting, the station holds
it, the units sign off, the branch confirms and an auditor reads the timeline
and the charts. Forbidden pages are refused in the browser too; every form page
passes axe-core without a serious violation; no request leaves the site.

Screenshots of every page, at 390x844 and 1440x900, go to ``build/screenshots``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browserkit import DESKTOP, PHONE, serious_violations, snap
from tests.casekit import raised_cases
from tests.test_web_pages import PNG
from tests.webkit import PASSWORD

pytestmark = pytest.mark.browser


class Watched:
    """A browser context for one person, noting every request that leaves the site."""

    def __init__(self, context: BrowserContext, site: str) -> None:
        self.context = context
        self.site = site
        self.elsewhere: list[str] = []
        context.on("request", self._note)

    def _note(self, request: object) -> None:
        url = str(getattr(request, "url", ""))
        if not url.startswith((self.site, "data:", "about:")):
            self.elsewhere.append(url)


@pytest_asyncio.fixture
async def contexts(browser: Browser, site: str) -> AsyncIterator[list[Watched]]:
    opened: list[Watched] = []
    yield opened
    for watched in opened:
        assert watched.elsewhere == [], f"requests left the site: {watched.elsewhere}"
        await watched.context.close()


async def person(
    browser: Browser, site: str, contexts: list[Watched], name: str, *, phone: bool
) -> Page:
    """A fresh context at phone or desktop size, signed in as ``name`` by keyboard."""
    context = await browser.new_context(
        base_url=site, viewport=PHONE if phone else DESKTOP, locale="zh-CN"
    )
    contexts.append(Watched(context, site))
    page = await context.new_page()
    await page.goto("/login")
    await page.get_by_label("账号").fill(name)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/(branch|unit|station|audit)$"))
    return page


async def no_serious_violations(page: Page) -> None:
    assert await serious_violations(page) == []


async def open_action(page: Page, summary: str) -> None:
    details = page.locator("details", has=page.locator("summary", has_text=summary))
    if await details.get_attribute("open") is None:
        await details.locator("summary").click()


async def test_each_role_does_its_part_in_the_browser(
    browser: Browser,
    site: str,
    people: dict[str, str],
    contexts: list[Watched],
    tmp_path: Path,
    client: object,
) -> None:
    # A unit's duty officer has the inbox open at a desk before anything happens.
    fire = await person(browser, site, contexts, people["fire"], phone=False)
    await snap(fire, "unit-inbox-empty")

    # The branch secretary, on a phone, raises an emergency whistle with a photo.
    branch = await person(browser, site, contexts, people["branch"], phone=True)
    await snap(branch, "branch-cases")
    await branch.get_by_role("link", name="我要吹哨").first.click()
    await no_serious_violations(branch)
    await snap(branch, "branch-raise")
    await branch.get_by_label("问题类别").select_option("fire_lane")
    await branch.get_by_label("标题").fill("消防通道被私家车堵住")
    await branch.get_by_label("情况描述").fill("3 号楼东侧消防通道，车主联系不上。")
    await branch.get_by_label("具体位置").fill("3 号楼东侧")
    photo = tmp_path / "fire-lane.png"
    photo.write_bytes(PNG)
    await branch.get_by_label("照片或材料（可多选）").set_input_files(photo)
    await branch.get_by_role("button", name="我要吹哨").click()
    await branch.wait_for_url(re.compile(r"/case/[^/?]+\?done=raise$"))
    case_id = branch.url.split("/case/")[1].split("?")[0]
    raised_cases.append((client, case_id))  # type: ignore[arg-type]
    await expect(branch.get_by_text("待报到").first).to_be_visible()
    await expect(branch.get_by_role("link", name="fire-lane.png")).to_be_visible()
    await snap(branch, "case-raised")

    # The whistle appears in the unit's inbox without a reload, with a countdown.
    row = fire.locator(f'a[href="/case/{case_id}"]')
    await expect(row).to_be_visible(timeout=10_000)
    await expect(fire.locator("tbody .left").first).to_contain_text("还剩")
    await snap(fire, "unit-inbox")
    await row.click()
    await fire.get_by_role("button", name="报到").click()
    await expect(fire.get_by_text("已提交")).to_be_visible()

    # The branch asks the station for a joint meeting: the case goes to the joint task force.
    await branch.goto(f"/case/{case_id}")
    await open_action(branch, "申请召开联席会议")
    await branch.get_by_label("理由").fill("多部门职责交叉，需要联合处置")
    await branch.get_by_role("button", name="申请召开联席会议").click()
    await expect(branch.get_by_text("待召开联席会议").first).to_be_visible()

    # The station holds the meeting: lead, tasks and the plan's deadline.
    station = await person(browser, site, contexts, people["station"], phone=False)
    await snap(station, "station-board")
    await station.goto(f"/case/{case_id}")
    await no_serious_violations(station)
    await station.get_by_label("牵头单位").select_option("fire_rescue_1")
    await station.get_by_label("任务分工（每行一条：单位: 任务）").fill(
        "fire_rescue_1: 清理消防通道\npolice_a: 联系车主并处罚"
    )
    await station.get_by_label("完成期限（如 15wd）").fill("2h")
    await snap(station, "station-joint-meeting")
    await station.get_by_role("button", name="召开联席会议").click()
    await expect(station.get_by_text("已提交")).to_be_visible()

    # Every unit signs off (会签), the lead with a photo of the cleared lane.
    police = await person(browser, site, contexts, people["police"], phone=False)
    for unit, with_photo in ((fire, True), (police, False)):
        await unit.goto(f"/case/{case_id}")
        if await unit.get_by_role("button", name="报到").count():
            await unit.get_by_role("button", name="报到").click()
            await expect(unit.get_by_text("已提交")).to_be_visible()
        await open_action(unit, "签收办结")
        await no_serious_violations(unit)
        await unit.get_by_label("说明").fill("已处置完毕")
        if with_photo:
            await unit.get_by_label("照片或材料（可多选）").set_input_files(photo)
            await snap(unit, "unit-sign-off")
        await unit.get_by_role("button", name="签收办结").click()
        await expect(unit.get_by_text("已提交")).to_be_visible()

    # The branch confirms with full marks; the case closes.
    await branch.goto(f"/case/{case_id}")
    await expect(branch.get_by_text("待确认").first).to_be_visible()
    await snap(branch, "branch-confirm")
    await branch.get_by_label("5").check()
    await branch.get_by_role("button", name="确认结果").click()
    await expect(branch.get_by_text("已办结").first).to_be_visible()

    # The auditor reads the whole timeline, the ledger and replay verdicts, and the charts.
    auditor = await person(browser, site, contexts, people["auditor"], phone=False)
    await auditor.goto(f"/audit/case/{case_id}")
    for step in ("吹哨", "报到", "召开联席会议", "签收办结", "确认"):
        await expect(auditor.get_by_text(step, exact=True).first).to_be_visible()
    await snap(auditor, "audit-case")
    await auditor.goto("/audit/assessment")
    await expect(auditor.locator("svg").first).to_be_visible()
    await snap(auditor, "audit-assessment")


async def test_forbidden_pages_and_actions_are_refused_in_the_browser(
    browser: Browser, site: str, people: dict[str, str], contexts: list[Watched], client: object
) -> None:
    branch = await person(browser, site, contexts, people["branch"], phone=True)
    refused = await branch.goto("/station")
    assert refused is not None and refused.status == 403
    await expect(branch.get_by_text("您无权执行此操作").first).to_be_visible()
    await snap(branch, "refused")
    # Another street's station cannot even see the case.
    await branch.goto("/branch/raise")
    await branch.get_by_label("标题").fill("楼道堆放杂物")
    await branch.get_by_role("button", name="我要吹哨").click()
    await branch.wait_for_url(re.compile(r"/case/"))
    case_id = branch.url.split("/case/")[1].split("?")[0]
    raised_cases.append((client, case_id))  # type: ignore[arg-type]
    other = await person(browser, site, contexts, people["other_station"], phone=False)
    missing = await other.goto(f"/case/{case_id}")
    assert missing is not None and missing.status == 404
    # A field left empty is named next to the field, in Chinese, and nothing is raised.
    await branch.goto("/branch/raise")
    await branch.get_by_role("button", name="我要吹哨").click()
    await expect(branch.locator("#title-error")).to_be_visible()
    assert await branch.get_by_label("标题").get_attribute("aria-invalid") == "true"
    await no_serious_violations(branch)
    await snap(branch, "raise-refused")


async def test_the_sign_in_page_is_accessible(
    browser: Browser, site: str, contexts: list[Watched]
) -> None:
    context = await browser.new_context(base_url=site, viewport=PHONE)
    contexts.append(Watched(context, site))
    page = await context.new_page()
    await page.goto("/login")
    await no_serious_violations(page)
    await snap(page, "sign-in")
