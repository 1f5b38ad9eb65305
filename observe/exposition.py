"""What the API's and the worker's /metrics share: the page and its optional token."""

from __future__ import annotations

import hmac

from prometheus_client import REGISTRY, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import CollectorRegistry

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The classic text format, which every Prometheus (and the SDK's exporter) speaks."""


def render(*registries: CollectorRegistry) -> bytes:
    """The process's default registry, then ``registries``: blocking (a collector may
    read SQL), so callers run it in a thread."""
    return b"".join(generate_latest(r) for r in (REGISTRY, *registries))


def allowed(authorization: str | None, token: str | None) -> bool:
    """No token set: open (keep /metrics off the public side of the proxy). Set: the
    request must carry it as a bearer token."""
    if not token:
        return True
    scheme, _, given = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer":  # the scheme's name is case-insensitive (RFC 9110)
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())
