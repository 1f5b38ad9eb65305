"""A throwaway PostgreSQL server for the tests: Debian's postgresql package,
its own data directory, on a loopback port. CI installs the package."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from tests.ports import free_port


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def available() -> bool:
    return _bin("initdb") is not None and _bin("pg_ctl") is not None


def _as_postgres(*command: str) -> list[str]:
    # initdb and postgres refuse to run as root; the package creates this user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


class PostgresServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/whistle"

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        initdb = _bin("initdb")
        assert initdb is not None
        subprocess.run(
            _as_postgres(
                initdb,
                "-D",
                str(self.data),
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ),
            check=True,
            capture_output=True,
        )
        self.start()
        psql = _bin("psql")
        assert psql is not None
        subprocess.run(
            [
                psql,
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-c",
                "CREATE DATABASE whistle",
            ],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        pg_ctl = _bin("pg_ctl")
        assert pg_ctl is not None
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres(
                pg_ctl,
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.root / "server.log"),
                "-w",
                "start",
            ),
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "fast") -> None:
        pg_ctl = _bin("pg_ctl")
        assert pg_ctl is not None
        subprocess.run(
            _as_postgres(pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop"),
            check=False,
            capture_output=True,
        )
