"""``whistle org``: the district's organisation (streets, communities,
compounds, grids and the units that report in), checked, put in force, shown."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table

from cli import output, support
from cli.options import JsonFlag
from models.errors import OrgError
from models.org import Organisation, compounds_served
from models.policy import Policy
from org.loader import coverage_gaps, load_org, org_document
from store.engine import make_engine
from store.org import activate_org, org_in_force


def org(
    apply: Annotated[
        Path | None,
        typer.Option("--apply", help="Check FILE and put it in force (no restart needed)."),
    ] = None,
    check: Annotated[Path | None, typer.Option("--check", help="Only check FILE.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The organisation in force: streets, communities, compounds, units and their jurisdictions.

    FILE is TOML (see org/example.toml); it is checked against the policy in force.
    """
    path = support.apply_or_check(apply, check)
    settings = support.settings()
    policy = support.policy_now(settings)
    chosen: Organisation | None
    if path is not None:
        try:
            chosen = load_org(path, policy)
        except OrgError as err:
            output.fail_for(err)
        if apply is not None:
            engine = make_engine(settings.sqlalchemy_url())
            try:
                activate_org(engine, chosen, source=str(apply))
            finally:
                engine.dispose()
        headline = (
            f"in force: organisation {chosen.version} (from {apply})"
            if apply is not None
            else f"checked: organisation {chosen.version} against policy {policy.version};"
            " not applied"
        )
    else:
        engine = make_engine(settings.sqlalchemy_url())
        try:
            chosen = org_in_force(engine)
        finally:
            engine.dispose()
        if chosen is None:
            output.note(
                "no organisation in force yet: put one in force with whistle org --apply FILE"
            )
            if as_json:
                output.emit_json(None)
            return
        headline = f"organisation {chosen.version}"
        _warn_gaps(chosen, policy)
    if as_json:
        output.emit_json(org_document(chosen))
    else:
        print_org(chosen, headline)


def _warn_gaps(chosen: Organisation, policy: Policy) -> None:
    """The policy in force may have changed since the organisation was applied."""
    gaps = coverage_gaps(chosen, policy)
    if gaps:
        shown = ", ".join(f"{compound} has no {kind}" for compound, kind in gaps[:5])
        output.note(
            f"warning: under policy {policy.version}, {len(gaps)} (compound, department)"
            f" pairs have no unit: {shown}; apply an organisation that covers them"
        )


def print_org(chosen: Organisation, headline: str) -> None:
    """The organisation for people: a summary, communities, then units."""
    show = output.console.print
    show(f"[bold]{headline}[/]", highlight=False)
    counts = (
        (len(chosen.streets), "street", "streets"),
        (len(chosen.communities), "community", "communities"),
        (len(chosen.compounds), "compound", "compounds"),
        (len(chosen.grids), "grid", "grids"),
        (len(chosen.units), "unit", "units"),
    )
    summary = ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in counts)
    show(f"{chosen.name}: {summary}" if chosen.name else summary, highlight=False)
    communities = Table("street", "community", "name", "compounds", "grids", title="communities")
    for code, community in chosen.communities.items():
        street = chosen.streets[community.street]
        communities.add_row(
            f"{street.name} {street.code}",
            code,
            community.name,
            str(sum(1 for c in chosen.compounds.values() if c.community == code)),
            str(sum(1 for g in chosen.grids.values() if g.community == code)),
        )
    show(communities)
    units = Table(
        Column("unit", no_wrap=True),  # a code people copy: never cut
        Column("name", overflow="fold"),
        "kind",
        Column("jurisdiction", overflow="fold"),
        "compounds",
        title="units",
    )
    for code, unit in sorted(chosen.units.items(), key=lambda item: (item[1].kind, item[0])):
        units.add_row(
            code,
            unit.name,
            unit.kind,
            ", ".join(unit.jurisdiction),
            str(len(compounds_served(chosen, unit))),
        )
    show(units)
