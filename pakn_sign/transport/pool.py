"""httpx connection pool with a cheap idle-connection check.

Before every request httpcore asks each pooled connection ``has_expired()``, which calls
``get_extra_info("is_readable")`` on the network stream. httpcore's anyio stream answers by
asking anyio for the raw socket, and anyio's TLS stream rebuilds its whole attribute map for
that (``getpeername`` and a dozen lambdas) on every call: ~16 times per message, about a
third of the HTTP client's CPU in the transport benchmark. The wrapper below looks the
socket up once per stream and polls it directly; everything else is delegated unchanged
(TLS, timeouts and exception mapping stay httpcore's and httpx's).
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["pooled_transport"]


def _readable(sock: socket.socket | None) -> bool:
    """True if a read would not block (data or EOF): an idle connection the peer closed."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True  # as httpcore: a socket without a descriptor counts as closed
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream):
        self._inner = inner
        self._sock: socket.socket | None = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return _readable(self._sock)
        if info == "socket":
            return self._sock
        return self._inner.get_extra_info(info)


class _Backend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _Stream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def pooled_transport(ctx: ssl.SSLContext, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """An httpx transport (no proxies, no environment) over the cheaper-checking pool."""
    transport = httpx.AsyncHTTPTransport(verify=ctx, limits=limits, trust_env=False)
    if not isinstance(getattr(transport, "_pool", None), httpcore.AsyncConnectionPool):
        return transport  # another httpx layout: keep its own pool (slower, same behaviour)
    # httpx builds its pool without a network-backend parameter; this is the same pool
    # (same arguments as httpx 0.28's default branch) with the wrapped anyio backend.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ctx,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_Backend(),
    )
    return transport
