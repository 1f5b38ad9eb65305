"""Bytecode for the workflow code, which the sandbox imports afresh for every case.

Temporal's workflow sandbox re-imports the workflow modules (``workflows/``) for
every case it starts or replays. Python takes their compiled bytecode from
``__pycache__`` when it is there; when it is not (``PYTHONDONTWRITEBYTECODE`` is
set, as on the CI machine, or a checkout never ran), every case compiles them
from source again: measured, about a third of a replay's time
(``bench/RESULTS.md``). So a worker writes that bytecode once, when it starts.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import workflows

SANDBOXED = Path(workflows.__file__).resolve().parent
"""The package the sandbox re-imports (the models are passed through, imported once)."""


def compile_workflow_code() -> bool:
    """Write the workflow package's bytecode where imports look for it; False when it
    could not be written (a read-only install: cases then compile it, slower)."""
    return bool(compileall.compile_dir(SANDBOXED, quiet=2, maxlevels=0))
