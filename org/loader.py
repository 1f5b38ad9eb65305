"""Load a district's organisation file (TOML) and check every rule.

A bad file is refused with the key path and the rule
(``communities.heping.street: unknown street 'xicheng'``), or with the line
for a TOML syntax error. The shape, with ``org/example.toml`` as a whole
example::

    name = "安贞街道（示例）"              # optional: the district's name

    [streets.anzhen]
    name = "安贞街道"

    [communities.anhua]
    name = "安华社区"
    street = "anzhen"                     # exactly one street

    [compounds.anningyuan]
    name = "安宁苑"
    community = "anhua"                   # exactly one community

    [grids.anhua_1]                        # optional
    name = "安华社区第一网格"
    community = "anhua"
    compounds = ["anningyuan"]            # compounds of that community

    [units.police_anzhen]
    name = "安贞派出所"
    kind = "police"                       # a department code of the policy
    jurisdiction = ["anzhen"]             # street, community or compound codes

Rules: codes follow ``models.limits.check_code`` and name one thing in the
whole file (a jurisdiction mixes streets, communities and compounds); names
are one line of text of at most ``SHORT_MAX`` characters; every reference resolves; a
unit's kind is a department of the policy; a jurisdiction is non-empty; and
every compound has a unit of every department the policy routes to, so no
whistle is ever dispatched to nobody.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from importlib import resources
from pathlib import Path
from typing import Any

from models.errors import OrgError
from models.limits import ORG_MAX_BYTES
from models.org import Community, Compound, Grid, Organisation, Street, Unit, units_for
from models.policy import Policy
from org.rules import SECTIONS, check_codes, check_entries, check_name, check_reference
from policy.files import content_version, parse_toml, read_text_file

GAPS_SHOWN = 5
"""Uncovered (compound, department) pairs named in a refusal."""

_TOP_KEYS = {"name", *SECTIONS}


def example_path() -> Path:
    """The example district shipped with whistle (1 street, 8 communities, 60 compounds)."""
    return Path(str(resources.files("org").joinpath("example.toml")))


def load_org(path: Path | str, policy: Policy) -> Organisation:
    """Read, parse and check the organisation file at ``path`` against ``policy``."""
    text = read_text_file(path, what="org file", error=OrgError, max_bytes=ORG_MAX_BYTES)
    return parse_org(text, policy, source=str(path))


def parse_org(text: str, policy: Policy, *, source: str) -> Organisation:
    """The organisation in the TOML document ``text``, checked against ``policy``."""
    data = parse_toml(text, what="org file", source=source, error=OrgError)
    try:
        return build_org(data, policy)
    except OrgError as err:
        raise OrgError(f"org file {source}: {err}") from None


def build_org(data: dict[str, Any], policy: Policy) -> Organisation:
    """Check a parsed organisation document and freeze it, versioned by content."""
    for key, value in data.items():
        if key not in _TOP_KEYS:
            raise OrgError(f"{key}: unknown key; known: {', '.join(sorted(_TOP_KEYS))}")
        if key != "name" and not isinstance(value, dict):
            raise OrgError(f"{key}: must be a table of entries ([{key}.CODE])")
    name = check_name(data.get("name", ""), "name", required=False)
    sections = {section: check_entries(data, section) for section in SECTIONS}

    seen: dict[str, str] = {}
    for section, entries in sections.items():
        for code in entries:
            if code in seen:
                raise OrgError(
                    f"{section}.{code}: the code is already used by {seen[code]}.{code};"
                    " a code names one thing in the whole file"
                )
            seen[code] = section

    streets = {
        code: Street(code=code, name=check_name(values.get("name"), f"streets.{code}.name"))
        for code, values in sections["streets"].items()
    }
    if not streets:
        raise OrgError("streets: must name at least one street ([streets.CODE])")
    communities: dict[str, Community] = {}
    for code, values in sections["communities"].items():
        key = f"communities.{code}"
        communities[code] = Community(
            code=code,
            name=check_name(values.get("name"), f"{key}.name"),
            street=check_reference(values.get("street"), f"{key}.street", "street", streets),
        )
    compounds: dict[str, Compound] = {}
    for code, values in sections["compounds"].items():
        key = f"compounds.{code}"
        compounds[code] = Compound(
            code=code,
            name=check_name(values.get("name"), f"{key}.name"),
            community=check_reference(
                values.get("community"), f"{key}.community", "community", communities
            ),
        )
    if not compounds:
        raise OrgError("compounds: must name at least one compound ([compounds.CODE])")
    for code in streets:
        if not any(c.street == code for c in communities.values()):
            raise OrgError(f"streets.{code}: has no community; remove it or add one")
    for code in communities:
        if not any(c.community == code for c in compounds.values()):
            raise OrgError(f"communities.{code}: has no compound; remove it or add one")

    grids: dict[str, Grid] = {}
    for code, values in sections["grids"].items():
        key = f"grids.{code}"
        community = check_reference(
            values.get("community"), f"{key}.community", "community", communities
        )
        walked = check_codes(values.get("compounds"), f"{key}.compounds")
        for index, compound in enumerate(walked):
            if compound not in compounds:
                raise OrgError(f"{key}.compounds[{index}]: unknown compound {compound!r}")
            if compounds[compound].community != community:
                raise OrgError(
                    f"{key}.compounds[{index}]: compound {compound!r} is in community"
                    f" {compounds[compound].community!r}, not the grid's {community!r}"
                )
        grids[code] = Grid(
            code=code,
            name=check_name(values.get("name"), f"{key}.name"),
            community=community,
            compounds=walked,
        )

    places = {**streets, **communities, **compounds}
    units: dict[str, Unit] = {}
    for code, values in sections["units"].items():
        key = f"units.{code}"
        kind = values.get("kind")
        if not isinstance(kind, str) or kind not in policy.departments:
            raise OrgError(
                f"{key}.kind: unknown department {kind!r}; the policy {policy.version} knows: "
                + ", ".join(policy.departments)
            )
        jurisdiction = check_codes(values.get("jurisdiction"), f"{key}.jurisdiction")
        for index, place in enumerate(jurisdiction):
            if place not in places:
                raise OrgError(
                    f"{key}.jurisdiction[{index}]: unknown place {place!r};"
                    " name a street, community or compound code"
                )
        units[code] = Unit(
            code=code,
            name=check_name(values.get("name"), f"{key}.name"),
            kind=kind,
            jurisdiction=jurisdiction,
        )

    unversioned = Organisation(
        version="",
        name=name,
        streets=streets,
        communities=communities,
        compounds=compounds,
        grids=grids,
        units=units,
    )
    gaps = coverage_gaps(unversioned, policy)
    if gaps:
        shown = ", ".join(f"{compound} has no {kind}" for compound, kind in gaps[:GAPS_SHOWN])
        more = f" (and {len(gaps) - GAPS_SHOWN} more)" if len(gaps) > GAPS_SHOWN else ""
        raise OrgError(
            f"units: {len(gaps)} (compound, department) pairs have no unit whose jurisdiction"
            f" covers them, so a whistle there would be dispatched to nobody: {shown}{more}"
        )
    return replace(unversioned, version=org_version(unversioned))


def routed_kinds(policy: Policy) -> list[str]:
    """The departments the policy's routing sends whistles to, in policy order."""
    routed = {name for names in policy.routing.values() for name in names}
    return [code for code in policy.departments if code in routed]


