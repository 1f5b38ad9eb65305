"""The workbench over real HTTP, a real worker and the Temporal test server:
signing in (lockout, CSRF, cookie flags), raising with a photo, a unit's inbox
and actions, the same refusals as the API, and evidence only for those who may
see the case. The browser itself drives the flows in ``test_web_browser.py``."""

from __future__ import annotations

import asyncio
import hashlib
import re

from sqlalchemy.engine import Engine

from models.limits import SIGN_IN_FAILURES_MAX, UPLOAD_FILE_MAX_BYTES, UPLOAD_FILES_MAX
from tests.casekit import raised_cases
from tests.webkit import Person, sign_in, text_of

# The smallest PNG there is (1x1, one black pixel): a real file of an accepted kind.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201e2b9f1a60000000049454e44ae426082"
)


async def test_a_wrong_password_then_a_lockout(site: str, people: dict[str, str]) -> None:
    _, answer = await sign_in(site, people["other_station"], "not the password")
    assert answer.status_code == 401
    assert "账号或密码不正确" in answer.text
    for _ in range(SIGN_IN_FAILURES_MAX - 1):
        _, answer = await sign_in(site, people["other_station"], "still not it")
    assert answer.status_code == 401 and "已锁定" in answer.text
    # Locked: even the right password is refused until the lock ends...
    _, answer = await sign_in(site, people["other_station"])
    assert answer.status_code == 401 and "已锁定" in answer.text
    # ...from this computer only: the person at another one signs in (store.sign_in_failures).
    _, elsewhere = await sign_in(site, people["other_station"], via="198.51.100.20")
    assert elsewhere.status_code == 303, elsewhere.text
    _, unknown = await sign_in(site, "nobody-at-all", "whatever it is")
    assert unknown.status_code == 401 and "账号或密码不正确" in unknown.text


