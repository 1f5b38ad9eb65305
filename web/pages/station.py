"""The station's page: its street's cases, the overdue board, and the returns and
extensions waiting for its review."""

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from api.routes.cases import list_cases
from api.routes.station import overdue
from models.principals import PrincipalKind
from web.deps import PageDep
from web.lists import deadline_of, waiting_for_review

router = APIRouter(include_in_schema=False)


@router.get("/station", response_class=HTMLResponse)
def home(page: PageDep) -> Response:
    page.require(PrincipalKind.STATION, "read the station's page")
    listed = list_cases(page.me, page.engine)
    board = overdue(page.me, page.engine)
    open_ids = [r.case_id for r in listed.cases if deadline_of(r) is not None]
    return page.render(
        "station.html",
        rows=listed.cases,
        board=board.cases,
        waiting=waiting_for_review(page.engine, open_ids),
        deadline_of=deadline_of,
    )
