"""Evidence in an S3-compatible bucket (MinIO, Ceph RGW, a cloud's object store on
a private line), for sites that keep files off the API's hosts.

Objects are named as in the local store (``ab/abcdef...``): the SHA-256 is the
name, so a file already there is never written again and cannot change.
"""

from __future__ import annotations

import io
from urllib.parse import urlsplit

from minio import Minio
from minio.error import S3Error

from models.limits import SHA256_HEX_RE
from models.text_rules import RuleViolation

_MISSING = {"NoSuchKey", "NoSuchObject", "NotFound"}


class S3EvidenceStore:
    def __init__(
        self, endpoint: str, bucket: str, access_key: str, secret_key: str, region: str
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise RuleViolation(
                "WHISTLE_EVIDENCE_S3_ENDPOINT: an http:// or https:// address of the "
                f"S3-compatible service, without a path; got {endpoint!r}"
            )
        self.bucket = bucket
        self.client = Minio(
            parts.netloc,
            access_key=access_key,
            secret_key=secret_key,
            secure=parts.scheme == "https",
            region=region,
        )

    @staticmethod
    def _key(sha256: str) -> str:
        if not SHA256_HEX_RE.match(sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return f"{sha256[:2]}/{sha256}"

    def _exists(self, key: str) -> bool:
        try:
            self.client.stat_object(self.bucket, key)
        except S3Error as err:
            if err.code in _MISSING:
                return False
            raise
        return True

    def put(self, data: bytes, sha256: str, content_type: str) -> None:
        key = self._key(sha256)
        if not self._exists(key):
            self.client.put_object(
                self.bucket, key, io.BytesIO(data), len(data), content_type=content_type
            )

    def get(self, sha256: str) -> bytes | None:
        try:
            answer = self.client.get_object(self.bucket, self._key(sha256))
        except S3Error as err:
            if err.code in _MISSING:
                return None
            raise
        try:
            return answer.read()
        finally:
            answer.close()
            answer.release_conn()
