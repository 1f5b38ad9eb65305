"""The actions a page's forms take on a case, each through the API's own route
function: the same body model, the same role and reach checks, the same
Idempotency-Key handling. A page can do nothing its principal could not do
through the API, because it calls the very code the API runs.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from api import schemas
from api.deps import IDEMPOTENCY_KEY
from api.responses import ActionDocument
from api.routes import actions, station
from api.routes.actions import CaseAction
from models.limits import ACTION_ID_MAX
from models.principals import PrincipalKind

Values = dict[str, str]
Call = Callable[[Any, CaseAction], Awaitable[ActionDocument]]

_SEPARATORS = re.compile(r"[\s,，、;；]+")


def codes(text: str) -> list[str]:
    """Unit codes typed or chosen: separated by spaces, commas or lines."""
    return [c for c in _SEPARATORS.split(text.strip()) if c]


def tasks_of(text: str) -> dict[str, str]:
    """Tasks typed one a line as "unit: task" (a Chinese colon too)."""
    tasks: dict[str, str] = {}
    for line in text.splitlines():
        unit, sep, task = line.replace("：", ":").partition(":")
        if unit.strip():
            tasks[unit.strip()] = task.strip() if sep else ""
    return tasks


def _number(text: str) -> int | str:
    """A whole number typed, else the text as given (the body's check words it)."""
    text = text.strip()
    if text.isascii() and text.isdecimal() and len(text) <= 9:
        return int(text)
    return text


def form_key(values: Values) -> str | None:
    """The form's Idempotency-Key, if it is one the API's header would take."""
    key = values.get("form_key", "")
    return key if re.fullmatch(IDEMPOTENCY_KEY, key) and len(key) <= ACTION_ID_MAX else None


def _yes(text: str) -> bool | str:
    return {"yes": True, "no": False}.get(text, text)


def _given(values: Values, *names: str) -> dict[str, Any]:
    return {n: values[n].strip() for n in names if values.get(n, "").strip()}


@dataclass(frozen=True)
class PageAction:
    name: str
    """The path segment: ``/case/{id}/{name}``."""
    role: PrincipalKind
    """Whose action it is: the API's route checks it; the page checks it before keeping files."""
    fields: tuple[str, ...]
    body: type[BaseModel]
    call: Call
    parse: Callable[[Values], dict[str, Any]]
    uploads: bool = False
    """Its form may carry photos, kept by SHA-256 and sent as evidence."""


def _reason(values: Values) -> dict[str, Any]:
    return {"reason": values.get("reason", "").strip()}


def _sign_off(values: Values) -> dict[str, Any]:
    data = _given(values, "outcome", "note")
    if values.get("outcome") == "not_ours":
        data["reason"] = values.get("return_reason", "").strip()
    else:
        data["reason"] = values.get("reason", "").strip()
    return data


def _confirm(values: Values) -> dict[str, Any]:
    return {
        "satisfaction": _number(values.get("satisfaction", "")),
        **_given(values, "note"),
    }


def _meeting(values: Values) -> dict[str, Any]:
    data: dict[str, Any] = _given(values, "lead", "decision", "deadline")
    data["attendees"] = codes(values.get("attendees", ""))
    data["join"] = codes(values.get("join", ""))
    data["tasks"] = tasks_of(values.get("tasks", ""))
    return data


def _decision(values: Values) -> dict[str, Any]:
    data = _given(values, "department", "reason")
    data["approve"] = _yes(values.get("approve", ""))
    return data


def _review(values: Values) -> dict[str, Any]:
    data = _decision(values)
    data["dispatch"] = codes(values.get("dispatch", ""))
    return data


def _redispatch(values: Values) -> dict[str, Any]:
    data = _given(values, "replace", "reason")
    data["add"] = codes(values.get("add", ""))
    data.setdefault("reason", "")
    return data


BRANCH, UNIT, STATION = PrincipalKind.BRANCH, PrincipalKind.DEPARTMENT, PrincipalKind.STATION

ACTIONS: dict[str, PageAction] = {
    a.name: a
    for a in (
        PageAction("report-in", UNIT, (), schemas.ReportInBody, actions.report_in, lambda _: {}),
        PageAction(
            "sign-off",
            UNIT,
            ("outcome", "reason", "return_reason", "note", "photos"),
            schemas.SignOffBody,
            actions.sign_off,
            _sign_off,
            uploads=True,
        ),
        PageAction(
            "extension",
            UNIT,
            ("by", "reason"),
            schemas.ExtensionRequestBody,
            actions.request_extension,
            lambda v: _given(v, "by") | _reason(v),
        ),
        PageAction(
            "confirm",
            BRANCH,
            ("satisfaction", "note"),
            schemas.ConfirmBody,
            actions.confirm,
            _confirm,
        ),
        PageAction("redo", BRANCH, ("reason",), schemas.ReasonBody, actions.reopen, _reason),
        PageAction(
            "joint-request",
            BRANCH,
            ("reason",),
            schemas.ReasonBody,
            actions.request_joint_meeting,
            _reason,
        ),
        PageAction("withdraw", BRANCH, ("reason",), schemas.ReasonBody, actions.withdraw, _reason),
        PageAction(
            "joint-meeting",
            STATION,
            ("lead", "attendees", "join", "decision", "tasks", "deadline"),
            schemas.JointMeetingBody,
            station.joint_meeting,
            _meeting,
        ),
        PageAction(
            "extension-decision",
            STATION,
            ("department", "approve", "reason"),
            schemas.ExtensionDecisionBody,
            station.decide_extension,
            _decision,
        ),
        PageAction(
            "return-review",
            STATION,
            ("department", "approve", "reason", "dispatch"),
            schemas.ReturnReviewBody,
            station.review_return,
            _review,
        ),
        PageAction(
            "redispatch",
            STATION,
            ("add", "replace", "reason"),
            schemas.RedispatchBody,
            station.redispatch,
            _redispatch,
        ),
        PageAction(
            "supervise",
            STATION,
            ("note",),
            schemas.SuperviseBody,
            station.supervise,
            lambda v: {"note": v.get("note", "").strip()},
        ),
    )
}
