"""Settings from the environment (WHISTLE_*), shared by every command.

The defaults match ``whistle dev``: a local dev server on 127.0.0.1:7233 and a
SQLite file in the data directory.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.workdays import DEFAULT_TIMEZONE, zone


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WHISTLE_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path.home() / ".whistle")
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_tls: bool = False
    temporal_tls_ca: Path | None = None
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_api_key: str | None = None
    task_queue: str = "whistle-cases"
    database_url: str | None = None
    """Any SQLAlchemy URL; unset means the SQLite file in the data directory."""
    policy_file: Path | None = None
    """Used only when the database holds no policy in force yet."""
    channels_file: Path | None = None
    """The channels file (``notify.channels``): where notifications go; unset: nowhere."""
    notifier_in_worker: bool = True
    """False when dispatchers run on their own (``whistle notifier``)."""
    notify_max_age_hours: float = Field(default=24.0, gt=0)
    """A notification older than this when first seen is listed, not sent (a backlog
    from before the channels file existed)."""
    notify_lease_seconds: float = Field(default=60.0, ge=1)
    """How long a dispatcher holds a delivery it sends; then another may send it again."""
    public_url: str = "http://127.0.0.1:8000"
    """The workbench as people reach it: notifications link to cases here."""
    retention_days: int = Field(default=3650, ge=1)
    """How long the embedded server keeps closed cases' histories."""
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # larger bodies: 413, unread
    cookie_secure: bool = False
    """Mark the workbench's cookies Secure even over plain HTTP: set it behind a
    TLS-terminating proxy. Over https they are Secure anyway."""
    evidence_dir: Path | None = None
    """Where uploaded evidence is kept by SHA-256; unset: ``evidence`` in the data directory."""
    evidence_s3_endpoint: str | None = None
    """An S3-compatible service (https://minio.district.local:9000) to keep evidence in
    instead of ``evidence_dir``; its bucket must exist."""
    evidence_s3_bucket: str = "whistle-evidence"
    evidence_s3_access_key: str | None = None
    evidence_s3_secret_key: str | None = None
    evidence_s3_region: str = "us-east-1"
    timezone: str = DEFAULT_TIMEZONE
    """The district's time zone (IANA name): every time shown to people is in it."""
    log_level: str = "INFO"
    log_json: bool = False
    max_cached_cases: int = Field(default=10_000, ge=1)
    """Open cases a worker keeps in memory; one acting after eviction is replayed
    from its history first. The cache bounds the worker's memory (see
    ``workflow_sandbox`` for the cost of each case)."""
    workflow_sandbox: Literal["strict", "passthrough"] = "strict"
    """strict: each case runs in a fresh sandbox that refuses non-deterministic
    calls (~300 KiB per cached case, ~24 ms of CPU per case started or replayed).
    passthrough: the sandbox shares the loaded modules and no longer catches
    such calls (~125 KiB per cached case, no start-up cost); the test suite
    still runs every path of the workflow strictly."""
    worker_http_host: str = "127.0.0.1"
    """Where the worker's HTTP port listens (``0.0.0.0`` for probes and scrapes from
    other hosts)."""
    worker_http_port: int = Field(default=0, ge=0, le=65535)
    """The worker's /metrics (whistle's and the Temporal SDK's), /healthz and /readyz;
    0: not served."""
    metrics_token: str | None = None
    """A bearer token /metrics then asks for, on the API and the worker; unset: open
    (keep /metrics off the public side of the proxy)."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        zone(name.strip(), field="WHISTLE_TIMEZONE")
        return name.strip()

    def zone(self) -> ZoneInfo:
        return zone(self.timezone, field="WHISTLE_TIMEZONE")

    def evidence_root(self) -> Path:
        return (self.evidence_dir or self.data_dir / "evidence").expanduser()

    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'whistle.db').expanduser()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
