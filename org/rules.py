"""The rules one entry of an organisation file is checked by (``org.loader``
builds the whole from them): each refusal is an OrgError naming the key."""

from __future__ import annotations

from typing import Any

from models.errors import OrgError, RuleViolation
from models.limits import ORG_ENTRIES_MAX, check_code
from models.text_rules import SHORT_MAX, check_text

SECTIONS = ("streets", "communities", "compounds", "grids", "units")
_SECTION_KEYS = {
    "streets": {"name"},
    "communities": {"name", "street"},
    "compounds": {"name", "community"},
    "grids": {"name", "community", "compounds"},
    "units": {"name", "kind", "jurisdiction"},
}


def check_entries(data: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
    entries = data.get(section, {})
    if len(entries) > ORG_ENTRIES_MAX:
        raise OrgError(f"{section}: at most {ORG_ENTRIES_MAX} entries; got {len(entries)}")
    known = _SECTION_KEYS[section]
    for code, values in entries.items():
        key = f"{section}.{code}"
        try:
            check_code(code, field=key)
        except RuleViolation as err:
            raise OrgError(str(err)) from None
        if not isinstance(values, dict):
            raise OrgError(f"{key}: must be a table ([{key}])")
        for name in values:
            if name not in known:
                raise OrgError(f"{key}.{name}: unknown key; known: {', '.join(sorted(known))}")
        for name in sorted(known - values.keys()):
            raise OrgError(f"{key}.{name}: missing")
    return dict(entries)


def check_name(value: Any, key: str, *, required: bool = True) -> str:
    if not isinstance(value, str):
        raise OrgError(f"{key}: must be a text of 1 to {SHORT_MAX} characters; got {value!r}")
    try:
        return check_text(value, field=key, max_len=SHORT_MAX, required=required)
    except RuleViolation as err:
        raise OrgError(str(err)) from None


def check_reference(value: Any, key: str, kind: str, known: dict[str, Any]) -> str:
    if isinstance(value, list):
        raise OrgError(f"{key}: must name exactly one {kind}, as a code; got a list")
    if not isinstance(value, str):
        raise OrgError(f"{key}: must be the code of a {kind}; got {value!r}")
    if value not in known:
        raise OrgError(f"{key}: unknown {kind} {value!r}")
    return value


def check_codes(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise OrgError(f"{key}: must be a list of codes")
    if not value:
        raise OrgError(f"{key}: must not be empty")
    if len(set(value)) != len(value):
        raise OrgError(f"{key}: names a code twice")
    return tuple(value)
