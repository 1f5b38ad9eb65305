"""What can go wrong, as one hierarchy: each door maps it to its own answer.

::

    WhistleError                     base of every error whistle raises on purpose
    ├── RuleViolation  (ValueError)  input or an action breaks a rule; the message
    │   │                            starts with the field, then the rule
    │   │                            API 422 (input) or 409 (the case refused) · CLI exit 2 / 1
    │   ├── PolicyError              a policy file breaks a rule; names the key
    │   └── OrgError                 an organisation file breaks a rule; names the key
    ├── ActionRejected               the case refused an action (its rule, from the
    │                                workflow's validator)       API 409 · CLI exit 1
    ├── CaseNotFound  (LookupError)  no such case, or not the principal's to see
    │                                                            API 404 · CLI exit 3
    ├── CaseAlreadyExists            a case id is taken by another case   API 409 · CLI exit 1
    └── EngineUnavailable            Temporal (or no worker) did not answer
                                                                 API 503 · CLI exit 4

A message never carries a stack trace or a secret; it names the field or the
case, then the rule, so it can be shown to the person who acted.
"""

from __future__ import annotations


class WhistleError(Exception):
    """Base of every error whistle raises on purpose."""


class RuleViolation(WhistleError, ValueError):
    """An input or action breaks a rule; the message names the field and the rule."""


class PolicyError(RuleViolation):
    """A policy file breaks a rule; the message names the key."""


class OrgError(RuleViolation):
    """An organisation file breaks a rule; the message names the key (or the line)."""


class ActionRejected(WhistleError):
    """The case refused the action; the message names the rule."""


class CaseNotFound(WhistleError, LookupError):
    """No such case (or not one the principal may see)."""


class CaseAlreadyExists(WhistleError):
    def __init__(self, case_id: str) -> None:
        super().__init__(f"case_id: a case {case_id!r} already exists")
        self.case_id = case_id


class EngineUnavailable(WhistleError):
    """Temporal, or a worker for the case, did not answer in time."""
