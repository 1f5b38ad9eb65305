"""Every cap and identifier pattern of whistle, defined once.

The workflow's rules, the API's schemas, the CLI, the loaders, the stores and
the SQL tables import these; none writes its own copy. Text lengths live
beside their check in ``models.text_rules``.
"""

from __future__ import annotations

import re

from models.errors import RuleViolation

MAX_DEPARTMENTS = 30
"""Departments on one case, in a routing entry, or at one joint meeting."""

CODE_MAX = 64
"""Characters of a code: a department, category, reason or place of the organisation."""
DEPARTMENT_CODE = rf"^[a-z][a-z0-9_]{{0,{CODE_MAX - 1}}}$"
"""A department, category or reason code of the policy: ``fire_rescue``."""
DEPARTMENT_CODE_RE = re.compile(DEPARTMENT_CODE)
CODE_RULE = (
    f"a code is lower-case letters, digits and _, starting with a letter (at most {CODE_MAX})"
)

PRINCIPAL_NAME_MAX = 64
"""Characters of a principal's name."""
PRINCIPAL_NAME = rf"^[a-z0-9][a-z0-9_.-]{{0,{PRINCIPAL_NAME_MAX - 1}}}$"
"""A principal's name: ``anningyuan``, ``fire-3``."""
PRINCIPAL_NAME_RE = re.compile(PRINCIPAL_NAME)
PRINCIPAL_NAME_RULE = (
    f"1 to {PRINCIPAL_NAME_MAX} lower-case letters, digits, '.', '_' or '-',"
    " starting with a letter or digit"
)

CASE_ID_MAX = 100
"""Characters of a case id."""
CASE_ID = rf"^[A-Za-z0-9._-]{{1,{CASE_ID_MAX}}}$"
"""A case id (the workflow id): safe in a URL path and a file name."""
CASE_ID_RE = re.compile(CASE_ID)

LIST_LIMIT_MAX = 500
"""Rows one listing of cases returns at most (API ``limit``, CLI ``--limit``)."""
LIST_LIMIT_DEFAULT = 100
"""Rows one listing of cases returns when no limit is asked."""

ACTION_ID_MAX = 100
"""Characters of an action id (the API's ``Idempotency-Key`` is one)."""

SHA256_HEX_LEN = 64
SHA256_HEX = rf"^[0-9a-f]{{{SHA256_HEX_LEN}}}$"
"""A SHA-256 digest as 64 lowercase hex digits."""
SHA256_HEX_RE = re.compile(SHA256_HEX)

SATISFACTION_MIN = 1
SATISFACTION_MAX = 5
SATISFIED_FROM = 4
"""A confirmation scoring this or more counts as satisfied in the assessment."""

MAX_EXTENSION_SECONDS = 366 * 86400
"""An extension asked, or a joint plan's deadline, is at most this long."""
MAX_SPAN_WORKING_DAYS = 250
"""The same given in working days: about a year of them."""

RETURNS_TO_JOINT_MAX = 20
"""The most a policy's ``rules.returns_to_joint`` may be."""

REDO_CAP_MAX = 10
"""The most a policy's ``rules.redo_cap`` (redos, 重办, before the station steps in) may be."""

MIN_DISPATCHES_MAX = 1000
"""The most a policy's ``assessment.min_dispatches`` (the sample to rank a unit) may be."""
LIST_SIZE_MAX = 20
"""The most units a red or black list (红黑榜, ``assessment.list_size``) may name."""

PLAN_TASKS_MAX = 4000
"""Characters of all the tasks of one joint plan together."""

TOKEN_LIFETIME_MAX_DAYS = 3650
"""An API token lives at most this many days."""
TOKEN_MAX = 200
"""Characters of a bearer token presented; a longer one is refused unread."""

COMPOUNDS_PER_PRINCIPAL_MAX = 100
"""Compounds one branch principal speaks for."""

PASSWORD_MIN = 10
"""Characters of a workbench password, at least (NIST SP 800-63B asks 8; a street
office's shared PCs argue for more)."""
PASSWORD_MAX = 128
PASSWORD_HASH_MAX = 200
SIGN_IN_FAILURES_MAX = 5
"""Wrong passwords for one name from one client within ``LOCKOUT_MINUTES`` before
that name is locked, for that client only, for ``LOCKOUT_MINUTES``: a lone guesser
elsewhere cannot lock the person out of their own PC."""
CLIENT_SIGN_IN_FAILURES_MAX = 20
"""Wrong passwords from one client, whatever the names, within ``LOCKOUT_MINUTES``
before that client may not sign in for ``LOCKOUT_MINUTES``: guessing across names."""
NAME_SIGN_IN_FAILURES_MAX = 50
"""Wrong passwords for one name from every client within ``LOCKOUT_MINUTES`` before
that name is locked everywhere for ``LOCKOUT_MINUTES``: ten or more addresses guessing
at one person (a lone guesser is stopped at ``SIGN_IN_FAILURES_MAX`` long before)."""
LOCKOUT_MINUTES = 15
DELIVERED_COUNTED_HOURS = 24
"""The deliveries page (and ``GET /notifications``) counts what was delivered in the
last this many hours; pending and failed ones, whatever their age."""
CLIENT_ADDRESS_MAX = 64
"""Characters of a client's address as kept with its sign-in failures (IPv6: 45)."""
SESSION_HOURS = 12
"""A workbench session lasts one working day and a shift's overlap, then signs out."""

UPLOAD_FILE_MAX_BYTES = 10 * 1024 * 1024
"""One photo or document uploaded through the workbench."""
UPLOAD_FILES_MAX = 6
"""Files in one form (the evidence of one action holds at most ``EVIDENCE_MAX``)."""

SOURCE_MAX = 500
"""Characters of the source (a file's path) kept with a policy or organisation version."""

POLICY_MAX_BYTES = 64 * 1024
"""The encoded policy, as each case's input carries it (the default is ~2 KiB)."""

ORG_MAX_BYTES = 1024 * 1024
"""The organisation file (the example district's is ~12 KiB)."""
ORG_ENTRIES_MAX = 10_000
"""Streets, communities, compounds, grids or units of an organisation, each."""


def check_code(value: str, *, field: str) -> str:
    """``value`` if it is a code (``DEPARTMENT_CODE``), else RuleViolation naming ``field``."""
    if not isinstance(value, str) or not DEPARTMENT_CODE_RE.fullmatch(value):
        raise RuleViolation(f"{field}: {CODE_RULE}; got {value!r}")
    return value


def check_principal_name(value: str, *, field: str) -> str:
    """``value`` if it is a principal's name (``PRINCIPAL_NAME``), else RuleViolation."""
    if not isinstance(value, str) or not PRINCIPAL_NAME_RE.fullmatch(value):
        raise RuleViolation(f"{field}: {PRINCIPAL_NAME_RULE}; got {value!r}")
    return value
