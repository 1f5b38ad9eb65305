"""Every cap and identifier pattern of whistle, defined once.

The workflow's rules, the API's schemas, the CLI and the policy loader import
these; none writes its own copy. Text lengths live beside their check in
``models.text_rules``.
"""

from __future__ import annotations

import re

MAX_DEPARTMENTS = 30
"""Departments on one case, in a routing entry, or at one joint meeting."""

DEPARTMENT_CODE = r"^[a-z][a-z0-9_]{0,63}$"
"""A department, category or reason code of the policy: ``fire_rescue``."""
DEPARTMENT_CODE_RE = re.compile(DEPARTMENT_CODE)

PRINCIPAL_NAME = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
"""A principal's name: ``anningyuan``, ``fire-3``."""
PRINCIPAL_NAME_RE = re.compile(PRINCIPAL_NAME)

CASE_ID = r"^[A-Za-z0-9._-]{1,100}$"
"""A case id (the workflow id): safe in a URL path and a file name."""
CASE_ID_RE = re.compile(CASE_ID)

LIST_LIMIT_MAX = 500
"""Rows one listing of cases returns at most (API ``limit``, CLI ``--limit``)."""
LIST_LIMIT_DEFAULT = 100
"""Rows one listing of cases returns when no limit is asked."""

ACTION_ID_MAX = 100
"""Characters of an action id (the API's ``Idempotency-Key`` is one)."""

SHA256_HEX = r"^[0-9a-f]{64}$"
"""A SHA-256 digest as 64 lowercase hex digits."""
SHA256_HEX_RE = re.compile(SHA256_HEX)

SATISFACTION_MIN = 1
SATISFACTION_MAX = 5
SATISFIED_FROM = 4
"""A confirmation scoring this or more counts as satisfied in the assessment."""

MAX_EXTENSION_SECONDS = 366 * 86400
"""An extension asked, or a joint plan's deadline, is at most this long."""

TOKEN_LIFETIME_MAX_DAYS = 3650
"""An API token lives at most this many days."""
