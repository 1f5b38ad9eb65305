"""``whistle admin``: principals and API tokens, straight in the SQL database.

Run on a host that reaches the database (``WHISTLE_DATABASE_URL``); over HTTP
an admin token does the same through ``/principals`` and ``/tokens``.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from cli import output, support
from cli.options import JsonFlag
from models.errors import RuleViolation
from models.principals import PrincipalKind, binding_of, principal_document, token_lifetime
from settings import get_settings
from store.engine import make_engine
from store.org import org_in_force
from store.principals import (
    add_principal,
    get_principal,
    issue_token,
    list_principals,
    revoke_token,
)
from store.sign_in import set_password

admin = typer.Typer(no_args_is_help=True, help="Manage API principals and tokens.")


def _engine() -> Engine:
    return make_engine(get_settings().sqlalchemy_url())


@admin.command("add-principal")
def add_principal_command(
    name: Annotated[str, typer.Option("--name", help="Unique name, e.g. anningyuan-branch.")],
    kind: Annotated[PrincipalKind, typer.Option("--kind", help="What the principal is.")],
    compound: Annotated[
        list[str] | None, typer.Option("--compound", help="Branches: a compound they speak for.")
    ] = None,
    department: Annotated[
        str | None,
        typer.Option(
            "--department",
            help="Departments: a unit code of the organisation in force, or a department code.",
        ),
    ] = None,
    street: Annotated[
        str | None,
        typer.Option("--street", help="Stations: the street code in the organisation in force."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a principal: a branch, a department, a station, an auditor or an admin."""
    policy = support.policy_now(get_settings())
    engine = _engine()
    try:
        added = add_principal(
            engine,
            name=name,
            kind=kind.value,
            compounds=list(compound or []),
            department=department,
            street=street,
            known_departments=set(policy.departments),
        )
        binding = binding_of(added, org_in_force(engine))
    except RuleViolation as err:
        output.fail(str(err), output.EXIT_BAD_INPUT)
    finally:
        engine.dispose()
    if as_json:
        output.emit_json(principal_document(added))
    else:
        bound = f": {binding}" if binding else ""
        output.console.print(f"added {added.actor}{bound}", highlight=False)


@admin.command("issue-token")
def issue_token_command(
    name: Annotated[str, typer.Argument(help="The principal's name.")],
    expires: Annotated[
        str | None, typer.Option("--expires", help="Lifetime, e.g. 90d; none means no expiry.")
    ] = None,
    label: Annotated[str, typer.Option("--label", help="Where the token is used.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Issue a token for a principal. It is shown once; only its hash is kept."""
    lifetime = None
    if expires:
        try:
            lifetime = timedelta(seconds=token_lifetime(expires, field="expires"))
        except RuleViolation as err:
            output.fail(str(err), output.EXIT_BAD_INPUT)
    engine = _engine()
    try:
        token_id, token = issue_token(engine, name, expires_in=lifetime, label=label)
    except RuleViolation as err:
        output.fail(str(err), output.EXIT_NOT_FOUND)
    finally:
        engine.dispose()
    if as_json:
        output.emit_json({"token_id": token_id, "token": token, "principal": name})
    else:
        output.console.print(f"token {token_id} for {name} (shown once):\n{token}", highlight=False)


@admin.command("set-password")
def set_password_command(
    name: Annotated[str, typer.Argument(help="The principal's name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Give a principal a password for the workbench (signing in on a page).

    Asked for twice at the terminal, or read from standard input. Kept only as an
    argon2id hash; the principal's open sessions end and any lockout is lifted."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    engine = _engine()
    try:
        if get_principal(engine, name) is None:
            output.fail(f"principal: no principal {name!r}", output.EXIT_NOT_FOUND)
        set_password(engine, name, password)
    except RuleViolation as err:
        output.fail(str(err), output.EXIT_BAD_INPUT)
    finally:
        engine.dispose()
    if as_json:
        output.emit_json({"principal": name, "password_set": True})
    else:
        output.console.print(f"password set for {name}", highlight=False)


@admin.command("revoke-token")
def revoke_token_command(token_id: str, as_json: JsonFlag = False) -> None:
    """Revoke a token by its id; it stops working at once."""
    engine = _engine()
    try:
        revoked = revoke_token(engine, token_id)
    finally:
        engine.dispose()
    if not revoked:
        output.fail(f"token: no live token {token_id!r}", output.EXIT_NOT_FOUND)
    if as_json:
        output.emit_json({"token_id": token_id, "revoked": True})
    else:
        output.console.print(f"revoked {token_id}", highlight=False)


@admin.command("principals")
def principals_command(as_json: JsonFlag = False) -> None:
    """List the principals."""
    engine = _engine()
    try:
        found = list_principals(engine)
    finally:
        engine.dispose()
    if as_json:
        output.emit_json({"principals": [principal_document(p) for p in found]})
        return
    for p in found:
        scope = ", ".join(sorted(p.compounds)) or p.department or p.street or ""
        output.console.print(f"{p.kind.value:<11} {p.name:<30} {scope}", highlight=False)
