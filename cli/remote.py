"""Acting through the HTTP API as a principal (``--api URL --token T``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import httpx

from cli import output
from models import clock
from models.case import (
    Action,
    Confirm,
    DecideExtension,
    Escalate,
    HoldJointMeeting,
    Redispatch,
    Reopen,
    ReportIn,
    RequestExtension,
    RequestJointMeeting,
    ReviewReturn,
    SignOff,
    Supervise,
    UnitRef,
    Withdraw,
)

EXIT_BY_STATUS = {
    401: output.EXIT_FORBIDDEN,
    403: output.EXIT_FORBIDDEN,
    404: output.EXIT_NOT_FOUND,
    409: output.EXIT_REJECTED,
    422: output.EXIT_BAD_INPUT,
}


@dataclass(frozen=True)
class Remote:
    url: str
    token: str

    def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, key: str | None = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        if key:
            headers["Idempotency-Key"] = key
        try:
            response = httpx.request(
                method, self.url.rstrip("/") + path, json=body, headers=headers, timeout=60
            )
        except httpx.HTTPError as err:
            output.fail(f"cannot reach the API at {self.url}: {err}", output.EXIT_UNAVAILABLE)
        if response.status_code >= 400:
            output.fail(
                _detail(response), EXIT_BY_STATUS.get(response.status_code, output.EXIT_UNAVAILABLE)
            )
        return response.json()


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', [])[1:])}: {d.get('msg')}" for d in detail
        )
    return f"HTTP {response.status_code}: {detail}"


def _codes(units: list[UnitRef]) -> list[str]:
    return [unit.code for unit in units]


def action_request(action: Action) -> tuple[str, dict[str, Any]]:
    """The API path (under /cases/{id}) and body of an action. Units go by their
    codes: the API resolves them in the organisation in force."""
    match action:
        case ReportIn():
            return "/report-in", {"department": action.department}
        case SignOff():
            return "/sign-off", {
                "department": action.department,
                "outcome": action.outcome,
                "reason": action.reason,
                "note": action.note,
                "evidence": [asdict(item) for item in action.evidence],
            }
        case RequestExtension():
            return "/extensions", {
                "department": action.department,
                "by": clock.describe(action.seconds, action.working_days),
                "reason": action.reason,
            }
        case DecideExtension():
            return "/extensions/decision", {
                "department": action.department,
                "approve": action.approve,
                "reason": action.reason,
            }
        case HoldJointMeeting():
            return "/joint-meeting", {
                "lead": action.lead,
                "attendees": action.attendees,
                "join": _codes(action.join),
                "decision": action.decision,
                "tasks": action.tasks,
                "deadline": clock.describe(
                    action.deadline_seconds or 0, action.deadline_working_days
                )
                if action.deadline_seconds or action.deadline_working_days
                else None,
                "evidence": [asdict(item) for item in action.evidence],
            }
        case RequestJointMeeting():
            return "/joint-meeting-request", {"reason": action.reason}
        case ReviewReturn():
            return "/return-review", {
                "department": action.department,
                "approve": action.approve,
                "reason": action.reason,
                "dispatch": _codes(action.dispatch),
            }
        case Redispatch():
            return "/redispatch", {
                "add": _codes(action.add),
                "replace": action.replace,
                "reason": action.reason,
            }
        case Supervise():
            return "/supervise", {"note": action.note}
        case Escalate():
            return "/escalate", {"reason": action.reason}
        case Confirm():
            return "/confirm", {"satisfaction": action.satisfaction, "note": action.note}
        case Reopen():
            return "/reopen", {"reason": action.reason}
        case Withdraw():
            return "/withdraw", {"reason": action.reason}
    raise TypeError(f"no API route for {type(action).__name__}")
