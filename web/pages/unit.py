"""A unit's inbox, desk first: its open cases, the nearest deadline first, with
a live countdown; the list refreshes itself every few seconds."""

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from api.responses import CaseRow
from models.principals import PrincipalKind
from web.deps import PageDep
from web.lists import deadline_of, open_cases

router = APIRouter(include_in_schema=False)

POLL_SECONDS = 5
"""How often an open inbox asks for new whistles (the issue's bound)."""


def _rows(page: PageDep) -> list[CaseRow]:
    page.require(PrincipalKind.DEPARTMENT, "read a unit's inbox")
    return open_cases(page.me, page.engine)


@router.get("/unit", response_class=HTMLResponse)
def inbox(page: PageDep) -> Response:
    return page.render(
        "unit.html", rows=_rows(page), deadline_of=deadline_of, poll_seconds=POLL_SECONDS
    )


@router.get("/unit/rows", response_class=HTMLResponse)
def inbox_rows(page: PageDep) -> Response:
    """The inbox's rows alone, for the page's polling."""
    return page.render("unit_rows.html", rows=_rows(page), deadline_of=deadline_of)
