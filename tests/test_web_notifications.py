"""The deliveries page (``/deliveries``) over real HTTP: in Chinese with its rows
and counts, filtered by status, a station's street only, the retry forms sending
failed ones again, and 403 for a branch or a unit.

The deliveries are planted as in ``tests.test_api_notifications``, on cases of
their own (prefix ``nt-web``), and removed afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine

from models.workdays import DEFAULT_TIMEZONE
from store.deliveries import FAILED
from tests.test_api_notifications import AT, Sent, plant, remove, restore, world
from tests.webkit import Person, sign_in, text_of

PREFIX = "nt-web"
SENDS_OF = world(PREFIX)


@pytest.fixture(scope="module")
def planted(engine: Engine, people: dict[str, str]) -> Iterator[dict[str, Sent]]:
    plant(engine, SENDS_OF)
    yield SENDS_OF
    remove(engine, PREFIX)


@pytest_asyncio.fixture
async def station(
    site: str, people: dict[str, str], planted: dict[str, Sent], engine: Engine
) -> AsyncIterator[Person]:
    restore(engine, planted)
    person, answer = await sign_in(site, people["station"])
    assert answer.status_code == 303
    yield person
    await person.http.aclose()


async def test_the_page_in_chinese_with_the_streets_rows(station: Person) -> None:
    page = await station.http.get("/deliveries")
    assert page.status_code == 200, page.text
    text = text_of(page.text)
    assert "通知发送情况" in text and "待发送" in text and "已送达" in text and "发送失败" in text
    for name in ("a1_wecom", "a1_hook", "a2_sms"):
        assert SENDS_OF[name].id[:12] in text
    assert SENDS_OF["x1_wecom"].id[:12] not in text  # street s2's
    assert f'href="/case/{PREFIX}-a1"' in page.text
    assert "新派单" in text and "催办" in text  # kinds as the messages name them
    local = AT.astimezone(ZoneInfo(DEFAULT_TIMEZONE)).strftime("%Y-%m-%d %H:%M")
    assert "HTTP 500 from the robot" in text and local in text  # the district's time
    assert "没有渠道可送达该接收方" in text  # the unsent notification, and why
    assert "超时未办 · 街道工作站" in text  # the outbox's bare recipient in words
    assert 'href="/deliveries"' in page.text  # in the station's menu
    assert "重新发送失败的通知" in text
    assert "<script>" not in page.text and "style=" not in page.text  # strict CSP


async def test_the_status_filter(station: Person) -> None:
    failed = text_of((await station.http.get("/deliveries?status=failed")).text)
    assert SENDS_OF["a1_hook"].id[:12] in failed
    assert SENDS_OF["a1_wecom"].id[:12] not in failed and SENDS_OF["a2_sms"].id[:12] not in failed
    bad = await station.http.get("/deliveries?status=lost")
    assert bad.status_code == 422 and "请从列表中选择" in text_of(bad.text)


async def test_the_retry_forms_send_failed_ones_again(station: Person) -> None:
    sent = await station.form("/deliveries", "/deliveries/retry", {})
    assert sent.status_code == 303 and sent.headers["location"] == "/deliveries?retried=1"
    after = await station.http.get(sent.headers["location"])
    text = text_of(after.text)
    assert "已重新发送 1 条失败的通知" in text
    assert SENDS_OF["a1_hook"].id[:12] not in text_of(
        (await station.http.get("/deliveries?status=failed")).text
    )
    # Without its CSRF token a form changes nothing.
    stale = await station.http.post("/deliveries/retry", data={"ids": SENDS_OF["a1_hook"].id})
    assert stale.status_code == 403


async def test_one_failed_delivery_sent_again(station: Person, engine: Engine) -> None:
    hook = SENDS_OF["a1_hook"].id
    shown = await station.http.get("/deliveries?status=failed")
    csrf = shown.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    sent = await station.http.post("/deliveries/retry", data={"csrf": csrf, "ids": hook})
    assert sent.headers["location"] == "/deliveries?retried=1"
    # Another street's: the API's reach holds, nothing is sent again.
    other = SENDS_OF["x1_wecom"].id
    sent = await station.http.post("/deliveries/retry", data={"csrf": csrf, "ids": other})
    assert sent.headers["location"] == "/deliveries?retried=0"
    short = await station.http.post("/deliveries/retry", data={"csrf": csrf, "ids": "abc"})
    assert short.status_code == 422 and "ids" in text_of(short.text)


async def test_an_auditor_reads_every_street_but_is_offered_no_retry(
    site: str, people: dict[str, str], planted: dict[str, Sent]
) -> None:
    auditor, _ = await sign_in(site, people["auditor"])
    page = await auditor.http.get(f"/deliveries?status={FAILED}")
    text = text_of(page.text)
    assert page.status_code == 200 and SENDS_OF["x1_wecom"].id[:12] in text
    assert "重新发送" not in text and 'href="/deliveries"' in page.text
    await auditor.http.aclose()


@pytest.mark.parametrize("role", ["branch", "fire"])
async def test_a_branch_or_a_unit_is_refused(
    site: str, people: dict[str, str], planted: dict[str, Sent], role: str
) -> None:
    person, _ = await sign_in(site, people[role])
    page = await person.http.get("/deliveries")
    assert page.status_code == 403 and "您无权执行此操作" in page.text
    assert SENDS_OF["a1_hook"].id[:12] not in page.text
    await person.http.aclose()
