"""Debian's Chromium driven by Playwright (its own browser downloads cannot run
here), and what every browser test does with a page: screenshots at phone and
desktop sizes, and the accessibility check with axe-core served from disk."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

CHROMIUM = os.environ.get("WHISTLE_CHROMIUM", "/usr/bin/chromium")
# The closed network refuses Chromium's own calls home: never make them.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1440, height=900)
SCREENSHOTS = Path(os.environ.get("WHISTLE_SCREENSHOTS", "build/screenshots"))
_AXE_PACKAGE = importlib.util.find_spec("axe_playwright_python")
assert _AXE_PACKAGE is not None and _AXE_PACKAGE.origin is not None
AXE = Path(_AXE_PACKAGE.origin).parent / "axe.min.js"
"""axe-core as the pinned package ships it (MPL-2.0), injected from disk."""


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium with a fresh profile (Playwright makes one per launch)."""
    async with async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        await launched.close()


async def snap(page: Page, name: str) -> None:
    """The page at phone and at desktop size, full length, as PNG files."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(viewport)
        await page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
    if size:
        await page.set_viewport_size(size)


async def serious_violations(page: Page) -> list[str]:
    """What axe-core finds serious or critical on the page: rule, and where."""
    # Evaluated, not added as a script tag: the page's CSP allows only its own scripts.
    await page.evaluate(AXE.read_text(encoding="utf-8"))
    found = await page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]
