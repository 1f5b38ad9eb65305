"""Documents kept by version, one of them in force: the policy and the organisation.

Every version ever put in force stays readable for auditors. Each time one is put
in force is a row of its activations table, and the one in force is the latest
activation by that table's counted key, not by a clock: two applies in the same
instant, or a clock stepped back, still leave the last one applied in force.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.limits import SOURCE_MAX
from models.tables import (
    OrganisationActivationRecord,
    OrganisationRecord,
    PolicyActivationRecord,
    PolicyRecord,
)

Kept = type[PolicyRecord] | type[OrganisationRecord]
Activation = type[PolicyActivationRecord] | type[OrganisationActivationRecord]


def activate(
    engine: Engine,
    kept: Kept,
    activation: Activation,
    *,
    version: str,
    document: str,
    source: str,
    now: datetime,
) -> None:
    """Put ``version`` in force (kept with ``document`` the first time)."""
    with Session(engine) as session:
        record = session.get(kept, version)
        if record is None:
            record = kept(
                version=version, document=document, source=source[:SOURCE_MAX], activated_at=now
            )
        else:
            record.activated_at = now
        session.add(record)
        session.flush()  # the version before its activation (foreign key)
        session.add(activation(version=version, activated_at=now))
        session.commit()


def document_in_force(engine: Engine, kept: Kept, activation: Activation) -> str | None:
    """The document last put in force, read now; None before the first."""
    with Session(engine) as session:
        query = (
            select(kept.document)
            .join(activation, col(activation.version) == col(kept.version))
            .order_by(col(activation.id).desc())
            .limit(1)
        )
        return session.exec(query).first()


def document_of(engine: Engine, kept: Kept, version: str) -> str | None:
    """A version ever put in force; None if never."""
    with Session(engine) as session:
        return session.exec(select(kept.document).where(col(kept.version) == version)).first()
