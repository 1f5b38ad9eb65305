"""The deliveries of notifications (``/deliveries``): the counts by status, the
latest deliveries and the notifications no channel had, for auditors, admins and
stations (a station's street only); admins and stations send failed ones again.

The page reads and acts through the API's own route functions
(``api.routes.notifications``): the same reach, the same checks. Its path is not
``/notifications``, which is the API's.
"""

import asyncio

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.routes.notifications import RetryBody, notifications, retry
from models.case import BRANCH, STATION
from models.limits import DELIVERED_COUNTED_HOURS
from models.principals import PrincipalKind
from notify.messages import headline
from store.deliveries import DELIVERED, FAILED, NO_CHANNEL, STATUSES, TOO_OLD
from web.deps import PageDep, PageRefused
from web.forms import REFUSED, refusal_of
from web.i18n import DEFAULT_LANG, Speaker

router = APIRouter(include_in_schema=False)

PAGE = "/deliveries"
SHOWN = 100
"""The latest deliveries the page lists (``GET /notifications`` gives up to 500)."""
RETRIERS = (PrincipalKind.ADMIN, PrincipalKind.STATION)
"""Who the page offers to send failed ones again (``retry`` decides)."""
UNSENT_WHY = {NO_CHANNEL: "deliveries.why.no_channel", TOO_OLD: "deliveries.why.too_old"}


def kind_words(kind: str, t: Speaker) -> str:
    """A notification's kind in the words its messages use (新派单), or its code in English."""
    return headline(kind) if t.lang == DEFAULT_LANG else kind.replace("_", " ")


def recipient_words(recipient: str, t: Speaker) -> str:
    """``station:s1`` -> 街道工作站 · 一街道; a unit by its name in the organisation."""
    role, sep, code = recipient.partition(":")
    if role in (STATION, BRANCH):  # bare in the outbox: the case's own station or branch
        return f"{t('role.' + role)} · {t.name(code)}" if sep else t("role." + role)
    return t.name(recipient)


def why_words(why: str, t: Speaker) -> str:
    key = UNSENT_WHY.get(why)
    return t(key) if key else why


@router.get(PAGE, response_class=HTMLResponse)
def deliveries(page: PageDep) -> Response:
    status = page.request.query_params.get("status", "").strip()
    retried = page.request.query_params.get("retried", "")
    problem = None
    if status and status not in STATUSES:  # the API's query check, which a direct call skips
        problem = page.t(
            "error.field", field=page.t("deliveries.status"), message=page.t("error.choice")
        )
        status = ""
    try:
        found = notifications(page.me, page.engine, status=status or None, case=None, limit=SHOWN)
    except HTTPException as err:
        raise PageRefused(str(err.detail)) from None
    return page.render(
        "notifications.html",
        status_code=422 if problem else 200,
        problem=problem,
        found=found,
        status=status,
        statuses=STATUSES,
        failed=FAILED,
        delivered=DELIVERED,
        counted_hours=DELIVERED_COUNTED_HOURS,
        may_retry=page.me.kind in RETRIERS,
        flash=page.t("deliveries.retried", n=int(retried)) if retried.isdecimal() else None,
        kind_words=kind_words,
        recipient_words=recipient_words,
        why_words=why_words,
    )


@router.post(PAGE + "/retry", response_class=HTMLResponse)
async def retry_failed_ones(page: PageDep) -> Response:
    """One failed delivery (``ids``) or all of them the principal may send again."""
    form = await page.request.form()
    page.check_csrf(str(form.get("csrf", "")))
    ids = [value for value in form.getlist("ids") if isinstance(value, str) and value]
    try:
        body = RetryBody.model_validate({"ids": ids} if ids else {"all_failed": True})
        done = await asyncio.to_thread(retry, body, page.me, page.engine)
    except REFUSED as err:
        refusal = refusal_of(err, page.t, ())
        return page.render("error.html", status_code=refusal.status, message=refusal.problem)
    return RedirectResponse(f"{PAGE}?retried={done.retried}", status_code=303)
