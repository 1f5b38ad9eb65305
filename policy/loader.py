"""Load a district's policy file over the default and check every value.

A bad policy is refused with the key and the rule, before anything starts.
"""

from __future__ import annotations

import copy
import json
import tomllib
from dataclasses import asdict, replace
from importlib import resources
from pathlib import Path
from typing import Any

from models.durations import parse_duration
from models.errors import PolicyError
from models.levels import LEVEL_NAMES, WhistleLevel
from models.limits import MAX_DEPARTMENTS, POLICY_MAX_BYTES, RETURNS_TO_JOINT_MAX, check_code
from models.policy import CaseRules, LevelRules, Policy
from models.text_rules import SHORT_MAX, RuleViolation, check_text
from policy.files import content_version, parse_toml, read_text_file

_LEVEL_KEYS = {"report_in", "resolve", "remind_at", "extension_cap"}
_RULE_KEYS = {"return_window", "returns_to_joint", "confirmation"}
_TOP_KEYS = {"levels", "rules", "departments", "routing", "return_reasons"}


def default_policy_text() -> str:
    return resources.files("policy").joinpath("default.toml").read_text("utf-8")


def load_policy(path: Path | str | None = None) -> Policy:
    """The default policy, with ``path``'s values over it when given."""
    if path is None:
        return parse_policy("", source="default")
    text = read_text_file(path, what="policy file", error=PolicyError)
    return parse_policy(text, source=str(path))


def parse_policy(text: str, *, source: str) -> Policy:
    """The default policy with the TOML document ``text`` over it."""
    merged = tomllib.loads(default_policy_text())
    override = parse_toml(text, what="policy file", source=source, error=PolicyError)
    try:
        _check_shape(override)
        return build_policy(_merge(merged, override))
    except PolicyError as err:
        raise PolicyError(f"policy file {source}: {err}") from None


def _check_shape(data: dict[str, Any]) -> None:
    for key, value in data.items():
        if key not in _TOP_KEYS:
            raise PolicyError(f"{key}: unknown section; known: {', '.join(sorted(_TOP_KEYS))}")
        if not isinstance(value, dict):
            raise PolicyError(f"{key}: must be a table ([{key}])")
    for level, values in data.get("levels", {}).items():
        if level not in LEVEL_NAMES:
            raise PolicyError(f"levels.{level}: unknown level; known: {', '.join(LEVEL_NAMES)}")
        if not isinstance(values, dict):
            raise PolicyError(f"levels.{level}: must be a table")
        for key in values:
            if key not in _LEVEL_KEYS:
                raise PolicyError(
                    f"levels.{level}.{key}: unknown key; known: {', '.join(sorted(_LEVEL_KEYS))}"
                )
    for key in data.get("rules", {}):
        if key not in _RULE_KEYS:
            raise PolicyError(f"rules.{key}: unknown key; known: {', '.join(sorted(_RULE_KEYS))}")


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _duration(value: Any, key: str) -> int:
    if not isinstance(value, str):
        raise PolicyError(f'{key}: must be a duration string such as "30m"; got {value!r}')
    try:
        return parse_duration(value, field=key)
    except ValueError as err:
        raise PolicyError(str(err)) from None


