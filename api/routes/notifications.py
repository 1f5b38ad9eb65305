"""The deliveries of notifications (``whistle notifications`` over HTTP): the counts
by status, the latest deliveries and the notifications no channel had; failed ones
sent again. Auditors and admins read every delivery, a station those of its
street's cases; admins and stations send failed ones again (a station its street's).

No ``from __future__ import annotations``: FastAPI reads these annotations at run time.
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.engine import Engine

from api.access import forbid, scope_of
from api.deps import EngineDep, PrincipalDep
from api.notification_responses import DeliveryDocument, Notifications, Retried, UnsentDocument
from models.errors import RuleViolation
from models.limits import CASE_ID, SHA256_HEX_LEN
from models.principals import Principal, PrincipalKind
from store.deliveries import ID_PREFIX_MIN, STATUSES
from store.delivery_outcomes import retry_failed
from store.delivery_reads import (
    LISTED_MAX,
    deliveries_by_status,
    delivery_document,
    failed_ids,
    list_deliveries,
    list_unsent,
    unsent_document,
)
from store.org import org_in_force

router = APIRouter(prefix="/notifications", tags=["notifications"])

STATUS = "^(" + "|".join(STATUSES) + ")$"
LISTED_DEFAULT = 50
RETRY_IDS_MAX = 500
"""Ids in one retry: each is a condition of one statement (SQLite caps its depth)."""


def reach_of(principal: Principal, engine: Engine, doing: str) -> frozenset[str] | None:
    """The compounds whose cases' deliveries ``principal`` may read (None: all):
    auditors and admins every one, a station its street's; no one else."""
    if principal.kind.reads_every_case:
        return None
    if principal.kind == PrincipalKind.STATION:
        compounds = scope_of(principal, org=org_in_force(engine)).compounds
        return compounds if compounds is not None else frozenset()
    raise forbid(f"only auditors, admins and stations {doing}; you are {principal.actor}")


@router.get("")
def notifications(
    principal: PrincipalDep,
    engine: EngineDep,
    status: Annotated[str | None, Query(pattern=STATUS)] = None,
    case: Annotated[str | None, Query(pattern=CASE_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=LISTED_MAX)] = LISTED_DEFAULT,
) -> Notifications:
    """The counts by status, the latest deliveries (of a status or a case, if asked)
    and, when neither is asked, the latest notifications no channel had."""
    compounds = reach_of(principal, engine, "read the deliveries of notifications")
    rows = list_deliveries(engine, status=status, case_id=case, limit=limit, compounds=compounds)
    unsent = [] if status or case else list_unsent(engine, limit, compounds)
    return Notifications(
        counts=deliveries_by_status(engine, compounds),
        deliveries=[DeliveryDocument.model_validate(delivery_document(r)) for r in rows],
        unsent=[UnsentDocument.model_validate(unsent_document(u)) for u in unsent],
    )


DeliveryIdPrefix = Annotated[
    str,
    StringConstraints(min_length=ID_PREFIX_MIN, max_length=SHA256_HEX_LEN, pattern=r"^[0-9a-f]+$"),
]


class RetryBody(BaseModel):
    """Which failed deliveries to send again: ``ids`` or ``all_failed``, one of them."""

    model_config = ConfigDict(extra="forbid")

    ids: Annotated[
        list[DeliveryIdPrefix] | None,
        Field(
            max_length=RETRY_IDS_MAX,
            description=f"Delivery ids, or their first {ID_PREFIX_MIN}+ characters.",
        ),
    ] = None
    all_failed: bool = False


@router.post("/retry")
def retry(body: RetryBody, principal: PrincipalDep, engine: EngineDep) -> Retried:
    """Send failed deliveries again, from a fresh count of attempts. Sending again
    what is no longer failed does nothing, so a repeated request is harmless."""
    if principal.kind not in (PrincipalKind.ADMIN, PrincipalKind.STATION):
        raise forbid(
            f"only admins and stations send failed deliveries again; you are {principal.actor}"
        )
    if body.ids and body.all_failed:
        raise RuleViolation("ids: give delivery ids or all_failed, not both")
    if not body.ids and not body.all_failed:
        raise RuleViolation("ids: give at least one delivery id, or all_failed: true")
    prefixes = None if body.all_failed else list(body.ids or [])
    now = datetime.now(UTC)
    if principal.kind == PrincipalKind.ADMIN:
        return Retried(retried=retry_failed(engine, now, prefixes))
    # A station's: only the failed deliveries of its street's cases, by full id.
    compounds = reach_of(principal, engine, "send failed deliveries again")
    assert compounds is not None
    chosen = failed_ids(engine, compounds, prefixes)
    retried = 0
    for start in range(0, len(chosen), RETRY_IDS_MAX):
        retried += retry_failed(engine, now, chosen[start : start + RETRY_IDS_MAX])
    return Retried(retried=retried)
