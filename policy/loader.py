"""Load a district's policy file over the default and check every value.

A bad policy is refused with the key and the rule, before anything starts.
"""

from __future__ import annotations

import copy
import json
import tomllib
from dataclasses import MISSING, asdict, fields, is_dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from models.errors import PolicyError
from models.levels import LEVEL_NAMES, WhistleLevel
from models.limits import MAX_DEPARTMENTS, POLICY_MAX_BYTES, check_code
from models.policy import AssessmentRules, CaseRules, LevelRules, Policy, WorkingTime
from models.text_rules import SHORT_MAX, RuleViolation, check_text
from models.workdays import WorkCalendar
from policy import rules_loader
from policy.files import content_version, parse_toml, read_text_file

_TOP_KEYS = {
    "levels",
    "rules",
    "departments",
    "routing",
    "return_reasons",
    "calendar",
    "assessment",
}
# Sections whose keys are fixed (the others are tables of codes).
_SECTION_KEYS = {
    "rules": rules_loader.RULE_KEYS,
    "calendar": rules_loader.CALENDAR_KEYS,
    "assessment": rules_loader.ASSESSMENT_KEYS,
}


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
        _known_keys(values, f"levels.{level}", rules_loader.LEVEL_KEYS)
    for section, known in _SECTION_KEYS.items():
        _known_keys(data.get(section, {}), section, known)


def _known_keys(values: dict[str, Any], where: str, known: set[str]) -> None:
    for key in values:
        if key not in known:
            raise PolicyError(f"{where}.{key}: unknown key; known: {', '.join(sorted(known))}")


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


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
    levels = {
        level.label: rules_loader.level_rules(level, data["levels"][level.label])
        for level in WhistleLevel
    }
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

    # Every section is complete: the default file is merged under it.
    calendar = data["calendar"]
    holidays, workdays = rules_loader.calendar_days(calendar["holidays"], calendar["workdays"])
    unversioned = Policy(
        version="",
        levels=levels,
        departments=departments,
        routing=routing,
        return_reasons=return_reasons,
        rules=rules_loader.case_rules(data["rules"]),
        closes_at=rules_loader.closes_at(calendar["closes_at"]),
        extra_holidays=holidays,
        extra_workdays=workdays,
        assessment=rules_loader.assessment_rules(data["assessment"]),
        working_time=None,
    )
    size = len(json.dumps(asdict(unversioned)))
    if size > POLICY_MAX_BYTES:
        raise PolicyError(
            f"policy: is {-(-size // 1024)} KiB encoded, over {POLICY_MAX_BYTES // 1024} KiB: "
            "a copy travels with every case; trim [departments], [routing], [return_reasons] or [calendar]"
        )
    return replace(unversioned, version=policy_version(unversioned))


def policy_version(policy: Policy) -> str:
    """A content hash: the same rules always carry the same version.

    The working time pinned in a case is not part of it (two cases under one
    policy pin different days). A field that holds its dataclass default is
    left out: those defaults are the behaviour before the field existed, so a
    policy stored before keeps the version it was stored with.
    """
    content = _without_defaults(policy)
    content.pop("version")
    content.pop("working_time", None)
    return content_version("p", content, ascii_only=True)


def _without_defaults(value: Any) -> dict[str, Any]:
    content: dict[str, Any] = {}
    for field in fields(value):
        item = getattr(value, field.name)
        if field.default is not MISSING and item == field.default:
            continue
        if isinstance(item, dict):
            item = {k: _without_defaults(v) if is_dataclass(v) else v for k, v in item.items()}
        elif is_dataclass(item) and not isinstance(item, type):
            item = _without_defaults(item)
        content[field.name] = copy.deepcopy(item)
    return content


def policy_document(policy: Policy) -> dict[str, Any]:
    """The policy as the JSON that ``whistle policy --json`` prints (and the store keeps)."""
    return {
        "version": policy.version,
        "levels": {name: asdict(rules) for name, rules in policy.levels.items()},
        "rules": asdict(policy.rules),
        "departments": dict(policy.departments),
        "routing": {k: list(v) for k, v in policy.routing.items()},
        "return_reasons": dict(policy.return_reasons),
        "closes_at": policy.closes_at,
        "extra_holidays": list(policy.extra_holidays),
        "extra_workdays": list(policy.extra_workdays),
        "assessment": asdict(policy.assessment) if policy.assessment else None,
        "working_time": asdict(policy.working_time) if policy.working_time else None,
    }


def policy_from_document(document: dict[str, Any]) -> Policy:
    """Rebuild a stored policy document; the version is checked against content.

    A document stored before a field existed lacks it: the field then takes
    its dataclass default, the behaviour of that time.
    """
    later: dict[str, Any] = {}
    if "closes_at" in document:
        later["closes_at"] = document["closes_at"]
    for name in ("extra_holidays", "extra_workdays"):
        if name in document:
            later[name] = tuple(document[name])
    if document.get("assessment"):
        later["assessment"] = AssessmentRules(**document["assessment"])
    if pinned := document.get("working_time"):
        later["working_time"] = WorkingTime(
            timezone=pinned["timezone"],
            closes_at=pinned["closes_at"],
            calendar=WorkCalendar(**pinned["calendar"]),
        )
    policy = Policy(
        version=document["version"],
        levels={
            level.label: LevelRules(**document["levels"][level.label]) for level in WhistleLevel
        },
        departments=dict(document["departments"]),
        routing={k: list(v) for k, v in document["routing"].items()},
        return_reasons=dict(document["return_reasons"]),
        rules=CaseRules(**document["rules"]),
        **later,
    )
    if policy_version(policy) != policy.version:
        raise PolicyError(f"stored policy {policy.version}: content does not match its version")
    return policy