def _text_table(data: dict[str, Any], section: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for code, text in data.get(section, {}).items():
        key = f"{section}.{code}"
        if not isinstance(text, str):
            raise PolicyError(f"{key}: must be a text of 1 to {SHORT_MAX} characters")
        try:
            check_code(code, field=key)
            table[code] = check_text(text, field=key, max_len=SHORT_MAX, required=True)
        except RuleViolation as err:
            raise PolicyError(str(err)) from None
    if not table:
        raise PolicyError(f"{section}: must name at least one entry")
    return table


def build_policy(data: dict[str, Any]) -> Policy:
    """Check a merged policy document and freeze it, versioned by content."""
    levels: dict[str, LevelRules] = {}
    for level in WhistleLevel:
        values = data["levels"][level.label]
        key = f"levels.{level.label}"
        remind_at = values["remind_at"]
        if (
            isinstance(remind_at, bool)
            or not isinstance(remind_at, int | float)
            or not (0 < remind_at < 1)
        ):
            raise PolicyError(
                f"{key}.remind_at: must be a fraction between 0 and 1; got {remind_at!r}"
            )
        rules = LevelRules(
            report_in_seconds=_duration(values.get("report_in"), f"{key}.report_in"),
            resolve_seconds=_duration(values.get("resolve"), f"{key}.resolve"),
            remind_at=float(remind_at),
            extension_cap_seconds=_duration(values["extension_cap"], f"{key}.extension_cap"),
        )
        if level != WhistleLevel.JOINT and rules.report_in_seconds > rules.resolve_seconds:
            raise PolicyError(f"{key}.report_in: must not be longer than {key}.resolve")
        levels[level.label] = rules

    departments = _text_table(data, "departments")
    return_reasons = _text_table(data, "return_reasons")

    routing: dict[str, list[str]] = {}
    for category, names in data.get("routing", {}).items():
        key = f"routing.{category}"
        try:
            check_code(category, field=key)
        except RuleViolation as err:
            raise PolicyError(str(err)) from None
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise PolicyError(f"{key}: must be a non-empty list of department codes")
        if len(set(names)) != len(names):
            raise PolicyError(f"{key}: names a department twice")
        if len(names) > MAX_DEPARTMENTS:
            raise PolicyError(f"{key}: routes to at most {MAX_DEPARTMENTS} departments")
        for name in names:
            if name not in departments:
                raise PolicyError(f"{key}: unknown department {name!r}; add it under [departments]")
        routing[category] = list(names)

    raw_rules = data["rules"]  # complete: the default file is merged under it
    returns_to_joint = raw_rules["returns_to_joint"]
    if (
        isinstance(returns_to_joint, bool)
        or not isinstance(returns_to_joint, int)
        or not (1 <= returns_to_joint <= RETURNS_TO_JOINT_MAX)
    ):
        raise PolicyError(
            "rules.returns_to_joint: must be a whole number from 1 to"
            f" {RETURNS_TO_JOINT_MAX}; got {returns_to_joint!r}"
        )
    case_rules = CaseRules(
        return_window_seconds=_duration(raw_rules["return_window"], "rules.return_window"),
        returns_to_joint=returns_to_joint,
        confirmation_seconds=_duration(raw_rules["confirmation"], "rules.confirmation"),
    )
    unversioned = Policy(
        version="",
        levels=levels,
        departments=departments,
        routing=routing,
        return_reasons=return_reasons,
        rules=case_rules,
    )
    size = len(json.dumps(asdict(unversioned)))
    if size > POLICY_MAX_BYTES:
        raise PolicyError(
            f"policy: is {-(-size // 1024)} KiB encoded, over {POLICY_MAX_BYTES // 1024} KiB: "
            "a copy travels with every case; trim [departments], [routing] or [return_reasons]"
        )
    return replace(unversioned, version=policy_version(unversioned))


def policy_version(policy: Policy) -> str:
    """A content hash: the same rules always carry the same version."""
    content = asdict(policy)
    content.pop("version")
    return content_version("p", content, ascii_only=True)


def policy_document(policy: Policy) -> dict[str, Any]:
    """The policy as the JSON that ``whistle policy --json`` prints."""
    return {
        "version": policy.version,
        "levels": {
            name: {
                "report_in_seconds": rules.report_in_seconds,
                "resolve_seconds": rules.resolve_seconds,
                "remind_at": rules.remind_at,
                "extension_cap_seconds": rules.extension_cap_seconds,
            }
            for name, rules in policy.levels.items()
        },
        "rules": asdict(policy.rules),
        "departments": dict(policy.departments),
        "routing": {k: list(v) for k, v in policy.routing.items()},
        "return_reasons": dict(policy.return_reasons),
    }


def policy_from_document(document: dict[str, Any]) -> Policy:
    """Rebuild a stored policy document; the version is checked against content."""
    policy = Policy(
        version=document["version"],
        levels={
            level.label: LevelRules(**document["levels"][level.label]) for level in WhistleLevel
        },
        departments=dict(document["departments"]),
        routing={k: list(v) for k, v in document["routing"].items()},
        return_reasons=dict(document["return_reasons"]),
        rules=CaseRules(**document["rules"]),
    )
    if policy_version(policy) != policy.version:
        raise PolicyError(f"stored policy {policy.version}: content does not match its version")
    return policy
