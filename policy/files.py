"""Reading the district's TOML files and versioning their content, for the
policy and the organisation loaders alike."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

from models.errors import RuleViolation


def read_text_file(
    path: Path | str, *, what: str, error: type[RuleViolation], max_bytes: int | None = None
) -> str:
    """The UTF-8 text of the file at ``path``; ``error`` naming ``what`` and the path if not."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise error(f"{what} {path}: cannot be read: {err.strerror}") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise error(f"{what} {path}: is over {max_bytes // 1024} KiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{what} {path}: must be UTF-8 text") from None


def parse_toml(text: str, *, what: str, source: str, error: type[RuleViolation]) -> dict[str, Any]:
    """The TOML document ``text``; ``error`` naming the source and the line if invalid."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise error(f"{what} {source}: invalid TOML: {err}") from None


def content_version(prefix: str, content: dict[str, Any], *, ascii_only: bool) -> str:
    """A content hash: the same content always carries the same version.

    ``ascii_only``: whether the JSON hashed escapes non-ASCII text. Policies
    were always hashed escaped and organisations not, and a stored version must
    keep matching its content, so each keeps its own.
    """
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=ascii_only).encode()
    return f"{prefix}-{hashlib.sha256(encoded).hexdigest()[:12]}"
