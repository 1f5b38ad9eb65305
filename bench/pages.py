"""The workbench's pages with a large projection (``python -m bench --pages N``).

Fills a SQLite projection with N cases of a district (streets, compounds, units;
about 10 events a case through the projection's write path; those of the last
30 days one in five open, many of them overdue), serves the
workbench on loopback over an embedded Temporal dev server, and times each
page as its person opens it, one request after another: the time measured is
the whole loopback round trip, so it bounds the server's time from above.
Also the bytes of a first load (the page and every asset it loads).
"""

from __future__ import annotations

import asyncio
import random
import re
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from api.app import create_app
from bench.lives import live
from bench.stack import free_port_pair
from bench.stats import ms
from engine.embedded import EmbeddedTemporal
from models.publication import CaseChanges
from models.tables import CaseEventRecord
from org.loader import parse_org
from policy.loader import load_policy
from settings import Settings
from store.engine import make_engine
from store.org import activate_org
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


def fill(engine: Engine, n: int, now: datetime, seed: int = 7) -> list[str]:
    """N cases raised over the last year, with random lives (``bench.lives``),
    written through the projection's own write path a thousand cases a transaction.
    Cases of the last 30 days may still be open (one in five); older ones have ended."""
    rng = random.Random(seed)
    compounds = [
        f"s{s}c{c}k{k}"
        for s in range(STREETS)
        for c in range(COMMUNITIES_PER_STREET)
        for k in range(COMPOUNDS_PER_COMMUNITY)
    ]
    ids: list[str] = []
    batch: list[CaseChanges] = []
    for i in range(n):
        compound = rng.choice(compounds)
        street = compound.split("c")[0]
        pool = [f"{kind}_{street}" for kind in KINDS]
        raised = now - timedelta(minutes=rng.randint(1, 365 * 24 * 60))
        settled = raised < now - SETTLED_AFTER  # a whistle is done with within weeks
        life = live(rng, f"bench-{i:07d}", compound, pool, raised, settled=settled)
        ids.append(life.case_id)
        batch.append(CaseChanges(summary=life.summary(len(life.events)), events=life.events))
        if len(batch) >= BATCH:
            write_many(engine, batch)
            batch = []
    if batch:
        write_many(engine, batch)
    return ids


PEOPLE = {
    "branch": ("branch", ["s0c0k0"], None, None),
    "unit": ("department", [], "police_s0", None),
    "station": ("station", [], None, "s0"),
    "auditor": ("auditor", [], None, None),
}


def pages_of(case_id: str, quarter: str) -> dict[str, tuple[str, str]]:
    """Page name -> (person, path)."""
    return {
        "branch: my cases": ("branch", "/branch"),
        "branch: raise form": ("branch", "/branch/raise"),
        "unit: inbox": ("unit", "/unit"),
        "unit: inbox refresh": ("unit", "/unit/rows"),
        "station: street": ("station", "/station"),
        "auditor: search": ("auditor", "/audit?text=%E6%B6%88%E9%98%B2"),
        "auditor: case page": ("auditor", f"/case/{case_id}"),
        "auditor: case audit": ("auditor", f"/audit/case/{case_id}"),
        "auditor: assessment": ("auditor", f"/audit/assessment?quarter={quarter}"),
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
    ids = fill(engine, n, now)
    fill_seconds = time.perf_counter() - began
    with engine.connect() as conn:
        events = conn.execute(select(func.count()).select_from(CaseEventRecord)).scalar_one()
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
        for name, (role, path) in pages_of(ids[len(ids) // 2], quarter).items():
            async with httpx.AsyncClient(
                base_url=base, cookies={SESSION_COOKIE: cookies[role]}, timeout=120
            ) as http:
                seconds: list[float] = []
                status = 0
                for _ in range(repeat):
                    start = time.perf_counter()
                    answer = await http.get(path)
                    seconds.append(time.perf_counter() - start)
                    status = answer.status_code
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
        "fill_seconds": round(fill_seconds, 1),
        "repeat": repeat,
        "pages_ms": timings,
        "first_load_bytes": {"sign-in page": login_bytes, "branch's cases": branch_bytes},
    }
