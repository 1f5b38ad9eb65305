"""A local HTTP receiver for notifications (the tests' and the benchmark's): a
standard-library server in a thread that records every request, with the time it
arrived, and answers with scripted replies, so it can fail, hang, throttle and
recover."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from models.notify import DELIVERY_HEADER


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # dispatchers connect many at once: no resets from the backlog


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] = field(default_factory=lambda: {"errcode": 0, "code": "OK"})
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)
    """When it arrived (seconds since the epoch)."""

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """Answers each request with the next scripted reply (then 200s) and keeps it."""

    def delivery_ids(self) -> list[str]:
        return [seen.headers[DELIVERY_HEADER] for seen in self.seen]

    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.seen: list[Seen] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                parts = urlsplit(self.path)
                receiver.seen.append(
                    Seen(parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
                )
                reply = receiver.script.pop(0) if receiver.script else Reply()
                time.sleep(reply.delay)
                data = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up waiting
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
