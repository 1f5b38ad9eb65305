"""Refuse a request body over the limit with 413, before reading it.

Pure ASGI, in front of routing and authentication: a body announced too long
(Content-Length) is refused unread; a body without a length (chunked) is
counted as it arrives and refused once past the limit, the rest unread.
Evidence travels by reference, so the API's bodies are small; only a
workbench form (``multipart/form-data`` to ``form_paths``) may be larger, up to
``form_max_bytes``, and only with its length stated.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        form_max_bytes: int | None = None,
        form_paths: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.form_max_bytes = max(form_max_bytes or max_bytes, max_bytes)
        self.form_paths = form_paths
        """Path prefixes of the pages whose forms carry files; the API's stay small."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit = self.max_bytes
        is_form = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        if is_form and str(scope.get("path", "")).startswith(self.form_paths):
            limit = self.form_max_bytes
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > limit:
                await self._refuse(send, limit)
                return
            await self.app(scope, receive, send)
            return
        if limit > self.max_bytes:
            # A browser sends a form's length; a form without one would have to be held
            # in memory up to the large limit before anyone is known: refused (411).
            await self._refuse(send, limit, status=411)
            return
        # No length given: take the body up to the limit, then hand it on.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _refuse(self, send: Send, limit: int, status: int = 413) -> None:
        detail = (
            f"request body: at most {limit} bytes"
            if status == 413
            else "Content-Length: a form with files states its length"
        )
        body = json.dumps({"detail": detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
