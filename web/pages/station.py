"""The station's page: its street's open cases (the nearest deadline first) and the
latest closed ones, the overdue board, and the returns and extensions waiting for
its review."""

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from api.access import scope_of
from api.routes.station import overdue
from models.principals import PrincipalKind
from store.org import org_in_force
from store.reviews import waiting_for_review
from web.deps import PageDep
from web.lists import closed_cases, deadline_of, open_cases

router = APIRouter(include_in_schema=False)

CLOSED_SHOWN = 20
"""The street's latest closed cases under its open ones."""
STREET_WORKLIST = 50
"""The street's open cases shown, the nearest deadline first (the board and the
waiting list show what needs the station itself)."""
BOARD_SIZE = 50
"""The most overdue cases the board shows (``GET /board/overdue`` gives them all)."""


@router.get("/station", response_class=HTMLResponse)
def home(page: PageDep) -> Response:
    page.require(PrincipalKind.STATION, "read the station's page")
    work = open_cases(page.me, page.engine, STREET_WORKLIST)
    board = overdue(page.me, page.engine, limit=BOARD_SIZE)
    return page.render(
        "station.html",
        rows=work.rows,
        total=work.total,
        closed=closed_cases(page.me, page.engine, CLOSED_SHOWN),
        board=board.cases,
        waiting=waiting_for_review(
            page.engine, scope_of(page.me, org=org_in_force(page.engine)), BOARD_SIZE
        ),
        deadline_of=deadline_of,
    )
