"""Whistle's content-addressed evidence store: a directory by default, an
S3-compatible bucket as a setting (here a real S3 protocol server on loopback,
moto's), with the kind of a file read from its bytes and its size bounded; and
a photo uploaded through the workbench kept in the bucket."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from minio import Minio
from moto.server import ThreadedMotoServer
from sqlalchemy.engine import Engine
from temporalio.client import Client

from models.limits import UPLOAD_FILE_MAX_BYTES
from models.text_rules import RuleViolation
from settings import Settings
from store.evidence import LocalEvidenceStore, check_upload, evidence_store, sniff
from store.evidence_s3 import S3EvidenceStore
from tests.apikit import serve_api
from tests.casekit import TASK_QUEUE, raised_cases
from tests.test_web_pages import PNG
from tests.webkit import sign_in

BUCKET = "whistle-evidence"


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """An S3-compatible server on loopback with the bucket made; its endpoint."""
    port = _port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    Minio(f"127.0.0.1:{port}", access_key="k", secret_key="s", secure=False).make_bucket(BUCKET)
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _bucket_settings(s3: str, data_dir: Path) -> Settings:
    return Settings(
        task_queue=TASK_QUEUE,
        data_dir=data_dir,
        evidence_s3_endpoint=s3,
        evidence_s3_bucket=BUCKET,
        evidence_s3_access_key="k",
        evidence_s3_secret_key="s",
    )


def test_files_are_known_by_their_bytes_not_their_names() -> None:
    assert sniff(PNG) == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0" + b"\0" * 20) == "image/jpeg"
    assert sniff(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert sniff(b"%PDF-1.7\n") == "application/pdf"
    assert sniff(b"#!/bin/sh\n") is None and sniff(b"GIF89a") is None
    with pytest.raises(RuleViolation, match="photos: the file is empty"):
        check_upload(b"", field="photos")
    with pytest.raises(RuleViolation, match="photos: at most 10 MiB per file"):
        check_upload(PNG + b"\0" * UPLOAD_FILE_MAX_BYTES, field="photos")
    with pytest.raises(RuleViolation, match="only JPEG, PNG, WebP photos and PDF"):
        check_upload(b"<html>", field="photos")


def test_the_directory_keeps_each_file_once_under_its_hash(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    sha256 = hashlib.sha256(PNG).hexdigest()
    store.put(PNG, sha256, "image/png")
    store.put(PNG, sha256, "image/png")
    assert store.get(sha256) == PNG
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [sha256]
    assert store.get("0" * 64) is None
    with pytest.raises(ValueError, match="not a SHA-256"):
        store.get("../../etc/passwd")


def test_the_bucket_keeps_each_file_once_under_its_hash(s3: str, tmp_path: Path) -> None:
    store = evidence_store(_bucket_settings(s3, tmp_path))
    assert isinstance(store, S3EvidenceStore)
    sha256 = hashlib.sha256(PNG).hexdigest()
    store.put(PNG, sha256, "image/png")
    store.put(PNG, sha256, "image/png")
    assert store.get(sha256) == PNG
    assert store.get("f" * 64) is None
    keys = [o.object_name for o in store.client.list_objects(BUCKET, recursive=True)]
    assert keys == [f"{sha256[:2]}/{sha256}"]


def test_a_bad_endpoint_is_refused_with_the_setting() -> None:
    with pytest.raises(RuleViolation, match="WHISTLE_EVIDENCE_S3_ENDPOINT"):
        S3EvidenceStore("minio.local:9000/bucket", BUCKET, "k", "s", "us-east-1")


@pytest.fixture
async def bucket_site(
    client: Client, engine: Engine, people: dict[str, str], s3: str, tmp_path: Path
) -> AsyncIterator[tuple[str, Path]]:
    settings = _bucket_settings(s3, tmp_path)
    async with serve_api(client, engine, settings) as url:
        yield url, tmp_path


async def test_a_photo_uploaded_on_the_page_goes_to_the_bucket(
    bucket_site: tuple[str, Path], people: dict[str, str], client: Client, s3: str
) -> None:
    site, data_dir = bucket_site
    branch, _ = await sign_in(site, people["branch"])
    fields = {"compound": "Anningyuan", "level": "emergency", "category": "fire_lane"}
    answer = await branch.form(
        "/branch/raise",
        "/branch/raise",
        fields | {"title": "桶里的照片"},
        files=[("photos", ("lane.png", PNG, "image/png"))],
    )
    assert answer.status_code == 303, answer.text
    case_id = answer.headers["location"].split("/case/")[1].split("?")[0]
    raised_cases.append((client, case_id))
    sha256 = hashlib.sha256(PNG).hexdigest()
    assert (await branch.http.get(f"/evidence/{sha256}")).content == PNG
    assert not (data_dir / "evidence").exists()  # nothing on the API host's disk
    store = S3EvidenceStore(s3, BUCKET, "k", "s", "us-east-1")
    assert store.get(sha256) == PNG
