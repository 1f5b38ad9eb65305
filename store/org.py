"""The organisation in force, kept in SQL like the policy: every process reads
it on each use, so ``whistle org --apply`` takes effect without a restart, and
every version ever put in force stays readable.

Which one is in force: ``store.versions``.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from models.org import Organisation
from models.tables import OrganisationActivationRecord, OrganisationRecord
from org.loader import org_document, org_from_document
from store.versions import activate, document_in_force, document_of


def activate_org(engine: Engine, org: Organisation, *, source: str = "") -> None:
    """Put ``org`` in force; re-activating an older version brings it back."""
    activate(
        engine,
        OrganisationRecord,
        OrganisationActivationRecord,
        version=org.version,
        document=json.dumps(org_document(org), ensure_ascii=False),
        source=source,
        now=datetime.now(UTC),
    )


def org_in_force(engine: Engine) -> Organisation | None:
    """The organisation last put in force, read now; None before the first apply."""
    document = document_in_force(engine, OrganisationRecord, OrganisationActivationRecord)
    return _parsed(document) if document else None


@functools.lru_cache(maxsize=4)
def _parsed(document: str) -> Organisation:
    """A stored document never changes (its version is its content's hash): parsed
    and checked once per process, not on every page."""
    return org_from_document(json.loads(document))


def org_version_of(engine: Engine, version: str) -> Organisation | None:
    """A version ever put in force, for auditors; None if never."""
    document = document_of(engine, OrganisationRecord, version)
    return org_from_document(json.loads(document)) if document else None
