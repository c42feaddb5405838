"""HTTP(S) client side of the exchange (httpx): streams frozen bytes, returns raw receipts.

Wire format of ``POST /v1/messages``: header ``Pakn-Header-Length: N``; body = the N bytes
of the sealed envelope header, then every part's bytes in manifest order (sizes are in the
signed manifest, so no other framing is needed and no part is ever buffered whole).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable, Sequence

import httpx

from ..errors import DeliveryError
from .faults import FaultInjector
from .http11 import LeanTransport
from .store import PartRef

__all__ = ["ENVELOPE_MEDIA_TYPE", "MAX_RECEIPT_BYTES", "HTTPTransport", "url_scheme"]

ENVELOPE_MEDIA_TYPE = "application/vnd.pakn.envelope"
MAX_RECEIPT_BYTES = 256 * 1024
_CHUNK = 256 * 1024
_LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=32)


def url_scheme(endpoint: str) -> str:
    """The scheme as an HTTP client reads it: case-insensitive (RFC 3986 §3.1)."""
    return endpoint.split(":", 1)[0].strip().lower()


class HTTPTransport:
    """Delivers messages over HTTP(S); one pooled client per peer TLS configuration.

    Args:
        ssl_for: returns the client ``SSLContext`` for an endpoint (pinned from the
            directory), or ``None`` for plain HTTP (loopback tests of the protocol only).
        timeout: seconds for connect/read/write.
        transport_for: an httpx transport per endpoint (in-process ASGI apps in tests).
    """

    def __init__(
        self,
        *,
        ssl_for: Callable[[str], ssl.SSLContext | None],
        timeout: float = 30.0,
        transport_for: Callable[[str], httpx.AsyncBaseTransport | None] | None = None,
    ) -> None:
        self._ssl_for = ssl_for
        self._transport_for = transport_for
        self._timeout = httpx.Timeout(timeout)
        # httpx clients are bound to the event loop they first ran on: one per loop, and the
        # clients of loops that have closed are dropped when a new one is made.
        self._clients: dict[tuple[str, int, asyncio.AbstractEventLoop], httpx.AsyncClient] = {}
        self._transports: dict[tuple[str, int], httpx.AsyncBaseTransport] = {}

    def _transport(self, endpoint: str) -> httpx.AsyncBaseTransport:
        """The transport for ``endpoint``, used without the client's layers.

        A message POST needs none of what ``AsyncClient.send`` adds (auth, redirects,
        cookies, event hooks); over TLS it is the lean HTTP/1.1 transport (``http11.py``:
        client CPU per bare request 0.72 -> 0.14 ms).
        """
        ctx = self._ssl_for(endpoint)
        key = (endpoint, id(ctx))
        pool = self._transports.get(key)
        if pool is None:
            injected = self._transport_for(endpoint) if self._transport_for else None
            if injected is not None:
                pool = injected
            elif ctx is None and url_scheme(endpoint) != "http":
                # Only http:// goes without a context: an https endpoint however spelled
                # (schemes are case-insensitive, RFC 3986 §3.1) never goes unverified.
                raise DeliveryError(f"no pinned TLS context for {endpoint}")
            elif ctx is not None:
                pool = LeanTransport(
                    ctx,
                    timeout=self._timeout.read or 30.0,
                    max_connections=_LIMITS.max_connections or 32,
                    max_response=MAX_RECEIPT_BYTES,
                )
            else:  # plain HTTP (loopback protocol tests only)
                pool = httpx.AsyncHTTPTransport(verify=False, limits=_LIMITS, trust_env=False)
            self._transports[key] = pool
        return pool

    def _client(self, endpoint: str) -> httpx.AsyncClient:
        ctx = self._ssl_for(endpoint)
        loop = asyncio.get_running_loop()
        key = (endpoint, id(ctx), loop)
        client = self._clients.get(key)
        if client is None:
            for dead in [k for k in self._clients if k[2].is_closed()]:
                del self._clients[dead]
            if ctx is None and self._transport_for is None and url_scheme(endpoint) != "http":
                raise DeliveryError(f"no pinned TLS context for {endpoint}")  # as _transport
            client = httpx.AsyncClient(
                verify=ctx if ctx is not None else False,
                transport=self._transport_for(endpoint) if self._transport_for else None,
                timeout=self._timeout,
                limits=_LIMITS,
                trust_env=False,  # never pick up proxies or CA bundles from the environment
            )
            self._clients[key] = client
        return client

    async def post_message(
        self, endpoint: str, header: bytes, parts: Sequence[PartRef], faults: FaultInjector
    ) -> tuple[int, bytes]:
        """Stream one message; return (status, receipt bytes). Network errors -> DeliveryError."""

        async def body() -> AsyncIterator[bytes]:
            yield header
            for index, part in enumerate(parts):
                for chunk in part.chunks(_CHUNK):
                    yield chunk
                    if index == 0:
                        faults.hit("sender.mid_upload")

        total = len(header) + sum(p.size for p in parts)
        request = httpx.Request(
            "POST",
            endpoint.rstrip("/") + "/v1/messages",
            content=body(),
            headers={
                "content-type": ENVELOPE_MEDIA_TYPE,
                "content-length": str(total),
                "pakn-header-length": str(len(header)),
            },
            extensions={"timeout": self._timeout.as_dict()},
        )
        try:
            response = await self._transport(endpoint).handle_async_request(request)
            try:
                await response.aread()
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise DeliveryError(f"POST to {endpoint} failed: {type(exc).__name__}: {exc}") from exc
        return self._receipt(response, endpoint)

    async def get_receipt(self, endpoint: str, message_id: str) -> bytes | None:
        """The receipt the peer stored for ``message_id``, or None if it has none.

        Through the same transport as the POST: its response limit applies before the body
        is read (the client's ``get`` would buffer any size first).
        """
        request = httpx.Request(
            "GET",
            endpoint.rstrip("/") + f"/v1/receipts/{message_id}",
            extensions={"timeout": self._timeout.as_dict()},
        )
        try:
            response = await self._transport(endpoint).handle_async_request(request)
            try:
                await response.aread()
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise DeliveryError(f"GET receipt from {endpoint} failed: {exc}") from exc
        if response.status_code == 404:
            return None
        return self._receipt(response, endpoint)[1]

    @staticmethod
    def _receipt(response: httpx.Response, endpoint: str) -> tuple[int, bytes]:
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise DeliveryError(f"{endpoint} answered HTTP {response.status_code}; will retry")
        content = response.content
        if len(content) > MAX_RECEIPT_BYTES:
            raise DeliveryError(f"{endpoint} sent an oversized response ({len(content)} bytes)")
        return response.status_code, content

    async def aclose(self) -> None:
        """Close this event loop's connections; forget those of loops that have closed."""
        loop = asyncio.get_running_loop()
        for key in [k for k in self._clients if k[2] is loop or k[2].is_closed()]:
            client = self._clients.pop(key)
            if key[2] is loop:
                await client.aclose()
        for pool in self._transports.values():
            await pool.aclose()
        self._transports.clear()
