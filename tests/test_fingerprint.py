"""The workflow code fingerprint (``audit.archive.code_version``) leaves out some
modules of models/ by hand: check that no workflow module loads them, however
indirectly, so a change there can never change what a case does unseen."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from audit.archive import NOT_WORKFLOW_CODE, code_version

ROOT = Path(__file__).resolve().parent.parent

LOADED_BY_WORKFLOWS = """
import importlib, json, pkgutil, sys
import workflows
for module in pkgutil.walk_packages(workflows.__path__, "workflows."):
    importlib.import_module(module.name)
print(json.dumps(sorted(sys.modules)))
"""


def _loaded_by_workflows() -> set[str]:
    """Every module importing all of workflows/ loads, in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED_BY_WORKFLOWS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(done.stdout))


def test_workflows_never_load_the_modules_left_out_of_the_fingerprint() -> None:
    loaded = _loaded_by_workflows()
    assert any(name.startswith("workflows.") for name in loaded)
    assert "models.rules" in loaded  # the check sees what workflows do load
    excluded = {f"models.{name.removesuffix('.py')}" for name in NOT_WORKFLOW_CODE}
    assert excluded.isdisjoint(loaded), sorted(excluded & loaded)


def test_every_module_left_out_exists() -> None:
    for name in NOT_WORKFLOW_CODE:
        assert (ROOT / "models" / name).is_file(), name


def test_the_fingerprint_names_the_code() -> None:
    assert code_version().startswith("wf-") and len(code_version()) == 15
