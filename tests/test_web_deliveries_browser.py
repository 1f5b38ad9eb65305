"""The deliveries page (``/deliveries``) in a real headless Chromium: the station
reads its street's deliveries in Chinese at phone and desk sizes, filters the
failed ones and sends them again by keyboard; the page passes axe-core.

The deliveries are planted on cases of their own (prefix ``nt-browser``), as in
``tests.test_web_notifications``, and removed afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy.engine import Engine

from tests.browserkit import snap
from tests.test_api_notifications import Sent, plant, remove, world
from tests.test_web_browser import Watched, contexts, no_serious_violations, person

__all__ = ["contexts"]  # a fixture, used by name
pytestmark = pytest.mark.browser

PREFIX = "nt-browser"
SENDS_OF = world(PREFIX)


@pytest.fixture(scope="module")
def planted(engine: Engine) -> Iterator[dict[str, Sent]]:
    plant(engine, SENDS_OF)
    yield SENDS_OF
    remove(engine, PREFIX)


async def test_the_station_reads_and_retries_its_deliveries_in_the_browser(
    browser: Browser,
    site: str,
    people: dict[str, str],
    contexts: list[Watched],
    planted: dict[str, Sent],
) -> None:
    station = await person(browser, site, contexts, people["station"], phone=True)
    await station.get_by_role("link", name="通知发送", exact=True).first.click()
    await station.wait_for_url("**/deliveries")
    await expect(station.get_by_role("heading", name="通知发送情况")).to_be_visible()
    for name in ("a1_wecom", "a1_hook", "a2_sms"):
        await expect(station.get_by_text(planted[name].id[:12])).to_be_visible()
    await expect(station.get_by_text(planted["x1_wecom"].id[:12])).to_have_count(0)
    await no_serious_violations(station)
    await snap(station, "station-deliveries")

    # Only the failed ones, chosen from the list by keyboard.
    await station.get_by_role("combobox", name="发送状态").focus()
    await station.get_by_role("combobox", name="发送状态").select_option("failed")
    await station.get_by_role("button", name="筛选").click()
    await station.wait_for_url("**/deliveries?status=failed")
    await expect(station.get_by_text(planted["a1_hook"].id[:12])).to_be_visible()
    await expect(station.get_by_text(planted["a1_wecom"].id[:12])).to_have_count(0)

    await station.get_by_role("button", name="重新发送失败的通知").press("Enter")
    await station.wait_for_url("**/deliveries?retried=1")
    await expect(station.get_by_text("已重新发送 1 条失败的通知")).to_be_visible()
    await snap(station, "station-deliveries-retried")
