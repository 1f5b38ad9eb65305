"""The workbench's pages with a large projection (``python -m bench --pages N``).

Fills a SQLite projection with N cases of a district (streets, compounds, units;
about 10 events a case through the projection's write path; those of the last
30 days one in five open, many of them overdue) with the notifications their
workflows queued and those notifications' deliveries (``bench.outbox``), serves the
workbench on loopback over an embedded Temporal dev server, and times every page
and download as its person opens it (each must answer 200), one request after
another, after one untimed opening: the time measured is the whole loopback round
trip, so it bounds the server's time from above.
Also the bytes of a first load (the page and every asset it loads).
"""

from __future__ import annotations

import asyncio
import random
import re
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from api.app import create_app
from bench import outbox
from bench.lives import live
from bench.stack import free_port_pair
from bench.stats import ms
from engine.embedded import EmbeddedTemporal
from models.publication import CaseChanges
from models.tables import CaseEventRecord, DeliveryRecord, NotificationRecord
from org.loader import parse_org
from policy.loader import load_policy
from settings import Settings
from store.deliveries import CASES
from store.engine import make_engine
from store.org import activate_org, org_in_force
from store.policies import activate_policy
from store.principals import add_principal
from store.projection import write_many
from store.sign_in import open_session
from web.deps import SESSION_COOKIE

STREETS, COMMUNITIES_PER_STREET, COMPOUNDS_PER_COMMUNITY = 6, 5, 10
LEVELS = ("publicity", "emergency", "enforcement", "joint")
KINDS = ("fire_rescue", "police", "urban_management", "housing", "sanitation")
"""The kinds cases go to (the organisation has a unit of every kind of the policy)."""
BATCH = 1000
SETTLED_AFTER = timedelta(days=30)
PAGE_BUDGET_SECONDS = 30.0
MIN_SAMPLES = 3


def _org_text(kinds: list[str]) -> str:
    lines = ['name = "基准区"\n']
    for s in range(STREETS):
        lines.append(f'[streets.s{s}]\nname = "第{s}街道"\n')
        for c in range(COMMUNITIES_PER_STREET):
            lines.append(f'[communities.s{s}c{c}]\nname = "社区{s}-{c}"\nstreet = "s{s}"\n')
            for k in range(COMPOUNDS_PER_COMMUNITY):
                lines.append(
                    f'[compounds.s{s}c{c}k{k}]\nname = "小区{s}-{c}-{k}"\ncommunity = "s{s}c{c}"\n'
                )
        for kind in kinds:
            lines.append(
                f'[units.{kind}_s{s}]\nname = "{kind}{s}"\nkind = "{kind}"\njurisdiction = ["s{s}"]\n'
            )
    return "\n".join(lines)


@dataclass
class Filled:
    ids: list[str]
    notifications: int
    deliveries: int


def fill(engine: Engine, n: int, now: datetime, seed: int = 7) -> Filled:
    """N cases raised over the last year, with random lives (``bench.lives``),
    written through the projection's own write path a thousand cases a transaction,
    with the notifications their workflows queued; then each thousand's deliveries as
    the dispatcher would have left them (``bench.outbox``), in a transaction of their own.
    Cases of the last 30 days may still be open (one in five); older ones have ended."""
    rng = random.Random(seed)
    compounds = [
        f"s{s}c{c}k{k}"
        for s in range(STREETS)
        for c in range(COMMUNITIES_PER_STREET)
        for k in range(COMPOUNDS_PER_COMMUNITY)
    ]
    filled = Filled([], 0, 0)
    batch: list[CaseChanges] = []
    org = org_in_force(engine)

    def flush() -> None:
        write_many(engine, batch)
        items = [(item, c.summary.compound) for c in batch for item in c.notifications]
        planned = outbox.plan(rng, items, now, org)
        with engine.begin() as conn:
            outbox.write(conn, planned)
        filled.notifications += len(items)
        filled.deliveries += len(planned.deliveries)
        batch.clear()

    for i in range(n):
        compound = rng.choice(compounds)
        street = compound.split("c")[0]
        pool = [f"{kind}_{street}" for kind in KINDS]
        raised = now - timedelta(minutes=rng.randint(1, 365 * 24 * 60))
        settled = raised < now - SETTLED_AFTER  # a whistle is done with within weeks
        life = live(rng, f"bench-{i:07d}", compound, pool, raised, settled=settled)
        filled.ids.append(life.case_id)
        summary = life.summary(len(life.events))
        notifications = outbox.notifications_of(life)
        batch.append(CaseChanges(summary=summary, events=life.events, notifications=notifications))
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return filled


def open_case(engine: Engine, street: str, unit: str | None = None) -> str:
    """The latest open case of ``street`` (that ``unit`` is on)."""
    c = CASES.c
    query = select(c.case_id).where(
        c.status.not_in(["closed", "withdrawn"]), c.compound.like(f"{street}c%")
    )
    if unit is not None:
        query = query.where(("," + c.departments + ",").contains(f",{unit},"))
    with engine.connect() as conn:
        found = conn.execute(query.order_by(c.raised_at.desc()).limit(1)).scalar()
    if found is None:
        raise RuntimeError(f"no open case of {street}" + (f" with {unit}" if unit else ""))
    return str(found)


PEOPLE = {
    "branch": ("branch", ["s0c0k0"], None, None),
    "unit": ("department", [], "police_s0", None),
    "station": ("station", [], None, "s0"),
    "auditor": ("auditor", [], None, None),
}