async def test_signing_in_sets_a_guarded_cookie_and_lands_on_the_role_page(
    site: str, people: dict[str, str]
) -> None:
    person, answer = await sign_in(site, people["fire"])
    assert answer.status_code == 303 and answer.headers["location"] == "/unit"
    cookie = next(
        v for k, v in answer.headers.multi_items() if k == "set-cookie" and "session" in v
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    inbox = await person.http.get("/unit")
    assert inbox.status_code == 200 and "待办" in inbox.text
    # Signed out, the cookie opens nothing.
    shown = await person.http.get("/unit")
    csrf = re.search(r'name="csrf" value="([^"]+)"', shown.text)
    assert csrf
    await person.http.post("/logout", data={"csrf": csrf.group(1)})
    again = await person.http.get("/unit")
    assert again.status_code == 303 and again.headers["location"].startswith("/login")


async def test_a_form_without_its_csrf_token_changes_nothing(
    site: str, people: dict[str, str], engine: Engine
) -> None:
    person, _ = await sign_in(site, people["branch"])
    answer = await person.http.post(
        "/branch/raise",
        data={
            "compound": "Anningyuan",
            "level": "emergency",
            "category": "fire_lane",
            "title": "x",
        },
    )
    assert answer.status_code == 403 and "页面已过期" in answer.text
    listed = await person.http.get("/branch")
    assert "暂无案件" in listed.text or "x</a>" not in listed.text


async def test_a_missing_title_is_named_next_to_the_field(
    site: str, people: dict[str, str]
) -> None:
    person, _ = await sign_in(site, people["branch"])
    fields = {"compound": "Anningyuan", "level": "emergency", "category": "fire_lane", "title": ""}
    answer = await person.form("/branch/raise", "/branch/raise", fields)
    assert answer.status_code == 422
    assert re.search(r'id="title"[^>]*aria-invalid="true"', answer.text)
    # In Chinese, the page's language (web.rule_words words the rule's message).
    assert re.search(r'<p class="error" id="title-error">[^<]*[\u4e00-\u9fff]', answer.text)


async def _raise_with_photo(person: Person, title: str) -> str:
    fields = {
        "compound": "Anningyuan",
        "level": "emergency",
        "category": "fire_lane",
        "title": title,
    }
    answer = await person.form(
        "/branch/raise",
        "/branch/raise",
        fields,
        files=[("photos", ("site.png", PNG, "image/png"))],
    )
    assert answer.status_code == 303, answer.text
    case_id = answer.headers["location"].split("/case/")[1].split("?")[0]
    return case_id


async def test_a_branch_raises_with_a_photo_and_only_those_who_see_the_case_see_it(
    site: str, people: dict[str, str], client: object
) -> None:
    branch, _ = await sign_in(site, people["branch"])
    case_id = await _raise_with_photo(branch, "消防通道被占用")
    raised_cases.append((client, case_id))  # type: ignore[arg-type]
    page = await branch.http.get(f"/case/{case_id}")
    sha256 = hashlib.sha256(PNG).hexdigest()
    assert f'href="/evidence/{sha256}"' in page.text
    assert "应急哨" in page.text and "待报到" in page.text
    photo = await branch.http.get(f"/evidence/{sha256}")
    assert photo.status_code == 200 and photo.content == PNG
    assert photo.headers["content-type"] == "image/png"
    fire, _ = await sign_in(site, people["fire"])
    assert (await fire.http.get(f"/evidence/{sha256}")).content == PNG
    stranger, _ = await sign_in(site, people["other_branch"])
    assert (await stranger.http.get(f"/evidence/{sha256}")).status_code == 404
    assert (await stranger.http.get(f"/case/{case_id}")).status_code == 404


async def test_a_file_of_another_kind_is_refused_and_nothing_is_raised(
    site: str, people: dict[str, str]
) -> None:
    branch, _ = await sign_in(site, people["branch"])
    before = text_of((await branch.http.get("/branch")).text)
    fields = {
        "compound": "Anningyuan",
        "level": "emergency",
        "category": "fire_lane",
        "title": "带附件",
    }
    answer = await branch.form(
        "/branch/raise",
        "/branch/raise",
        fields,
        files=[("photos", ("run.sh", b"#!/bin/sh\nrm -rf /\n", "image/png"))],
    )
    assert answer.status_code == 422
    assert 'id="photos-error"' in answer.text
    assert text_of((await branch.http.get("/branch")).text) == before


async def test_a_unit_works_its_inbox_and_may_not_do_the_branchs_part(
    site: str, people: dict[str, str], client: object
) -> None:
    branch, _ = await sign_in(site, people["branch"])
    case_id = await _raise_with_photo(branch, "楼道堆物")
    raised_cases.append((client, case_id))  # type: ignore[arg-type]
    fire, _ = await sign_in(site, people["fire"])
    rows = await fire.http.get("/unit/rows")
    assert f"/case/{case_id}" in rows.text and "还剩" in rows.text
    answer = await fire.form(f"/case/{case_id}", f"/case/{case_id}/report-in", {})
    assert answer.status_code == 303
    page = await fire.http.get(f"/case/{case_id}?done=report-in")
    assert "已提交" in page.text and "已报到" in page.text
    # The branch's action, from the unit: refused as the API refuses it, nothing recorded.
    shown = await fire.http.get(f"/case/{case_id}")
    events = shown.text.count('<li><span class="when">')
    fields = {
        "csrf": re.findall(r'name="csrf" value="([^"]+)"', shown.text)[0],
        "satisfaction": "5",
    }
    refused = await fire.http.post(f"/case/{case_id}/confirm", data=fields)
    assert refused.status_code == 403 and "您无权执行此操作" in refused.text
    after = await fire.http.get(f"/case/{case_id}")
    assert after.text.count('<li><span class="when">') == events
    # Pages of other roles are refused too.
    assert (await fire.http.get("/station")).status_code == 403
    assert (await branch.http.get("/unit")).status_code == 403


async def test_the_page_speaks_english_when_asked(site: str, people: dict[str, str]) -> None:
    person, _ = await sign_in(site, people["station"])
    await person.http.get("/lang/en?next=/station")
    page = await person.http.get("/station")
    assert "Overdue board" in page.text and 'lang="en"' in page.text
    assert (await person.http.get("/lang/evil?next=https://elsewhere.example")).headers[
        "location"
    ] == "/"


def test_a_sign_in_never_sends_anyone_to_another_host() -> None:
    from web.pages.signin import safe_next

    assert safe_next("/unit?x=1") == "/unit?x=1"
    for elsewhere in ("//evil.example", "/\\evil.example", "https://evil.example", "unit", ""):
        assert safe_next(elsewhere) == "/"


async def _raw(site: str, path: str, head: dict[str, str], body: bytes) -> bytes:
    host, port = site.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        lines = [f"POST {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in head.items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()


async def test_only_a_pages_form_may_be_large_and_only_with_its_length(site: str) -> None:
    form = {"Content-Type": "multipart/form-data; boundary=x"}
    large = UPLOAD_FILES_MAX * UPLOAD_FILE_MAX_BYTES  # within the form limit
    # Announced within the form limit: let through (then sign-in is asked, unread).
    answer = await _raw(site, "/branch/raise", {**form, "Content-Length": str(large)}, b"--x")
    assert answer.startswith(b"HTTP/1.1 303")
    # Past it, or to the API, or without a length: refused before anything is read.
    too_big = str(large + 2 * 1024 * 1024)
    assert (await _raw(site, "/branch/raise", {**form, "Content-Length": too_big}, b"")).startswith(
        b"HTTP/1.1 413"
    )
    api = {**form, "Content-Length": str(2 * 1024 * 1024)}
    assert (await _raw(site, "/cases", api, b"")).startswith(b"HTTP/1.1 413")
    chunked = {**form, "Transfer-Encoding": "chunked"}
    assert (await _raw(site, "/case/x/sign-off", chunked, b"5\r\n--x--\r\n")).startswith(
        b"HTTP/1.1 411"
    )
