"""One case's page: what it is, where it stands, its timeline, and the forms the
signed-in principal may use on it now. Reads and actions go through the API's
own functions (``web.acting``)."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.access import require_kind
from api.deps import CaseIdPath
from api.responses import CaseDocument
from api.routes.actions import CaseAction
from api.routes.cases import show_case, visible_case
from models.case import CaseStatus
from models.limits import UPLOAD_FILES_MAX
from models.principals import Principal, PrincipalKind
from models.station_rules import HANDLED
from store.policies import policy_for_new_cases
from web.acting import ACTIONS, form_key
from web.deps import PageDep, new_form_key
from web.forms import REFUSED, Refusal, refusal_of
from web.uploads import files_of, keep_photos, upload_limits

router = APIRouter(include_in_schema=False)


def forms_for(me: Principal, case: CaseDocument) -> list[str]:
    """The actions the case's page offers ``me`` now. Only an offer: the API's
    checks decide, so a stale page is refused with the rule's words."""
    if not CaseStatus(case.status).is_open:
        return []
    if me.kind == PrincipalKind.BRANCH:
        offers = ["withdraw"]
        if case.status == "awaiting_confirmation":
            offers[:0] = ["confirm", "redo"]
        elif case.status != "joint_meeting" and case.meeting is None:
            offers.insert(0, "joint-request")
        return offers
    if me.kind == PrincipalKind.DEPARTMENT:
        mine = [d for d in case.departments if d.department == me.department and not d.removed]
        if not mine or mine[0].outcome:
            return []
        if mine[0].reported_in_at is None:
            return ["report-in"]  # at the joint meeting too: on the case before the plan
        if case.status == "joint_meeting":
            return []  # the plan comes first
        return ["sign-off"] if mine[0].pending_extension_seconds else ["sign-off", "extension"]
    if me.kind == PrincipalKind.STATION:
        offers = []
        if case.status == "joint_meeting":
            offers.append("joint-meeting")
        if any(d.return_requested_at and not d.removed for d in case.departments):
            offers.append("return-review")
        if any(d.pending_extension_seconds and not d.removed for d in case.departments):
            offers.append("extension-decision")
        offers.append("supervise")
        if case.status in HANDLED:
            offers.append("redispatch")
        return offers
    return []


def evidence_of(case: CaseDocument) -> list[dict[str, str]]:
    """Every file referenced on the case's events: (sha256, url, label, local link)."""
    found: list[dict[str, str]] = []
    for event in case.events:
        for key, value in event.detail.items():
            if not key.startswith("evidence."):
                continue
            sha256, _, rest = str(value).partition(" ")
            url, _, label = rest.partition(" ")
            found.append({"sha256": sha256, "url": url, "label": label, "at": event.at or ""})
    return found


async def case_page(
    page: PageDep,
    case_id: str,
    *,
    refusal: Refusal | None = None,
    acting: str | None = None,
    values: dict[str, str] | None = None,
    flash: str | None = None,
) -> HTMLResponse:
    case = await show_case(case_id, page.me, page.client, page.engine)
    policy = policy_for_new_cases(page.engine, page.settings)
    return page.render(
        "case.html",
        status_code=refusal.status if refusal else 200,
        case=case,
        offers=forms_for(page.me, case),
        evidence=evidence_of(case),
        return_reasons=list(policy.return_reasons),
        acting=acting,
        errors=refusal.errors if refusal else {},
        problem=refusal.problem if refusal else None,
        values=values or {},
        form_key=new_form_key(),
        flash=flash,
        **upload_limits(),
    )


@router.get("/case/{case_id}", response_class=HTMLResponse)
async def show(case_id: CaseIdPath, page: PageDep, done: str | None = None) -> Response:
    try:
        return await case_page(page, case_id, flash=page.t("case.done") if done else None)
    except REFUSED as err:
        refusal = refusal_of(err, page.t, ())
        return page.render("error.html", status_code=refusal.status, message=refusal.problem)


@router.post("/case/{case_id}/{action}", response_class=HTMLResponse)
async def act(case_id: CaseIdPath, action: str, page: PageDep) -> Response:
    spec = ACTIONS.get(action)
    form = await page.request.form(max_files=UPLOAD_FILES_MAX + 1)
    page.check_csrf(str(form.get("csrf", "")))
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    if spec is None:
        return page.render("error.html", status_code=404, message=page.t("error.not_found"))
    try:
        on = CaseAction(case_id, page.me, page.client, page.engine, form_key(values))
        data = spec.parse(values)
        files = files_of(form) if spec.uploads else []
        if files:
            # Files are kept only for an action this principal may take on a case it
            # sees, and only once the form's own fields pass.
            await visible_case(page.client, page.me, case_id, page.engine)
            require_kind(page.me, spec.role, "send evidence with this action")
            spec.body.model_validate(data)
            data["evidence"] = await keep_photos(
                page.engine, page.settings, files, case_id=case_id, actor=page.me.actor
            )
        await spec.call(spec.body.model_validate(data), on)
    except REFUSED as err:
        refusal = refusal_of(err, page.t, spec.fields)
        try:
            return await case_page(page, case_id, refusal=refusal, acting=action, values=values)
        except REFUSED:
            return page.render("error.html", status_code=refusal.status, message=refusal.problem)
    return RedirectResponse(f"/case/{case_id}?done={action}", status_code=303)
