"""The README's curl walkthrough (a joint case through the branch, the station and
two units), run with bash as written there, against ``whistle dev``.

Only the API's port is changed (the README says 8000; the test takes a free one),
and ``HOME`` is a scratch directory, so ``~/.whistle`` is the dev server's."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.devkit import Dev
from tests.ports import free_port

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"

pytestmark = pytest.mark.e2e


def curl_walkthrough() -> str:
    section = README.read_text(encoding="utf-8").split("\n## HTTP API\n", 1)[1]
    block = re.search(r"A joint case with curl.*?```bash\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the HTTP API section has no curl walkthrough"
    return block[1]


def bash(script: str, env: dict[str, str], *, timeout: float) -> str:
    """Run ``script`` as the README's reader would (stopping at the first failure): its output."""
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[Dev]:
    home = tmp_path / "home"
    policy = tmp_path / "district.toml"
    policy.write_text("", encoding="utf-8")  # the default policy, as whistle dev runs it
    server = Dev(home / ".whistle", free_port(), policy)
    server.data_dir.mkdir(parents=True)
    server.env["HOME"] = str(home)
    server.start()
    yield server
    server.close()


def test_the_readme_curl_walkthrough_runs(dev: Dev) -> None:
    script = curl_walkthrough()
    assert "API=http://127.0.0.1:8000\n" in script
    script = script.replace("API=http://127.0.0.1:8000\n", f"API={dev.api}\n", 1)
    env = {**dev.env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    lines = bash(script, env, timeout=300).splitlines()
    assert '["enforcement","awaiting_report_in",["police_anning","um_squad_1"]]' in lines
    # each action prints its status and events, or its refusal (a JSON string)
    refusals = [line for line in lines if line.startswith('"')]
    assert len(refusals) == 1 and "only a station may hold a joint meeting" in refusals[0]
    assert '["awaiting_report_in",["return_requested"]]' in lines  # the squad stays
    assert '["awaiting_report_in",["return_refused"]]' in lines
    assert '["joint_meeting",["joint_meeting_requested","escalated","dispatched"]]' in lines
    assert '["closed",["confirmed","closed"]]' in lines
    timeline = [json.loads(line) for line in lines if line.startswith('["') and '",' in line]
    entries = [entry for entry in timeline if len(entry) == 3 and isinstance(entry[1], str)]
    for kind, actor in (
        ("return_refused", "station:anning-station"),
        ("joint_meeting_requested", "branch:anningyuan"),
        ("joint_meeting_held", "station:anning-station"),
        ("supervised", "station:anning-station"),
        ("confirmed", "branch:anningyuan"),
    ):
        assert [kind, actor] in [entry[:2] for entry in entries], (kind, lines)
    _workbench_walkthrough_runs(dev, env)


def workbench_walkthrough() -> str:
    section = README.read_text(encoding="utf-8").split("\n## The workbench\n", 1)[1]
    block = re.search(r"give people passwords.*?```bash\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the workbench section has no password walkthrough"
    return block[1]


def _workbench_walkthrough_runs(dev: Dev, env: dict[str, str]) -> None:
    """The README's passwords, set as written; then each person signs in on the page
    as a browser does and finds the walkthrough's case."""
    script = workbench_walkthrough()
    bash(script, env, timeout=120)
    pairs = re.findall(r"echo '([^']+)' \| whistle admin set-password (\S+)", script)
    assert len(pairs) == 4
    landing = {"anningyuan": "/branch", "police-anning": "/unit", "anning-station": "/station"}
    for password, name in pairs:
        with httpx.Client(base_url=dev.api, timeout=30) as http:
            form = http.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf is not None
            answer = http.post(
                "/login", data={"name": name, "password": password, "csrf": csrf[1], "next": "/"}
            )
            assert answer.status_code == 303, (name, answer.text)
            home = landing.get(name, "/audit")
            assert answer.headers["location"] == home
            page = http.get(home)
            assert page.status_code == 200, (name, home)
            # The case is closed: on every page but the unit's inbox, which holds open work.
            assert ("Dogs off the lead" in page.text) == (home != "/unit"), (name, home)
