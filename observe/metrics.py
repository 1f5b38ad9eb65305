"""Every metric whistle defines itself, in one place (the Temporal SDK's own are
``temporal_*``, served beside these by the worker: ``observe.sdk``).

Counters and histograms live in the process's default registry: the API's
request metrics in the API process, the projection's in the worker. The gauges
read from SQL at scrape time are ``observe.collectors``'.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram, disable_created_metrics

# No ``*_created`` series beside every counter and histogram: they double the
# series and nothing here reads them (Prometheus notices resets by itself). The
# function is untyped in prometheus-client, hence the ignore.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Seconds: a fast route answers in milliseconds, a case's update waits on its
# workflow task (tenths), a slow page or export takes seconds.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Seconds late: on 2 cores p99 stays under 1 s up to 10 deadlines a second and
# passes 5 s at 20-30 a second (bench/RESULTS.md); beyond a minute is an outage.
LAG_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

HTTP_REQUESTS = Counter(
    "whistle_http_requests",
    "API requests answered, by route template (never the raw path), method and status.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "whistle_http_request_duration_seconds",
    "API request time, from the first byte in to the last byte out, by route template.",
    ["route", "method"],
    buckets=HTTP_BUCKETS,
)

EVENTS_PROJECTED = Counter(
    "whistle_events_projected",
    "Case events newly written to the SQL projection, by kind (a re-published batch "
    "counts nothing).",
    ["kind"],
)
ESCALATIONS = Counter(
    "whistle_escalations",
    "Cases sent up a whistle, newly projected, by the whistle left and the whistle entered; "
    "cause: deadline_missed (a report-in or resolve deadline fell due) or action (a hand "
    "escalation, a joint meeting asked for, returns, an unresolved sign-off).",
    ["from_level", "to_level", "cause"],
)
DEADLINES_MISSED = Counter(
    "whistle_deadlines_missed",
    "Deadlines missed, newly projected: report_in and resolve once per late unit, "
    "joint_meeting once per case; level: the whistle it was missed at.",
    ["deadline", "level"],
)
ESCALATION_LAG = Histogram(
    "whistle_escalation_lag_seconds",
    "Escalations on a missed deadline: the escalation's time (the workflow's clock when "
    "its timer's task ran) minus the deadline it missed. How late the engine acted, as "
    "python -m bench measures it; a projection outage does not add to it.",
    buckets=LAG_BUCKETS,
)
PROJECTION_LAG = Histogram(
    "whistle_projection_lag_seconds",
    "Case events newly projected: the wall clock when written to SQL minus the event's "
    "time. How far the projection and the notification outbox trail the cases.",
    buckets=LAG_BUCKETS,
)
