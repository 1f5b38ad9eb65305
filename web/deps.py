"""What the workbench's pages depend on: the signed-in session (from its cookie),
the CSRF check every form passes, the page's language and rendering.

A page acts through the same functions and checks as the API (``web.acting``):
the session only says who the principal is.

No ``from __future__ import annotations``: FastAPI reads these annotations at run time.
"""

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from api.access import require_kind, require_reader_of_all
from api.deps import ClientDep, EngineDep, SettingsDep
from models.limits import SATISFACTION_MAX
from models.org import Organisation
from models.principals import Principal, PrincipalKind
from settings import Settings
from store.org import org_in_force
from store.sign_in import WebSession, session_of
from web.i18n import LANG_COOKIE, Speaker, pick_lang

SESSION_COOKIE = "whistle_session"
LOGIN_CSRF_COOKIE = "whistle_signin_csrf"
CSRF_FIELD = "csrf"

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["satisfaction_max"] = SATISFACTION_MAX

HOME_OF: dict[PrincipalKind, str] = {
    PrincipalKind.BRANCH: "/branch",
    PrincipalKind.DEPARTMENT: "/unit",
    PrincipalKind.STATION: "/station",
    PrincipalKind.AUDITOR: "/audit",
    PrincipalKind.ADMIN: "/audit",
}
"""Where each kind of principal lands after signing in."""


class SignInNeeded(Exception):
    """No live session: the page answers with the sign-in page (``web.app``)."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class StalePage(Exception):
    """A form came back without its session's CSRF token."""


class PageRefused(Exception):
    """A page this principal may not open (the API's 403, worded)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def names_in(org: Organisation | None) -> dict[str, str]:
    """Codes to names: compounds, streets and units of the organisation in force."""
    if org is None:
        return {}
    names = {code: c.name for code, c in org.compounds.items()}
    names.update({code: s.name for code, s in org.streets.items()})
    names.update({code: u.name for code, u in org.units.items()})
    return names


def lang_of(request: Request) -> str:
    return pick_lang(request.cookies.get(LANG_COOKIE))


def secure_cookies(request: Request, settings: Settings) -> bool:
    """Cookies are Secure when whistle is reached over TLS (or told it is, behind a proxy)."""
    return settings.cookie_secure or request.url.scheme == "https"


def set_cookie(
    response: Response, request: Request, settings: Settings, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request, settings),
        path="/",
    )


def new_form_key() -> str:
    """A fresh Idempotency-Key for one rendered form: submitting it twice acts once."""
    return "form-" + secrets.token_urlsafe(18)


class Page:
    """A signed-in request for a page (a FastAPI dependency)."""

    def __init__(
        self, request: Request, settings: SettingsDep, engine: EngineDep, client: ClientDep
    ) -> None:
        self.request = request
        self.settings = settings
        self.engine = engine
        self.client = client
        found = session_of(engine, request.cookies.get(SESSION_COOKIE, ""))
        if found is None:
            path = request.url.path
            if request.url.query:
                path += "?" + request.url.query
            # A form sent after the session ended: back to the role's page, not to a
            # path that only takes a POST (what was sent is not acted on).
            raise SignInNeeded(path if request.method == "GET" else "/")
        self.session: WebSession = found
        self.lang = lang_of(request)
        self.now = datetime.now(UTC)
        self.t = Speaker(self.lang, settings.zone(), self.now, names_in(org_in_force(engine)))

    @property
    def me(self) -> Principal:
        return self.session.principal

    def require(self, kind: PrincipalKind, doing: str) -> None:
        """The API's role check (``api.access.require_kind``), answered as a page."""
        try:
            require_kind(self.me, kind, doing)
        except HTTPException as err:
            raise PageRefused(str(err.detail)) from None

    def require_reader(self, doing: str) -> None:
        """The API's check for auditors and admins (``require_reader_of_all``), as a page."""
        try:
            require_reader_of_all(self.me, doing)
        except HTTPException as err:
            raise PageRefused(str(err.detail)) from None

    def check_csrf(self, token: str | None) -> None:
        if not token or not secrets.compare_digest(token, self.session.csrf):
            raise StalePage()

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return render(
            self.request,
            template,
            status_code=status_code,
            t=self.t,
            me=self.me,
            csrf=self.session.csrf,
            home=HOME_OF[self.me.kind],
            **context,
        )


PageDep = Annotated[Page, Depends()]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A template with what every page has: the language and the path to return to."""
    context.setdefault("me", None)
    context.setdefault("csrf", "")
    context.setdefault("home", "/")
    context["lang"] = context["t"].lang
    context["here"] = quote(request.url.path)
    return templates.TemplateResponse(request, template, context, status_code=status_code)
