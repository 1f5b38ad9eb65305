"""The API's requests counted and timed, by route template.

Pure ASGI and outermost, so that it sees every answer, a 413 from the body limit
too. The route is read after the app answered: the router leaves the route it
matched in the scope (a mount: its prefix). Labels are the template
(``/cases/{case_id}``), never the path, and a path no route matched is
``unmatched``: a scanner walking random URLs, or case ids, cannot make the
series grow.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observe.metrics import HTTP_DURATION, HTTP_REQUESTS

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        root = str(scope.get("root_path", ""))
        status = 500  # an exception before the answer began: the server answers 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = route_template(scope, root)
            method = scope["method"] if scope["method"] in METHODS else "other"
            HTTP_REQUESTS.labels(route, method, str(status)).inc()
            HTTP_DURATION.labels(route, method).observe(time.perf_counter() - started)


def route_template(scope: Scope, root: str) -> str:
    """The matched route's path template; a mount (static files) with its rest as one."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return f"{path}/{{path}}" if isinstance(route, Mount) else path
    # FastAPI's router leaves no route for a mount, only the mount's prefix in root_path.
    mounted = str(scope.get("root_path", ""))
    if mounted != root and mounted.startswith(root):
        return f"{mounted.removeprefix(root)}/{{path}}"
    return UNMATCHED
