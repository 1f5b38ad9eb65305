"""Connect to the Temporal cluster named by the settings."""

from __future__ import annotations

from temporalio.client import Client, TLSConfig

from settings import Settings


def _read(path: object) -> bytes | None:
    from pathlib import Path

    return Path(str(path)).expanduser().read_bytes() if path else None


async def connect(settings: Settings) -> Client:
    tls: TLSConfig | bool = False
    if settings.temporal_tls or settings.temporal_tls_cert or settings.temporal_tls_ca:
        tls = TLSConfig(
            server_root_ca_cert=_read(settings.temporal_tls_ca),
            client_cert=_read(settings.temporal_tls_cert),
            client_private_key=_read(settings.temporal_tls_key),
        )
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        tls=tls,
        api_key=settings.temporal_api_key,
    )
