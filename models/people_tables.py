"""SQL tables of the people who use whistle: principals, their API tokens, their
workbench sessions and the wrong passwords counted against sign-ins. Never
imported by workflows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from models.limits import (
    CLIENT_ADDRESS_MAX,
    CODE_MAX,
    PASSWORD_HASH_MAX,
    PRINCIPAL_NAME_MAX,
    SHA256_HEX_LEN,
)
from models.tables import when_column
from models.text_rules import SHORT_MAX


class PrincipalRecord(SQLModel, table=True):
    """Who may use the API: a branch, a department, a station, an auditor or an admin."""

    __tablename__ = "principals"

    name: str = Field(primary_key=True, max_length=PRINCIPAL_NAME_MAX)
    kind: str = Field(max_length=20)
    compounds: str = Field(default="", sa_column=Column(Text, nullable=False))
    """Branches: the compounds they speak for, one per line."""
    department: str | None = Field(default=None, max_length=CODE_MAX)
    """Departments: a unit code of the organisation, or a department code."""
    street: str | None = Field(default=None, max_length=CODE_MAX)
    """Stations: the street code (in the organisation in force when added)."""
    created_at: datetime = Field(sa_column=when_column(False))
    disabled_at: datetime | None = Field(default=None, sa_column=when_column())
    password_hash: str | None = Field(default=None, max_length=PASSWORD_HASH_MAX)
    """For signing in to the workbench (argon2id); None: the principal uses tokens only."""


class ApiTokenRecord(SQLModel, table=True):
    """A bearer token, stored only as its SHA-256."""

    __tablename__ = "api_tokens"

    token_id: str = Field(primary_key=True, max_length=32)
    principal: str = Field(index=True, max_length=PRINCIPAL_NAME_MAX)
    token_hash: str = Field(unique=True, max_length=SHA256_HEX_LEN)
    label: str = Field(default="", max_length=SHORT_MAX)
    created_at: datetime = Field(sa_column=when_column(False))
    expires_at: datetime | None = Field(default=None, sa_column=when_column())
    revoked_at: datetime | None = Field(default=None, sa_column=when_column())


class WebSessionRecord(SQLModel, table=True):
    """A signed-in person at the workbench; the cookie holds the key, the table its hash."""

    __tablename__ = "web_sessions"

    key_hash: str = Field(primary_key=True, max_length=SHA256_HEX_LEN)
    principal: str = Field(index=True, max_length=PRINCIPAL_NAME_MAX)
    csrf: str = Field(max_length=64)
    """The token every form of this session carries back."""
    created_at: datetime = Field(sa_column=when_column(False))
    expires_at: datetime = Field(sa_column=when_column(False))


class SignInFailureRecord(SQLModel, table=True):
    """Wrong passwords counted against one name from one client address
    (``store.sign_in_failures``); the row with the empty name counts the client's
    wrong passwords whatever the name. Names that no principal has are counted
    alike, so a lockout tells nothing of who exists."""

    __tablename__ = "sign_in_failures"

    name: str = Field(primary_key=True, max_length=PRINCIPAL_NAME_MAX)
    client: str = Field(primary_key=True, max_length=CLIENT_ADDRESS_MAX)
    failures: int
    """Wrong passwords since ``first_failed_at``; a right one forgets them."""
    first_failed_at: datetime = Field(sa_column=when_column(False))
    locked_until: datetime | None = Field(default=None, sa_column=when_column())
