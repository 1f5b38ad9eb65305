"""Property-based fuzzing of the HTTP API from its own OpenAPI schema
(schemathesis), against ``whistle dev``: no 5xx, and no malformed input accepted."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.devkit import Dev
from tests.ports import free_port

pytestmark = pytest.mark.e2e

SCHEMATHESIS = str(Path(sys.executable).parent / "st")
SEED = os.environ.get("WHISTLE_FUZZ_SEED", "20261123")
EXAMPLES = os.environ.get("WHISTLE_FUZZ_EXAMPLES", "25")


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    root = tmp_path_factory.mktemp("fuzz")
    policy = root / "district.toml"
    policy.write_text("", encoding="utf-8")
    server = Dev(root / "data", free_port(), policy)
    server.data_dir.mkdir()
    server.start()
    yield server
    server.stop()


def principal_token(dev: Dev, name: str, *flags: str) -> str:
    dev.run("admin", "add-principal", "--name", name, *flags)
    return str(dev.json("admin", "issue-token", name)["token"])


@pytest.mark.parametrize(
    ("role", "flags"),
    [
        ("branch", ("--kind", "branch", "--compound", "Anningyuan")),
        ("department", ("--kind", "department", "--department", "police")),
        ("admin", ("--kind", "admin")),
        ("auditor", ("--kind", "auditor")),
    ],
)
def test_fuzz_the_api_as(dev: Dev, tmp_path: Path, role: str, flags: tuple[str, ...]) -> None:
    token = principal_token(dev, f"fuzz-{role}", *flags)
    # A real case for the path parameter, so fuzzing reaches the case rules.
    case = dev.json(
        "raise",
        "--compound",
        "Anningyuan",
        "--level",
        "emergency",
        "--category",
        "parking",
        "--title",
        f"fuzzed by {role}",
    )["case_id"]
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'[parameters]\n"path.case_id" = "{case}"\n', encoding="utf-8")
    done = subprocess.run(
        [
            SCHEMATHESIS,
            "--config-file",
            str(config),
            "run",
            f"{dev.api}/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "not_a_server_error,negative_data_rejection",
            "--max-examples",
            EXAMPLES,
            "--seed",
            SEED,
            "--generation-database",
            "none",
            "--no-color",
            "--request-timeout",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "passed" in done.stdout
