"""Commands that act on a case. Each takes ``--actor``, ``--action-id``, ``--api``,
``--token`` and ``--json``: :func:`acting` adds them, once for all, and hands the
command an :class:`Acting` that delivers its action straight to Temporal or
through the API (``support.act_and_print``)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from casework.cases import new_action_id
from casework.routing import unit_refs
from cli import support
from cli.options import ActionIdOpt, ActorOpt, ApiOpt, JsonFlag, TokenOpt
from cli.remote import Remote
from models.case import Action, UnitRef
from store.engine import make_engine
from store.org import org_in_force


@dataclass(frozen=True)
class Acting:
    """What a command acting on a case was told besides its own options."""

    actor: str | None
    """``--actor``: the role's default applies when None (``cli.options``)."""
    action_id: str
    """``--action-id``, else a new one."""
    via: Remote | None
    """The API when ``--api`` is given, else None: straight to Temporal."""
    as_json: bool

    def deliver(self, case_id: str, action: Action) -> None:
        support.act_and_print(case_id, action, self.as_json, self.via)

    def units(self, codes: list[str] | None, field: str) -> list[UnitRef]:
        """Unit codes as units of the organisation in force (exit 2 if one is unknown).
        Through the API as codes only: the API resolves them (``cli.remote``)."""
        if self.via is not None:
            return unit_refs(None, codes or [], field=field)
        engine = make_engine(support.settings().sqlalchemy_url())
        try:
            return support.checked(
                lambda: unit_refs(org_in_force(engine), codes or [], field=field)
            )
        finally:
            engine.dispose()


_KEYWORD = inspect.Parameter.KEYWORD_ONLY
_OPTIONS = (
    inspect.Parameter("actor", _KEYWORD, default=None, annotation=ActorOpt),
    inspect.Parameter("action_id", _KEYWORD, default=None, annotation=ActionIdOpt),
    inspect.Parameter("api", _KEYWORD, default=None, annotation=ApiOpt),
    inspect.Parameter("token", _KEYWORD, default=None, annotation=TokenOpt),
    inspect.Parameter("as_json", _KEYWORD, default=False, annotation=JsonFlag),
)


def acting(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` with the acting options; its keyword-only ``on: Acting`` is made
    from them. Typer reads the options from the signature given here."""
    own = inspect.signature(command, eval_str=True)

    @functools.wraps(command)
    def run(**given: Any) -> None:
        on = Acting(
            actor=given.pop("actor"),
            action_id=given.pop("action_id") or new_action_id(),
            via=support.remote(given.pop("api"), given.pop("token")),
            as_json=given.pop("as_json"),
        )
        command(**given, on=on)

    kept = [p for p in own.parameters.values() if p.name != "on"]
    run.__signature__ = own.replace(parameters=[*kept, *_OPTIONS])  # type: ignore[attr-defined]
    return run
