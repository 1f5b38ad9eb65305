"""Gauges read from the projection when Prometheus scrapes: what SQL holds now.

Every query is a count over an index range that shrinks as work gets done (open
cases by ``ix_cases_status_level``, unplanned notifications by
``ix_notifications_planned_at``, pending and failed deliveries by
``ix_deliveries_status_next_attempt_at``), so a scrape stays cheap however many
cases are closed and notifications delivered. Each worker serves the same values:
aggregate them with ``max``, not ``sum``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from models.case import CaseStatus
from models.levels import WhistleLevel
from store.deliveries import CASES, DELIVERIES, FAILED, NOTIFICATIONS, PENDING

OPEN_STATUSES = [status.value for status in CaseStatus if status.is_open]

log = structlog.get_logger("whistle.observe")


class ProjectionCollector(Collector):
    """Cases open by whistle and status, the outbox backlog and the dead letters."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def describe(self) -> list[GaugeMetricFamily]:
        # Registering must not query the database: these are the families collect() yields.
        return [*self._families(), _readable(0), _duration(0.0)]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        started = time.perf_counter()
        families = self._families()
        try:
            with self._engine.connect() as conn:
                _fill(conn, *families)
        except Exception as err:  # SQL unreachable, or a bug: the rest still scrapes
            # The scrape still answers (the SDK's and the process's metrics matter
            # most in an outage): the projection's gauges are left out and say why.
            log.warning("projection metrics unreadable", error=str(err).splitlines()[0])
            yield _readable(0)
            return
        yield from families
        yield _readable(1)
        yield _duration(time.perf_counter() - started)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "whistle_cases_open",
                "Open cases in the projection, by whistle and status.",
                labels=["level", "status"],
            ),
            GaugeMetricFamily(
                "whistle_outbox_backlog",
                "Notifications not yet delivered: unplanned (no dispatcher has chosen "
                "their channels yet: none runs, or no channels file) and pending "
                "(deliveries waiting for a send or a retry).",
                labels=["stage"],
            ),
            GaugeMetricFamily(
                "whistle_deliveries_failed",
                "Deliveries failed after their channel's attempts (dead letters), "
                "until sent again (whistle notifications retry failed).",
            ),
        )


def _fill(
    conn: Connection,
    cases: GaugeMetricFamily,
    backlog: GaugeMetricFamily,
    failed: GaugeMetricFamily,
) -> None:
    status, level = CASES.c.status, CASES.c.level
    query = select(status, level, func.count()).where(status.in_(OPEN_STATUSES))
    counted = {(s, lv): n for s, lv, n in conn.execute(query.group_by(status, level))}
    # Every whistle and open status, zeros too: a series that vanishes reads as no data.
    for each_level in WhistleLevel:
        for each_status in OPEN_STATUSES:
            value = counted.get((each_status, each_level.value), 0)
            cases.add_metric([each_level.value, each_status], value)
    unplanned = select(func.count()).where(NOTIFICATIONS.c.planned_at.is_(None))
    backlog.add_metric(["unplanned"], conn.scalar(unplanned) or 0)
    deliveries = select(DELIVERIES.c.status, func.count()).where(
        DELIVERIES.c.status.in_([PENDING, FAILED])
    )
    rows = conn.execute(deliveries.group_by(DELIVERIES.c.status)).all()
    by_status: dict[str, int] = {status: count for status, count in rows}
    backlog.add_metric(["pending"], by_status.get(PENDING, 0))
    failed.add_metric([], by_status.get(FAILED, 0))


def _readable(value: int) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "whistle_projection_readable",
        "1 if the last scrape read the projection's gauges from SQL, 0 if it could not.",
        value=value,
    )


def _duration(seconds: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "whistle_projection_scrape_seconds",
        "How long the last scrape's reads of the projection took.",
        value=seconds,
    )
