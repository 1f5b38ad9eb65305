"""The branch's pages, phone first: its compounds' cases, and raising a whistle."""

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api import schemas
from api.deps import case_id_for
from api.routes.cases import list_cases, raise_case
from models.levels import WhistleLevel
from models.limits import UPLOAD_FILES_MAX
from models.principals import PrincipalKind
from store.policies import policy_for_new_cases
from web.acting import form_key
from web.deps import PageDep, new_form_key
from web.forms import REFUSED, Refusal, refusal_of
from web.lists import deadline_of
from web.uploads import PHOTOS, files_of, keep_photos, upload_limits

router = APIRouter(include_in_schema=False)

RAISE_FIELDS = ("compound", "level", "category", "title", "description", "location", PHOTOS)


@router.get("/branch", response_class=HTMLResponse)
def home(page: PageDep) -> Response:
    page.require(PrincipalKind.BRANCH, "read the branch's page")
    listed = list_cases(page.me, page.engine)
    return page.render("branch.html", rows=listed.cases, deadline_of=deadline_of)


def _raise_form(page: PageDep, refusal: Refusal | None = None, values: Any = None) -> Response:
    policy = policy_for_new_cases(page.engine, page.settings)
    return page.render(
        "raise.html",
        status_code=refusal.status if refusal else 200,
        compounds=sorted(page.me.compounds),
        levels=[level.value for level in WhistleLevel],
        categories=list(policy.routing),
        errors=refusal.errors if refusal else {},
        problem=refusal.problem if refusal else None,
        values=values or {"level": WhistleLevel.EMERGENCY.value},
        form_key=new_form_key(),
        **upload_limits(),
    )


@router.get("/branch/raise", response_class=HTMLResponse)
def raise_form(page: PageDep) -> Response:
    page.require(PrincipalKind.BRANCH, "raise a whistle")
    return _raise_form(page)


@router.post("/branch/raise", response_class=HTMLResponse)
async def raise_whistle(page: PageDep) -> Response:
    form = await page.request.form(max_files=UPLOAD_FILES_MAX + 1)
    page.check_csrf(str(form.get("csrf", "")))
    values = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
    key = form_key(values)
    data: dict[str, Any] = {k: values.get(k, "") for k in RAISE_FIELDS if k != PHOTOS}
    try:
        # The form's own mistakes first, before any file is kept.
        schemas.RaiseBody.model_validate(data)
        case_id = case_id_for(page.me, key) if key else None
        if case_id:
            page.require(PrincipalKind.BRANCH, "raise a whistle")
            if data["compound"] in page.me.compounds:
                data["evidence"] = await keep_photos(
                    page.engine, page.settings, files_of(form), case_id=case_id, actor=page.me.actor
                )
        policy = policy_for_new_cases(page.engine, page.settings)
        raised = await raise_case(
            Response(),
            schemas.RaiseBody.model_validate(data),
            page.me,
            page.client,
            page.engine,
            page.settings,
            policy,
            key,
        )
    except REFUSED as err:
        return _raise_form(page, refusal_of(err, page.t, RAISE_FIELDS), values)
    return RedirectResponse(f"/case/{raised.case_id}?done=raise", status_code=303)
