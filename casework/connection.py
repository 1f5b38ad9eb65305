"""Connect to the Temporal cluster named by the settings."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client, TLSConfig
from temporalio.runtime import Runtime

from models.errors import EngineUnavailable
from settings import Settings


class TemporalUnreachable(EngineUnavailable):
    """No connection to Temporal."""


def _read(path: Path | None) -> bytes | None:
    return Path(path).expanduser().read_bytes() if path else None


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """A client of the cluster; raises TemporalUnreachable (an EngineUnavailable).

    ``runtime``: the SDK runtime whose telemetry the client uses (the worker's exports
    its metrics); None: the SDK's default."""
    tls: TLSConfig | bool = False
    if settings.temporal_tls or settings.temporal_tls_cert or settings.temporal_tls_ca:
        tls = TLSConfig(
            server_root_ca_cert=_read(settings.temporal_tls_ca),
            client_cert=_read(settings.temporal_tls_cert),
            client_private_key=_read(settings.temporal_tls_key),
        )
    try:
        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            tls=tls,
            api_key=settings.temporal_api_key,
            runtime=runtime,
        )
    except RuntimeError as err:
        raise TemporalUnreachable(
            f"cannot reach Temporal at {settings.temporal_address} "
            f"(namespace {settings.temporal_namespace}): {err}"
        ) from None
