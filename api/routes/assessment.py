"""The assessment (考核): rates per unit, compound or whistle, and the quarter's
red and black lists. For auditors and admins."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.access import require_reader_of_all
from api.deps import EngineDep, PolicyDep, PrincipalDep, SettingsDep
from api.responses import RedBlack, Stats
from audit.ranking import check_kind, quarter_lists
from audit.stats import GROUPINGS, stats
from models.limits import CODE_MAX
from models.periods import QUARTER, current_quarter, parse_period

router = APIRouter(prefix="/stats", tags=["audit"])

Quarter = Annotated[str | None, Query(pattern=QUARTER, examples=["2026Q4"])]
Kind = Annotated[
    str | None,
    Query(
        max_length=CODE_MAX,
        examples=["police"],
        description="Only the units of this department kind (a department of the policy).",
    ),
]
INSTANT = (
    "A day (2026-10-01, from local midnight in the district's zone) or an ISO time with its offset."
)
GROUPING = "^(" + "|".join(GROUPINGS) + ")$"


@router.get("")
def get_stats(
    principal: PrincipalDep,
    engine: EngineDep,
    settings: SettingsDep,
    policy: PolicyDep,
    start: Annotated[str | None, Query(alias="from", max_length=40, description=INSTANT)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40, description=INSTANT)] = None,
    quarter: Quarter = None,
    by: Annotated[str, Query(pattern=GROUPING)] = GROUPINGS[0],
    kind: Kind = None,
) -> Stats:
    """Response, resolution, satisfaction, return, redo, on-time rates; times; whistles.

    Cases count in the period they were raised in: ``quarter``, or ``from``/``to``.
    Withdrawn cases are charged to no one; resolution is the branch's confirmation."""
    require_reader_of_all(principal, "read the assessment")
    check_kind(kind, policy)
    first, last = parse_period(start, end, quarter, zone=settings.zone())
    return Stats.model_validate(stats(engine, start=first, end=last, by=by, kind=kind))


@router.get("/red-black")
def get_red_black(
    principal: PrincipalDep,
    engine: EngineDep,
    settings: SettingsDep,
    policy: PolicyDep,
    quarter: Quarter = None,
    kind: Kind = None,
    each_kind: Annotated[
        bool, Query(description="A red and a black list for every department kind.")
    ] = False,
) -> RedBlack:
    """The quarter's red list (红榜) and black list (黑榜) of units; default: this quarter.

    Units with fewer dispatches than the policy's minimum are left out and named;
    ``kind`` or ``each_kind`` rank units only against units of the same kind."""
    require_reader_of_all(principal, "read the assessment")
    zone = settings.zone()
    document = quarter_lists(
        engine,
        policy,
        quarter=quarter or current_quarter(zone),
        zone=zone,
        kind=kind,
        each_kind=each_kind,
    )
    return RedBlack.model_validate(document)