def coverage_gaps(org: Organisation, policy: Policy) -> list[tuple[str, str]]:
    """Every (compound, routed department) that no unit's jurisdiction covers."""
    return [
        (compound, kind)
        for compound in org.compounds
        for kind in routed_kinds(policy)
        if not units_for(org, compound, kind)
    ]


def org_version(org: Organisation) -> str:
    """A content hash: the same organisation always carries the same version."""
    content = asdict(org)
    content.pop("version")
    return content_version("o", content, ascii_only=False)


def org_document(org: Organisation) -> dict[str, Any]:
    """The organisation as the JSON that ``whistle org --json`` prints (and SQL keeps)."""
    return {
        "version": org.version,
        "name": org.name,
        "streets": {code: {"name": s.name} for code, s in org.streets.items()},
        "communities": {
            code: {"name": c.name, "street": c.street} for code, c in org.communities.items()
        },
        "compounds": {
            code: {"name": c.name, "community": c.community} for code, c in org.compounds.items()
        },
        "grids": {
            code: {"name": g.name, "community": g.community, "compounds": list(g.compounds)}
            for code, g in org.grids.items()
        },
        "units": {
            code: {"name": u.name, "kind": u.kind, "jurisdiction": list(u.jurisdiction)}
            for code, u in org.units.items()
        },
    }


def org_from_document(document: dict[str, Any]) -> Organisation:
    """Rebuild a stored organisation; the version is checked against content.

    Not re-checked against the policy: the policy in force may have changed
    since (see :func:`coverage_gaps`).
    """
    org = Organisation(
        version=document["version"],
        name=document["name"],
        streets={code: Street(code=code, **v) for code, v in document["streets"].items()},
        communities={
            code: Community(code=code, **v) for code, v in document["communities"].items()
        },
        compounds={code: Compound(code=code, **v) for code, v in document["compounds"].items()},
        grids={
            code: Grid(
                code=code, name=v["name"], community=v["community"], compounds=tuple(v["compounds"])
            )
            for code, v in document["grids"].items()
        },
        units={
            code: Unit(
                code=code, name=v["name"], kind=v["kind"], jurisdiction=tuple(v["jurisdiction"])
            )
            for code, v in document["units"].items()
        },
    )
    if org_version(org) != org.version:
        raise OrgError(f"stored organisation {org.version}: content does not match its version")
    return org
