"""The policy in force, kept in SQL so every process (CLI, worker, API) agrees
on it, and every version ever used stays readable for auditors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.limits import SOURCE_MAX
from models.policy import Policy
from models.tables import PolicyActivationRecord, PolicyRecord
from policy.loader import load_policy, policy_document, policy_from_document
from settings import Settings


def activate_policy(engine: Engine, policy: Policy, *, source: str) -> None:
    """Put ``policy`` in force; re-activating an older version brings it back."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        record = session.get(PolicyRecord, policy.version)
        if record is None:
            record = PolicyRecord(
                version=policy.version,
                document=json.dumps(policy_document(policy), ensure_ascii=False, sort_keys=True),
                source=source[:SOURCE_MAX],
                activated_at=now,
            )
        else:
            record.activated_at = now
        session.add(record)
        session.flush()  # the policy before its activation (foreign key)
        session.add(PolicyActivationRecord(version=policy.version, activated_at=now))
        session.commit()


def policy_in_force(engine: Engine) -> Policy | None:
    with Session(engine) as session:
        # The last activation by the counted key, not by a clock that can tie or step back.
        query = (
            select(PolicyRecord)
            .join(
                PolicyActivationRecord,
                col(PolicyActivationRecord.version) == col(PolicyRecord.version),
            )
            .order_by(col(PolicyActivationRecord.id).desc())
            .limit(1)
        )
        record = session.exec(query).first()
    return policy_from_document(json.loads(record.document)) if record else None


def policy_for_new_cases(engine: Engine, settings: Settings) -> Policy:
    """The policy in force in the database, else the configured policy file.

    Raises PolicyError if it falls back to a file that breaks a rule.
    """
    return policy_in_force(engine) or load_policy(settings.policy_file)
