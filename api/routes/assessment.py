"""The assessment (考核): rates per department, compound or whistle, and the
quarter's red and black lists. For auditors and admins."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.access import require_reader_of_all
from api.deps import EngineDep, PrincipalDep, SettingsDep
from api.responses import RedBlack, Stats
from audit.stats import GROUPINGS, red_black, stats
from models.periods import QUARTER, current_quarter, parse_period

router = APIRouter(prefix="/stats", tags=["audit"])

Quarter = Annotated[str | None, Query(pattern=QUARTER, examples=["2026Q4"])]
INSTANT = (
    "A day (2026-10-01, from local midnight in the district's zone) or an ISO time with its offset."
)
GROUPING = "^(" + "|".join(GROUPINGS) + ")$"


@router.get("")
def get_stats(
    principal: PrincipalDep,
    engine: EngineDep,
    settings: SettingsDep,
    start: Annotated[str | None, Query(alias="from", max_length=40, description=INSTANT)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40, description=INSTANT)] = None,
    quarter: Quarter = None,
    by: Annotated[str, Query(pattern=GROUPING)] = GROUPINGS[0],
) -> Stats:
    """Response, resolution, satisfaction, return, redo, on-time rates; times; whistles.

    Cases count in the period they were raised in: ``quarter``, or ``from``/``to``."""
    require_reader_of_all(principal, "read the assessment")
    first, last = parse_period(start, end, quarter, zone=settings.zone())
    return Stats.model_validate(stats(engine, start=first, end=last, by=by))


@router.get("/red-black")
def get_red_black(
    principal: PrincipalDep, engine: EngineDep, settings: SettingsDep, quarter: Quarter = None
) -> RedBlack:
    """The quarter's top three and bottom three departments (红黑榜); default: this quarter."""
    require_reader_of_all(principal, "read the assessment")
    zone = settings.zone()
    chosen = quarter or current_quarter(zone)
    first, last = parse_period(None, None, chosen, zone=zone)
    groups = stats(engine, start=first, end=last)["groups"]
    return RedBlack.model_validate({"quarter": chosen, **red_black(groups)})
