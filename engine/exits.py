"""Exit codes of whistle's processes (the ``whistle`` CLI, ``worker.py``), and
the one map from the error taxonomy (``models.errors``) to them."""

from __future__ import annotations

from models.errors import (
    ActionRejected,
    CaseAlreadyExists,
    CaseNotFound,
    EngineUnavailable,
    RuleViolation,
    WhistleError,
)

EXIT_REJECTED = 1
"""The case refused the action, or the case id is taken."""
EXIT_BAD_INPUT = 2
"""An argument or a file breaks a rule (also typer's own usage errors)."""
EXIT_NOT_FOUND = 3
"""No such case."""
EXIT_UNAVAILABLE = 4
"""Temporal, a worker or the API did not answer."""
EXIT_FORBIDDEN = 5
"""The API refused the token."""

_EXIT_CODES: tuple[tuple[type[WhistleError], int], ...] = (
    (RuleViolation, EXIT_BAD_INPUT),  # PolicyError included
    (ActionRejected, EXIT_REJECTED),
    (CaseAlreadyExists, EXIT_REJECTED),
    (CaseNotFound, EXIT_NOT_FOUND),
    (EngineUnavailable, EXIT_UNAVAILABLE),
)


def exit_code(error: WhistleError) -> int:
    """The exit code for an error of the taxonomy (a rejection if unlisted)."""
    for kind, code in _EXIT_CODES:
        if isinstance(error, kind):
            return code
    return EXIT_REJECTED
