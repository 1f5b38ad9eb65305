"""Prometheus metrics: what the publishing activity counts (each event once), the
API's requests by route template, the projection's gauges on their indexes, the
Grafana dashboard's queries, and a real Prometheus server scraping the API and a
worker process (whistle's metrics and the Temporal SDK's)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event
from sqlalchemy.engine import Engine
from temporalio.testing import ActivityEnvironment

from activities.publish import CasePublisher
from casework.cases import raise_whistle
from models.case import CaseEvent, RaiseWhistle
from models.publication import CaseChanges, CaseSummary
from observe.collectors import ProjectionCollector
from policy.loader import parse_policy
from store.engine import make_engine
from store.projection import write_many
from tests.apikit import serve_api
from tests.ports import free_port
from tests.rowkit import case_summary
from tests.stackkit import QUEUE, running_stack

PROMETHEUS = Path("/usr/bin/prometheus")
DASHBOARD = Path(__file__).parent.parent / "observe" / "grafana" / "whistle.json"
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'whistle.db'}")
    yield engine
    engine.dispose()


def summary(case_id: str, level: str = "emergency", status: str = "in_progress") -> CaseSummary:
    return case_summary(case_id, T0, level=level, status=status)


def ev(seq: int, kind: str, at: datetime, **fields: Any) -> CaseEvent:
    return CaseEvent(seq=seq, kind=kind, at=at, actor=fields.pop("actor", "system"), **fields)


# --- the publishing activity ---------------------------------------------------


def test_publishing_counts_each_new_event_once(sqlite: Engine) -> None:
    deadline = T0 + timedelta(minutes=30)
    fired = deadline + timedelta(seconds=3)  # the deadline's task ran 3 s late
    missed = {"deadline": deadline.isoformat()}
    events = [
        ev(1, "raised", T0, level="emergency"),
        ev(2, "dispatched", T0, level="emergency"),
        ev(3, "report_in_missed", fired, level="emergency", department="police", detail=missed),
        ev(4, "report_in_missed", fired, level="emergency", department="fire", detail=missed),
        ev(5, "supervised", fired, level="emergency"),
        ev(6, "escalated", fired, level="enforcement", from_level="emergency", to_level="enforcement"),
        ev(7, "escalated", fired + timedelta(hours=1), level="joint", actor="branch",
           from_level="enforcement", to_level="joint"),
    ]  # fmt: skip
    by_deadline = {"from_level": "emergency", "to_level": "enforcement", "cause": "deadline_missed"}
    by_hand = {"from_level": "enforcement", "to_level": "joint", "cause": "action"}
    missed_labels = {"deadline": "report_in", "level": "emergency"}

    def counted() -> tuple[float, ...]:
        return (
            sample("whistle_escalations_total", **by_deadline),
            sample("whistle_escalations_total", **by_hand),
            sample("whistle_deadlines_missed_total", **missed_labels),
            sample("whistle_escalation_lag_seconds_count"),
            sample("whistle_escalation_lag_seconds_sum"),
            sample("whistle_events_projected_total", kind="escalated"),
        )

    before = counted()
    publisher = CasePublisher(sqlite)
    environment = ActivityEnvironment()
    first = CaseChanges(summary=summary("case-metrics-1"), events=events[:4])
    second = CaseChanges(summary=summary("case-metrics-1", "joint"), events=events[2:])
    # The first batch, the second overlapping it, and both again (retries): each event once.
    for changes in (first, second, first, second):
        environment.run(publisher.publish_case_changes, changes)
    after = counted()
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 2, 1, 3.0, 2]


# --- the API's requests -----------------------------------------------------------


async def test_requests_are_labelled_by_route_template(
    api_url: str, tokens: dict[str, str]
) -> None:
    routes = {
        f"/cases/case-{int(time.time() * 1000)}": ("/cases/{case_id}", "404"),
        "/no/such/page/42": ("unmatched", "404"),
        "/assets/nope.css": ("/assets/{path}", "404"),
        "/healthz": ("/healthz", "200"),
    }
    before = {
        path: sample("whistle_http_requests_total", route=route, method="GET", status=status)
        for path, (route, status) in routes.items()
    }
    async with httpx.AsyncClient(base_url=api_url) as http:
        for path in routes:
            await http.get(path, headers={"Authorization": f"Bearer {tokens['auditor']}"})
        page = (await http.get("/metrics")).text
    for path, (route, status) in routes.items():
        now = sample("whistle_http_requests_total", route=route, method="GET", status=status)
        assert now == before[path] + 1, path
    assert (
        'whistle_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/cases/{case_id}"}'
        in page
    )
    assert 'route="/cases/case-' not in page  # never a raw path as a label


# --- the projection's gauges --------------------------------------------------------


def test_projection_gauges_count_from_their_indexes(sqlite: Engine) -> None:
    batches = [
        CaseChanges(summary=summary(f"case-closed-{n}", "emergency", "closed")) for n in range(50)
    ]
    batches += [
        CaseChanges(summary=summary("case-open-1", "emergency", "awaiting_report_in")),
        CaseChanges(summary=summary("case-open-2", "emergency", "awaiting_report_in")),
        CaseChanges(summary=summary("case-open-3", "joint", "joint_meeting")),
    ]
    write_many(sqlite, batches)
    statements: list[tuple[str, Any]] = []

    def seen(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(sqlite, "before_cursor_execute", seen)
    try:
        families = {f.name: f for f in ProjectionCollector(sqlite).collect()}
    finally:
        event.remove(sqlite, "before_cursor_execute", seen)
    open_cases = {tuple(s.labels.values()): s.value for s in families["whistle_cases_open"].samples}
    assert open_cases[("emergency", "awaiting_report_in")] == 2
    assert open_cases[("joint", "joint_meeting")] == 1
    assert sum(open_cases.values()) == 3 and len(open_cases) == 16  # 4 whistles x 4 open statuses
    assert families["whistle_projection_readable"].samples[0].value == 1
    # Every read is a range of an index: closed cases and delivered mail are never read.
    assert len(statements) == 3
    with sqlite.connect() as conn:
        for statement, parameters in statements:
            explained = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = " | ".join(str(row[-1]) for row in explained)
            assert "USING COVERING INDEX" in plan and "SCAN" not in plan, (statement, plan)


# --- the Grafana dashboard ------------------------------------------------------------


def test_the_dashboard_queries_metrics_that_exist(sqlite: Engine) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 15
    families = [*REGISTRY.collect(), *ProjectionCollector(sqlite).describe()]
    exposed = {  # the names a scrape shows, by the family's type
        name
        for family in families
        for name in {
            "counter": [f"{family.name}_total"],
            "histogram": [f"{family.name}_{part}" for part in ("bucket", "count", "sum")],
        }.get(family.type, [family.name])
    }
    for expr in exprs:
        for name in re.findall(r"\bwhistle_[a-z_]+", expr):
            assert name in exposed, (name, expr)
    titles = " ".join(p["title"] for p in dashboard["panels"])
    for topic in ("API", "open", "Escalations", "Missed", "lag", "backlog", "failures"):
        assert topic in titles


# --- a real Prometheus --------------------------------------------------------------------

FAST = parse_policy('[levels.publicity]\nreport_in = "1s"\nresolve = "1h"\n', source="metrics")


@pytest.mark.e2e
async def test_prometheus_scrapes_the_api_and_the_worker(tmp_path: Path) -> None:
    if not PROMETHEUS.exists():
        if os.environ.get("CI"):
            pytest.fail("Prometheus is not installed: .ci/run installs the Debian package")
        pytest.skip("Prometheus is not installed here (apt-get install prometheus)")
    worker_port = free_port()
    async with running_stack(tmp_path, worker_http_port=str(worker_port)) as stack:
        client = await stack.server.connect()
        engine = make_engine(f"sqlite:///{stack.db}")
        async with serve_api(client, engine) as api:
            prometheus_url, prometheus = start_prometheus(
                tmp_path, api=api.removeprefix("http://"), worker=f"127.0.0.1:{worker_port}"
            )
            try:
                request = RaiseWhistle(
                    compound="Anningyuan", level=1, category="fire_safety", title="m", policy=FAST
                )
                await raise_whistle(client, request, task_queue=QUEUE)  # escalates after 1 s
                async with httpx.AsyncClient(base_url=prometheus_url, timeout=10) as http:
                    assert (await http.get(f"{api}/cases")).status_code == 401  # counted
                    found = await query_until(
                        http,
                        'whistle_escalations_total{cause="deadline_missed",job="whistle-worker"}',
                    )
                    assert found[0]["metric"]["to_level"] == "emergency"
                    assert await query_until(http, 'whistle_cases_open{level="emergency"} > 0')
                    api_seen = (
                        'whistle_http_requests_total{job="whistle-api",route="/cases",status="401"}'
                    )
                    assert await query_until(http, api_seen)
                    sdk = "temporal_workflow_task_schedule_to_start_latency_count"
                    assert await query_until(http, f'{sdk}{{job="whistle-worker"}}')
                    assert await query_until(http, "whistle_escalation_lag_seconds_count > 0")
                    targets = (await http.get("/api/v1/targets")).json()["data"]["activeTargets"]
                    assert {t["labels"]["job"]: t["health"] for t in targets} == {
                        "whistle-api": "up",
                        "whistle-worker": "up",
                    }
                    await dashboard_queries_answer(http)
            finally:
                prometheus.terminate()
                prometheus.wait(30)
        engine.dispose()


async def dashboard_queries_answer(http: httpx.AsyncClient) -> None:
    """Each of the dashboard's queries parses, and each SDK series it reads exists
    (failures only once something failed)."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    for expr in exprs:
        answer = await http.get("/api/v1/query", params={"query": expr})
        assert answer.json()["status"] == "success", (expr, answer.text)
    sdk = {n for e in exprs for n in re.findall(r"\btemporal_[a-z_]+", e)} - {
        "temporal_request_failure"
    }
    for name in sorted(sdk):
        assert await query_until(http, f'count({{__name__="{name}"}})', seconds=10), name


def start_prometheus(root: Path, *, api: str, worker: str) -> tuple[str, subprocess.Popen[bytes]]:
    config = root / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
        "scrape_configs:\n"
        f"  - {{job_name: whistle-api, static_configs: [{{targets: ['{api}']}}]}}\n"
        f"  - {{job_name: whistle-worker, static_configs: [{{targets: ['{worker}']}}]}}\n"
    )
    port = free_port()
    data = root / "prometheus-data"
    shutil.rmtree(data, ignore_errors=True)
    with (root / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                str(PROMETHEUS),
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return f"http://127.0.0.1:{port}", process


async def query_until(http: httpx.AsyncClient, query: str, seconds: float = 60) -> list[Any]:
    """The query's result once it has one (Prometheus up, scraped, the case moved)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            answer = await http.get("/api/v1/query", params={"query": query})
            result: list[Any] = answer.json()["data"]["result"] if answer.status_code == 200 else []
        except httpx.HTTPError:
            result = []  # not listening yet
        if result:
            return result
        assert time.monotonic() < deadline, f"Prometheus never had {query}"
        await asyncio.sleep(0.5)
