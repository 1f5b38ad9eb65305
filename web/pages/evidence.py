"""Downloading a file of whistle's evidence store: only for someone who may see a
case the file was uploaded for (read from the projection, as ``GET /cases/{id}``
does once Temporal has forgotten a case, so a closed case's photos stay
reachable), and served as the type it was checked to be."""

import asyncio

from fastapi import APIRouter
from fastapi.responses import Response

from api.routes.cases import projected_case, visible_case
from models.errors import CaseNotFound, EngineUnavailable
from models.evidence import STORE_PATH
from models.limits import SHA256_HEX_RE
from store.evidence import evidence_store, uploads_of
from web.deps import PageDep

router = APIRouter(include_in_schema=False)


async def _may_see(page: PageDep, case_id: str) -> bool:
    """From the projection; a case raised a moment ago may be only in Temporal yet."""
    if projected_case(page.me, page.engine, case_id) is not None:
        return True
    try:
        await visible_case(page.client, page.me, case_id, page.engine)
    except (CaseNotFound, EngineUnavailable):
        return False
    return True


@router.get(STORE_PATH + "{sha256}")
async def download(sha256: str, page: PageDep) -> Response:
    if not SHA256_HEX_RE.fullmatch(sha256):
        return page.render("error.html", status_code=404, message=page.t("error.not_found"))
    for upload in uploads_of(page.engine, sha256):
        if not await _may_see(page, upload.case_id):
            continue
        data = await asyncio.to_thread(evidence_store(page.settings).get, sha256)
        if data is None:
            break
        return Response(
            data,
            media_type=upload.content_type,
            headers={
                "Cache-Control": "private, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "ETag": f'"{sha256}"',
            },
        )
    return page.render("error.html", status_code=404, message=page.t("error.not_found"))
