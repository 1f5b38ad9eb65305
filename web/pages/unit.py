"""A unit's inbox, desk first: its open cases, the nearest deadline first, with
a live countdown; the list refreshes itself every few seconds."""

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from models.principals import PrincipalKind
from web.deps import PageDep
from web.lists import Worklist, deadline_of, open_cases

router = APIRouter(include_in_schema=False)

POLL_SECONDS = 5
"""How often an open inbox asks for new whistles (the issue's bound)."""


def _worklist(page: PageDep) -> Worklist:
    page.require(PrincipalKind.DEPARTMENT, "read a unit's inbox")
    return open_cases(page.me, page.engine)


@router.get("/unit", response_class=HTMLResponse)
def inbox(page: PageDep) -> Response:
    work = _worklist(page)
    return page.render(
        "unit.html",
        rows=work.rows,
        total=work.total,
        deadline_of=deadline_of,
        poll_seconds=POLL_SECONDS,
    )


@router.get("/unit/rows", response_class=HTMLResponse)
def inbox_rows(page: PageDep) -> Response:
    """The inbox's rows alone, for the page's polling."""
    work = _worklist(page)
    return page.render("unit_rows.html", rows=work.rows, deadline_of=deadline_of)
