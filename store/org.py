"""The organisation in force, kept in SQL like the policy: every process reads
it on each use, so ``whistle org --apply`` takes effect without a restart, and
every version ever put in force stays readable.

Which one is in force is the latest activation by its counted key
(``organisation_activations.id``), not by a clock: two applies in the same
instant, or a clock stepped back, still leave the last one applied in force.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.limits import SOURCE_MAX
from models.org import Organisation
from models.tables import OrganisationActivationRecord, OrganisationRecord
from org.loader import org_document, org_from_document


def activate_org(engine: Engine, org: Organisation, *, source: str = "") -> None:
    """Put ``org`` in force; re-activating an older version brings it back."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        record = session.get(OrganisationRecord, org.version)
        if record is None:
            record = OrganisationRecord(
                version=org.version,
                document=json.dumps(org_document(org), ensure_ascii=False),
                source=source[:SOURCE_MAX],
                activated_at=now,
            )
        else:
            record.activated_at = now
        session.add(record)
        session.flush()  # the organisation before its activation (foreign key)
        session.add(OrganisationActivationRecord(version=org.version, activated_at=now))
        session.commit()


def org_in_force(engine: Engine) -> Organisation | None:
    """The organisation last put in force, read now; None before the first apply."""
    with Session(engine) as session:
        query = (
            select(OrganisationRecord)
            .join(
                OrganisationActivationRecord,
                col(OrganisationActivationRecord.version) == col(OrganisationRecord.version),
            )
            .order_by(col(OrganisationActivationRecord.id).desc())
            .limit(1)
        )
        record = session.exec(query).first()
    return org_from_document(json.loads(record.document)) if record else None


def org_version_of(engine: Engine, version: str) -> Organisation | None:
    """A version ever put in force, for auditors; None if never."""
    with Session(engine) as session:
        record = session.get(OrganisationRecord, version)
    return org_from_document(json.loads(record.document)) if record else None
