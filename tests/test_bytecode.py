"""A worker writes the workflow code's bytecode, so that the sandbox, which imports
that code afresh for every case, does not compile it for every case."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from engine.bytecode import SANDBOXED, compile_workflow_code


def test_the_workflow_bytecode_is_written_where_imports_find_it() -> None:
    shutil.rmtree(SANDBOXED / "__pycache__", ignore_errors=True)
    assert compile_workflow_code()
    for source in SANDBOXED.glob("*.py"):
        cached = importlib.util.cache_from_source(str(source))
        assert Path(cached).is_file(), cached
