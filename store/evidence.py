"""Whistle's own content-addressed store of uploaded evidence.

A file is kept under its SHA-256, so the same photo uploaded twice is kept once
and a file can never change under its name. What a file is, is read from its
first bytes, never from what the browser claims. Each upload also records the
case it was for: a download is allowed to whoever may see one of those cases.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.limits import SHA256_HEX_RE, UPLOAD_FILE_MAX_BYTES
from models.tables import EvidenceFileRecord
from models.text_rules import SHORT_MAX, RuleViolation
from settings import Settings

# (first bytes, at offset, content type): the kinds a photo or a document comes in.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"WEBP", 8, "image/webp"),
    (b"%PDF-", 0, "application/pdf"),
)
ACCEPTED_TYPES = tuple(kind for _, _, kind in _SIGNATURES)
ACCEPT_ATTRIBUTE = ",".join(ACCEPTED_TYPES)
"""For the file input's ``accept``: the browser offers only these."""


def sniff(data: bytes) -> str | None:
    """The content type read from the file's first bytes, if it is one accepted."""
    for magic, offset, kind in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            if kind == "image/webp" and not data.startswith(b"RIFF"):
                continue
            return kind
    return None


def check_upload(data: bytes, *, field: str) -> str:
    """The file's content type, or RuleViolation naming ``field`` and the rule."""
    if not data:
        raise RuleViolation(f"{field}: the file is empty")
    if len(data) > UPLOAD_FILE_MAX_BYTES:
        raise RuleViolation(
            f"{field}: at most {UPLOAD_FILE_MAX_BYTES // (1024 * 1024)} MiB per file; "
            f"got {len(data) / (1024 * 1024):.1f} MiB"
        )
    kind = sniff(data)
    if kind is None:
        raise RuleViolation(f"{field}: only JPEG, PNG, WebP photos and PDF documents are accepted")
    return kind


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    content_type: str
    size: int


class EvidenceStore(Protocol):
    """Where uploaded files are kept, by SHA-256: a directory or an S3-compatible bucket."""

    def put(self, data: bytes, sha256: str, content_type: str) -> None: ...

    def get(self, sha256: str) -> bytes | None: ...


def evidence_store(settings: Settings) -> EvidenceStore:
    """The store the settings name: a bucket if an S3 endpoint is set, else the directory."""
    if settings.evidence_s3_endpoint:
        from store.evidence_s3 import S3EvidenceStore  # only sites with a bucket need minio

        return S3EvidenceStore(
            settings.evidence_s3_endpoint,
            settings.evidence_s3_bucket,
            settings.evidence_s3_access_key or "",
            settings.evidence_s3_secret_key or "",
            settings.evidence_s3_region,
        )
    return LocalEvidenceStore(settings.evidence_root())


class LocalEvidenceStore:
    """Files in a directory, as ``ab/abcdef...`` (two levels keep directories small)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        if not SHA256_HEX_RE.match(sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes, sha256: str, content_type: str) -> None:
        path = self._path(sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then renamed: a reader never sees half a file under its name.
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def get(self, sha256: str) -> bytes | None:
        path = self._path(sha256)
        return path.read_bytes() if path.exists() else None


def keep_upload(
    engine: Engine,
    store: EvidenceStore,
    data: bytes,
    *,
    case_id: str,
    name: str,
    uploaded_by: str,
    field: str,
) -> StoredFile:
    """Check, store and record a file uploaded for ``case_id``."""
    content_type = check_upload(data, field=field)
    sha256 = hashlib.sha256(data).hexdigest()
    store.put(data, sha256, content_type)
    with Session(engine) as session:
        if session.get(EvidenceFileRecord, (sha256, case_id)) is None:
            session.add(
                EvidenceFileRecord(
                    sha256=sha256,
                    case_id=case_id,
                    content_type=content_type,
                    size=len(data),
                    name=name[:SHORT_MAX],
                    uploaded_by=uploaded_by,
                    uploaded_at=datetime.now(UTC),
                )
            )
            session.commit()
    return StoredFile(sha256, content_type, len(data))


def uploads_of(engine: Engine, sha256: str) -> list[EvidenceFileRecord]:
    """Every case a file was uploaded for (empty: not an upload of whistle's)."""
    with Session(engine) as session:
        query = select(EvidenceFileRecord).where(EvidenceFileRecord.sha256 == sha256)
        return list(session.exec(query))
