"""The Temporal client, plain or over TLS, for the API and the worker alike."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.service import TLSConfig

from app.core.config import Settings


def tls_config(settings: Settings) -> TLSConfig | bool:
    if not settings.TEMPORAL_TLS_ENABLED:
        return False

    def read(path):
        return path.read_bytes() if path else None

    return TLSConfig(
        server_root_ca_cert=read(settings.TEMPORAL_TLS_CA_FILE),
        client_cert=read(settings.TEMPORAL_TLS_CERT_FILE),
        client_private_key=read(settings.TEMPORAL_TLS_KEY_FILE),
        domain=settings.TEMPORAL_TLS_SERVER_NAME,
    )


async def connect(settings: Settings, *, lazy: bool = False) -> Client:
    """A client for the configured namespace; lazy ones connect on first use and retry after."""
    return await Client.connect(
        settings.TEMPORAL_HOST,
        namespace=settings.TEMPORAL_NAMESPACE,
        tls=tls_config(settings),
        lazy=lazy,
    )
