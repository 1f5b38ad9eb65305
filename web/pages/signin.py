"""Signing in and out, the language switch, and the landing page of each role."""

import secrets
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import EngineDep, SettingsDep
from models.limits import SESSION_HOURS
from store.sign_in import SignInRefusal, close_session, open_session, session_of, sign_in
from web.deps import (
    HOME_OF,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    StalePage,
    lang_of,
    render,
    set_cookie,
)
from web.i18n import LANG_COOKIE, Speaker, pick_lang

router = APIRouter(include_in_schema=False)

YEAR = 365 * 86400
REFUSAL_WORDS = {
    SignInRefusal.WRONG: "signin.wrong",
    SignInRefusal.LOCKED: "signin.locked",
    SignInRefusal.THROTTLED: "signin.throttled",
    SignInRefusal.NAME_LOCKED: "signin.name_locked",
}


def safe_next(path: str | None) -> str:
    """Only a path of this site: a sign-in never sends anyone elsewhere."""
    if not path or not path.startswith("/") or path.startswith(("//", "/\\")):
        return "/"  # "//host" and "/\\host" lead browsers to another host
    parts = urlsplit(path)
    return path if not parts.scheme and not parts.netloc else "/"


def _speaker(request: Request, settings: SettingsDep) -> Speaker:
    return Speaker(lang_of(request), settings.zone(), datetime.now(UTC))


def _login_page(
    request: Request,
    settings: SettingsDep,
    *,
    next_path: str = "/",
    name: str = "",
    problem: str | None = None,
    flash: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    page = render(
        request,
        "login.html",
        status_code=status_code,
        t=_speaker(request, settings),
        signin_csrf=token,
        next_path=safe_next(next_path),
        name=name,
        problem=problem,
        flash=flash,
    )
    set_cookie(page, request, settings, LOGIN_CSRF_COOKIE, token, 3600)
    return page


@router.get("/")
def landing(request: Request, engine: EngineDep) -> Response:
    found = session_of(engine, request.cookies.get(SESSION_COOKIE, ""))
    target = HOME_OF[found.principal.kind] if found else "/login"
    return RedirectResponse(target, status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: SettingsDep, next: str = "/") -> HTMLResponse:
    return _login_page(request, settings, next_path=next)


@router.post("/login")
def login(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf):
        raise StalePage()
    t = _speaker(request, settings)
    name = name.strip().lower()
    # The peer's address; behind a trusted proxy, uvicorn's from X-Forwarded-For.
    client = request.client.host if request.client else ""
    result = sign_in(engine, name, password, client)
    if result.principal is None:
        words = REFUSAL_WORDS[result.refusal or SignInRefusal.WRONG]
        problem = t(words, until=t.local(result.locked_until))
        return _login_page(
            request, settings, next_path=next, name=name, problem=problem, status_code=401
        )
    key = open_session(engine, result.principal)
    target = safe_next(next)
    response = RedirectResponse(
        HOME_OF[result.principal.kind] if target == "/" else target, status_code=303
    )
    set_cookie(response, request, settings, SESSION_COOKIE, key, SESSION_HOURS * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    key = request.cookies.get(SESSION_COOKIE, "")
    found = session_of(engine, key)
    if found is not None:
        if not secrets.compare_digest(found.csrf, csrf):
            raise StalePage()
        close_session(engine, key)
    t = _speaker(request, settings)
    response = _login_page(request, settings, flash=t("signin.signed_out"))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def switch_language(
    request: Request, settings: SettingsDep, code: str, next: str = "/"
) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(response, request, settings, LANG_COOKIE, pick_lang(code), YEAR)
    return response
