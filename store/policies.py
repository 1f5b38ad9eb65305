"""The policy in force, kept in SQL so every process (CLI, worker, API) agrees
on it, and every version ever used stays readable for auditors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from models.policy import Policy
from models.tables import PolicyActivationRecord, PolicyRecord
from policy.loader import load_policy, policy_document, policy_from_document
from settings import Settings
from store.versions import activate, document_in_force


def activate_policy(engine: Engine, policy: Policy, *, source: str) -> None:
    """Put ``policy`` in force; re-activating an older version brings it back."""
    activate(
        engine,
        PolicyRecord,
        PolicyActivationRecord,
        version=policy.version,
        document=json.dumps(policy_document(policy), ensure_ascii=False, sort_keys=True),
        source=source,
        now=datetime.now(UTC),
    )


def policy_in_force(engine: Engine) -> Policy | None:
    """The policy last put in force (``store.versions``); None before the first."""
    document = document_in_force(engine, PolicyRecord, PolicyActivationRecord)
    return policy_from_document(json.loads(document)) if document else None


def policy_for_new_cases(engine: Engine, settings: Settings) -> Policy:
    """The policy in force in the database, else the configured policy file.

    Raises PolicyError if it falls back to a file that breaks a rule.
    """
    return policy_in_force(engine) or load_policy(settings.policy_file)
