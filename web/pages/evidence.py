"""Downloading a file of whistle's evidence store: only for someone who may see a
case the file was uploaded for, and served as the type it was checked to be."""

import asyncio
import re

from fastapi import APIRouter
from fastapi.responses import Response

from api.routes.cases import visible_case
from models.errors import CaseNotFound
from models.limits import SHA256_HEX
from store.evidence import evidence_store, uploads_of
from web.deps import PageDep

router = APIRouter(include_in_schema=False)


@router.get("/evidence/{sha256}")
async def download(sha256: str, page: PageDep) -> Response:
    if not re.fullmatch(SHA256_HEX[1:-1], sha256):
        return page.render("error.html", status_code=404, message=page.t("error.not_found"))
    for upload in uploads_of(page.engine, sha256):
        try:
            await visible_case(page.client, page.me, upload.case_id, page.engine)
        except CaseNotFound:
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
