"""Photos and documents sent with a form: checked, kept by SHA-256 in whistle's
store, and turned into the evidence references the API takes."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.engine import Engine
from starlette.datastructures import FormData, UploadFile

from models.evidence import store_url
from models.limits import UPLOAD_FILE_MAX_BYTES, UPLOAD_FILES_MAX
from models.text_rules import SHORT_MAX, RuleViolation
from settings import Settings
from store.evidence import ACCEPT_ATTRIBUTE, evidence_store, keep_upload

PHOTOS = "photos"
"""The file input's name on every form that takes evidence."""


def upload_limits() -> dict[str, Any]:
    """What a form with a file input shows: the kinds accepted and the limits."""
    return {
        "accept": ACCEPT_ATTRIBUTE,
        "max_mb": UPLOAD_FILE_MAX_BYTES // (1024 * 1024),
        "max_files": UPLOAD_FILES_MAX,
    }


def files_of(form: FormData) -> list[UploadFile]:
    return [f for f in form.getlist(PHOTOS) if isinstance(f, UploadFile) and f.filename]


async def keep_photos(
    engine: Engine, settings: Settings, files: list[UploadFile], *, case_id: str, actor: str
) -> list[dict[str, Any]]:
    """Evidence references for ``files``, each kept for ``case_id``; RuleViolation
    on ``photos`` for too many, too large or of a kind not accepted."""
    if len(files) > UPLOAD_FILES_MAX:
        raise RuleViolation(f"{PHOTOS}: at most {UPLOAD_FILES_MAX} files; got {len(files)}")
    store = evidence_store(settings)
    evidence: list[dict[str, Any]] = []
    for upload in files:
        data = await upload.read(UPLOAD_FILE_MAX_BYTES + 1)
        name = (upload.filename or "")[:SHORT_MAX]
        kept = await asyncio.to_thread(  # disk or bucket, and the database: off the loop
            keep_upload,
            engine,
            store,
            data,
            case_id=case_id,
            name=name,
            uploaded_by=actor,
            field=PHOTOS,
        )
        reference = {"url": store_url(kept.sha256), "sha256": kept.sha256, "label": name}
        if all(e["sha256"] != kept.sha256 for e in evidence):  # the same photo twice: once
            evidence.append(reference)
    return evidence
