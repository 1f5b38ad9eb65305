"""The workbench on the API's app: its pages, its assets, and how a page answers
when no one is signed in, a form is stale, or an action is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from store.sign_in import session_of
from web.deps import (
    HOME_OF,
    SESSION_COOKIE,
    PageRefused,
    SignInNeeded,
    StalePage,
    lang_of,
    render,
)
from web.i18n import Speaker
from web.pages import (
    assessment,
    audit,
    branch,
    case,
    evidence,
    notifications,
    signin,
    station,
    unit,
)
from web.rule_words import rule_in

ASSETS = Path(__file__).parent / "static"


def _sign_in_first(_: Request, err: Exception) -> Response:
    assert isinstance(err, SignInNeeded)
    return RedirectResponse(f"/login?next={quote(err.next_path)}", status_code=303)


def _error_page(request: Request, status_code: int, key: str, **fields: object) -> Response:
    """An error page in the frame of whoever is signed in (their menu, sign-out)."""
    t = Speaker(lang_of(request), request.app.state.settings.zone(), datetime.now(UTC))
    found = session_of(request.app.state.engine, request.cookies.get(SESSION_COOKIE, ""))
    frame: dict[str, Any] = {}
    if found is not None:
        frame = {"me": found.principal, "csrf": found.csrf, "home": HOME_OF[found.principal.kind]}
    return render(request, "error.html", status_code, t=t, message=t(key, **fields), **frame)


def _stale(request: Request, _: Exception) -> Response:
    return _error_page(request, 403, "error.csrf")


def _refused(request: Request, err: Exception) -> Response:
    assert isinstance(err, PageRefused)
    lang = lang_of(request)
    return _error_page(request, 403, "error.forbidden", message=rule_in(err.message, lang))


UPLOAD_PAGES = ("/branch/", "/case/")
"""Where forms may carry photos (``api.bodylimit`` lets them be larger)."""

PAGE_HEADERS = {
    # Everything a page loads comes from whistle itself; nothing frames it.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
API_DOCS = ("/docs", "/openapi.json")


async def _guard_pages(request: Request, call_next: Any) -> Response:
    response: Response = await call_next(request)
    is_page = response.headers.get("content-type", "").startswith("text/html")
    if is_page and not request.url.path.startswith(API_DOCS):
        for name, value in PAGE_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


def add_workbench(app: FastAPI) -> None:
    app.middleware("http")(_guard_pages)
    app.add_exception_handler(SignInNeeded, _sign_in_first)
    app.add_exception_handler(PageRefused, _refused)
    app.add_exception_handler(StalePage, _stale)
    app.mount("/assets", StaticFiles(directory=ASSETS), name="assets")
    for module in (signin, branch, unit, station, case, evidence, audit, assessment, notifications):
        app.include_router(module.router)
