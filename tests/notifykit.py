"""A small world for the dispatcher's tests: a projection with the example
district, cases, outbox rows as a workflow writes them, and channels to local
receivers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from models.tables import CaseRecord, NotificationRecord
from notify.channels import Channel, parse_channels
from notify.dispatcher import Dispatcher
from org.loader import example_path, load_org
from policy.loader import load_policy
from settings import Settings
from store.org import activate_org
from store.policies import activate_policy

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
SECRET = "hook-secret"


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **span: float) -> None:
        self.now += timedelta(**span)


def district(engine: Engine) -> None:
    policy = load_policy(None)
    activate_policy(engine, policy, source="test")
    activate_org(engine, load_org(example_path(), policy), source="test")


def add_case(engine: Engine, case_id: str, compound: str = "anningyuan", **values: Any) -> None:
    row: dict[str, Any] = {
        "case_id": case_id,
        "compound": compound,
        "category": "fire_lane",
        "title": "消防通道被占用",
        "level": "emergency",
        "status": "awaiting_report_in",
        "departments": "police_anning",
        "raised_by": "branch",
        "raised_at": NOW - timedelta(minutes=5),
        "updated_at": NOW - timedelta(minutes=5),
        "report_in_deadline": NOW + timedelta(minutes=25),
        "policy_version": "p",
        **values,
    }
    with engine.begin() as conn:
        conn.execute(insert(CaseRecord), [row])


def queue(
    engine: Engine, case_id: str, to: str, kind: str = "dispatch", at: datetime = NOW, n: int = 1
) -> list[str]:
    """Outbox rows as a workflow writes them; their keys."""
    rows: list[dict[str, Any]] = [
        {
            "key": f"{case_id}/{i}/{to}/{kind}",
            "case_id": case_id,
            "department": to,
            "level": "emergency",
            "kind": kind,
            "message": "emergency whistle: 消防通道被占用",
            "at": at,
        }
        for i in range(n)
    ]
    with engine.begin() as conn:
        conn.execute(insert(NotificationRecord), rows)
    return [str(row["key"]) for row in rows]


def webhooks(url: str, **served: list[str]) -> list[Channel]:
    """A webhook channel per name, serving the recipients given."""
    raw: list[dict[str, Any]] = [
        {
            "name": name,
            "kind": "webhook",
            "for": recipients,
            "url": f"{url}/{name}",
            "secret": SECRET,
            "attempts": 4,
        }
        for name, recipients in served.items()
    ]
    return parse_channels({"channel": raw}, "test")


@dataclass
class World:
    engine: Engine
    settings: Settings
    clock: Clock = field(default_factory=Clock)

    def dispatcher(self, channels: list[Channel], owner: str = "d1", **options: Any) -> Dispatcher:
        return Dispatcher(
            engine=self.engine,
            settings=self.settings,
            channels=channels,
            owner=owner,
            clock=self.clock,
            **options,
        )


def settings_for(data_dir: Path, **values: Any) -> Settings:
    return Settings(
        data_dir=data_dir, public_url="https://whistle.example", timezone="Asia/Shanghai", **values
    )
