"""Clean shutdown: SIGINT and SIGTERM set an event that servers and workers wait on."""

from __future__ import annotations

import asyncio
import signal

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def install_stop_signals(stop: asyncio.Event) -> None:
    """On SIGINT or SIGTERM, set ``stop`` (in the running loop) instead of raising."""
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
