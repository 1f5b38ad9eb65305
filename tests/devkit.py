"""Run ``whistle dev`` as a real process, and the ``whistle`` command against it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.ports import free_port

WHISTLE = str(Path(sys.executable).parent / "whistle")


class Dev:
    def __init__(self, data_dir: Path, port: int, policy: Path, *extra: str) -> None:
        """``extra``: more arguments of ``whistle dev``, e.g. ``--demo``."""
        self.data_dir, self.port, self.policy, self.extra = data_dir, port, policy, extra
        self.api_port = free_port()
        self.api = f"http://127.0.0.1:{self.api_port}"
        self.env = {
            **os.environ,
            "WHISTLE_TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
            "WHISTLE_DATABASE_URL": f"sqlite:///{data_dir}/whistle.db",
            "WHISTLE_LOG_LEVEL": "WARNING",
            "COLUMNS": "80",
        }
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        out = self.data_dir / "dev.out"
        seen = out.stat().st_size if out.exists() else 0
        with out.open("a") as log:
            self.process = subprocess.Popen(
                [
                    WHISTLE,
                    "dev",
                    "--data-dir",
                    str(self.data_dir),
                    "--port",
                    str(self.port),
                    "--policy",
                    str(self.policy),
                    "--api-port",
                    str(self.api_port),
                    *self.extra,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                env=self.env,
                start_new_session=True,  # its own process group: close() ends its server too
            )
        deadline = time.monotonic() + 90
        while b"whistle dev is running" not in out.read_bytes()[seen:]:  # seen: in bytes
            assert self.process.poll() is None, out.read_text()
            assert time.monotonic() < deadline, "whistle dev did not start"
            time.sleep(0.2)

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(60)
        self.process = None
        return code

    def close(self) -> None:
        """Stop it if it still runs: gently, then its whole process group, so the
        embedded Temporal server it started never outlives the test."""
        if self.process is None:
            return
        process, self.process = self.process, None
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [WHISTLE, *args], capture_output=True, text=True, env=self.env, timeout=60
        )
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)