@dataclass(frozen=True)
class Cases:
    """The cases the pages open: any one, and open ones of street s0."""

    any: str
    units: str
    """Open, with the unit ``police_s0`` on it."""
    stations: str
    """Open, in street s0."""


def pages_of(cases: Cases, quarter: str) -> dict[str, tuple[str | None, str]]:
    """Page name -> (person, or None for nobody signed in; path)."""
    case_id = cases.any
    return {
        "sign-in page": (None, "/login"),
        "branch: my cases": ("branch", "/branch"),
        "branch: raise form": ("branch", "/branch/raise"),
        "unit: inbox": ("unit", "/unit"),
        "unit: inbox refresh": ("unit", "/unit/rows"),
        "unit: a case": ("unit", f"/case/{cases.units}"),
        "station: street": ("station", "/station"),
        "station: a case": ("station", f"/case/{cases.stations}"),
        "station: deliveries": ("station", "/deliveries"),
        "auditor: search": ("auditor", "/audit?text=%E6%B6%88%E9%98%B2"),
        "auditor: case page": ("auditor", f"/case/{case_id}"),
        "auditor: case audit": ("auditor", f"/audit/case/{case_id}"),
        "auditor: ledger.xlsx": ("auditor", f"/audit/case/{case_id}/ledger.xlsx"),
        "auditor: assessment": ("auditor", f"/audit/assessment?quarter={quarter}"),
        "auditor: assessment.xlsx": ("auditor", f"/audit/assessment.xlsx?quarter={quarter}"),
        "auditor: deliveries": ("auditor", "/deliveries"),
        "auditor: failed deliveries": ("auditor", "/deliveries?status=failed"),
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def first_load(http: httpx.AsyncClient, path: str) -> int:
    """Bytes of ``path`` and of every asset it references, as sent."""
    page = await http.get(path)
    total = len(page.content)
    for asset in set(re.findall(r'(?:href|src)="(/assets/[^"]+)"', page.text)):
        total += len((await http.get(asset)).content)
    return total


async def measure(scratch: Path, n: int, repeat: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    settings = Settings(data_dir=scratch, task_queue="whistle-bench-pages")
    engine = make_engine(settings.sqlalchemy_url())
    policy = load_policy(None)
    activate_policy(engine, policy, source="bench")
    activate_org(engine, parse_org(_org_text(list(policy.departments)), policy, source="bench"))
    began = time.perf_counter()
    filled = fill(engine, n, now)
    fill_seconds = time.perf_counter() - began
    with engine.connect() as conn:
        events = conn.execute(select(func.count()).select_from(CaseEventRecord)).scalar_one()
        notifications = conn.execute(
            select(func.count()).select_from(NotificationRecord)
        ).scalar_one()
        sent = col(DeliveryRecord.status)
        deliveries = dict(conn.execute(select(sent, func.count()).group_by(sent)).tuples().all())
    cases = Cases(
        any=filled.ids[len(filled.ids) // 2],
        units=open_case(engine, "s0", "police_s0"),
        stations=open_case(engine, "s0"),
    )
    cookies: dict[str, str] = {}
    for role, (kind, compounds, unit, street) in PEOPLE.items():
        person = add_principal(
            engine,
            name=f"{role}-bench",
            kind=kind,
            compounds=compounds,
            department=unit,
            street=street,
        )
        cookies[role] = open_session(engine, person)
    server = EmbeddedTemporal(scratch / "temporal", free_port_pair())
    server.start()
    try:
        client = await server.connect()
        app = create_app(settings, engine=engine, client=client)
        port = _free_port()
        web = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
        task = asyncio.create_task(web.serve())
        while not web.started:
            await asyncio.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        quarter = f"{now.year}Q{(now.month - 1) // 3 + 1}"
        timings: dict[str, Any] = {}
        for name, (who, path) in pages_of(cases, quarter).items():
            jar = {} if who is None else {SESSION_COOKIE: cookies[who]}
            async with httpx.AsyncClient(base_url=base, cookies=jar, timeout=120) as http:
                await http.get(path)  # untimed: a process renders a template first once
                seconds: list[float] = []
                status = 0
                for _ in range(repeat):
                    start = time.perf_counter()
                    answer = await http.get(path)
                    seconds.append(time.perf_counter() - start)
                    status = answer.status_code
                    if status != 200:
                        raise RuntimeError(f"page {name!r} ({path}) answered {status}")
                    if len(seconds) >= MIN_SAMPLES and sum(seconds) > PAGE_BUDGET_SECONDS:
                        break  # a page this slow is measured well enough: n says how often
                timings[name] = {"status": status, "bytes": len(answer.content), **ms(seconds)}
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            login_bytes = await first_load(http, "/login")
        async with httpx.AsyncClient(
            base_url=base, cookies={SESSION_COOKIE: cookies["branch"]}, timeout=60
        ) as http:
            branch_bytes = await first_load(http, "/branch")
        web.should_exit = True
        await task
    finally:
        server.stop()
        engine.dispose()
    return {
        "cases": n,
        "events": events,
        "notifications": notifications,
        "deliveries_by_status": deliveries,
        "fill_seconds": round(fill_seconds, 1),
        "repeat": repeat,
        "pages_ms": timings,
        "first_load_bytes": {"sign-in page": login_bytes, "branch's cases": branch_bytes},
    }
