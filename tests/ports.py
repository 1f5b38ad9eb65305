"""Loopback ports for the servers the tests start, one home for all of them.

Each test process (``pytest -n 2``: gw0, gw1) takes ports from its own range, below
Linux's ephemeral ports (32768 and up). A port found free by asking the system for
any port could be taken before the server binds it, by another process's server or
by any outgoing connection's source port; a range of one's own is taken by nobody else.
"""

from __future__ import annotations

import itertools
import os
import socket

from engine.embedded import UI_PORT_OFFSET as UI_OFFSET

_SPAN = 4000
_INDEX = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_BASE = 20000 + _SPAN * _INDEX
_CANDIDATES = itertools.cycle(range(_BASE, _BASE + UI_OFFSET, 7))
"""Spaced apart: a server may take a few ports just above its own."""


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A free port of this process's range whose UI twin (port + 1000) is free too."""
    for _ in range(UI_OFFSET):
        port = next(_CANDIDATES)
        if _free(port) and _free(port + UI_OFFSET):
            return port
    raise RuntimeError(f"no free port pair in {_BASE}-{_BASE + 2 * UI_OFFSET}")
