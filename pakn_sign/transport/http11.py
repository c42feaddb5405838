"""A lean httpx transport for the message POST: HTTP/1.1 over asyncio TLS streams.

httpx stays the client API (``httpx.Request`` in, ``httpx.Response`` out, httpx's exception
classes), but the layers under it (httpcore's pool and state machine, h11, anyio's TLS
stream wrapper) cost ~1 ms of CPU per request in the transport benchmark, more than the
server's whole HTTP stack. This transport writes the request head itself, streams the body
from ``request.stream`` and parses the response head and body (``Content-Length``,
``chunked`` or close-delimited; RFC 9112 §6.3) with a hard size limit.

What stays as it was: TLS is the caller's pinned ``SSLContext`` (no OS trust store, hostname
checked by the context), per-operation timeouts, at most ``max_connections`` connections,
idle connections kept for reuse (a connection the peer closed is dropped before reuse), and
every network failure surfaces as an ``httpx.TransportError`` subclass.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterable

import httpx

__all__ = ["LeanTransport"]

_MAX_HEAD = 64 * 1024
_COALESCE = 64 * 1024


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        # An idle connection that saw EOF was closed by the peer (keep-alive timeout).
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


class LeanTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 (TLS) with keep-alive; responses are read whole, up to ``max_response``.

    Args:
        ssl_context: the pinned client context (``tls.client_context``).
        timeout: seconds for connecting and for each read or write.
        max_connections: open connections at most (others wait for one).
        max_response: response bodies over this many bytes are refused.
    """

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        *,
        timeout: float = 30.0,
        max_connections: int = 32,
        max_response: int = 1024 * 1024,
    ):
        self._ctx = ssl_context
        self._timeout = timeout
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[tuple[str, int], list[_Conn]] = {}
        self._max_response = max_response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "https" or url.host == "":
            raise httpx.UnsupportedProtocol(f"only https:// URLs: {url}")
        key = (url.host, url.port or 443)
        async with self._slots:
            conn = await self._checkout(key)
            try:
                status, headers, body, reusable = await self._exchange(conn, request)
            except BaseException:
                conn.close()
                raise
            if reusable:
                self._idle.setdefault(key, []).append(conn)
            else:
                conn.close()
        return httpx.Response(status, headers=headers, content=body, request=request)

    async def _checkout(self, key: tuple[str, int]) -> _Conn:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if conn.usable():
                return conn
            conn.close()
        try:
            async with asyncio.timeout(self._timeout):
                reader, writer = await asyncio.open_connection(
                    key[0], key[1], ssl=self._ctx, server_hostname=key[0], limit=_MAX_HEAD
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"connecting to {key[0]}:{key[1]} timed out") from exc
        except (OSError, ssl.SSLError) as exc:  # refused, reset, TLS handshake (pins) failed
            raise httpx.ConnectError(f"{key[0]}:{key[1]}: {exc}") from exc
        return _Conn(reader, writer)

    async def _exchange(
        self, conn: _Conn, request: httpx.Request
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes, bool]:
        if "content-length" not in request.headers:
            raise httpx.LocalProtocolError("the lean transport sends sized bodies only")
        head = [b"%s %s HTTP/1.1\r\n" % (request.method.encode(), request.url.raw_path)]
        head += [b"%s: %s\r\n" % (name, value) for name, value in request.headers.raw]
        head.append(b"\r\n")
        # Small pieces go out together (one TLS record and send for a small message).
        pending, size = [b"".join(head)], 0
        try:
            stream = request.stream
            assert isinstance(stream, AsyncIterable)
            async for chunk in stream:
                pending.append(chunk)
                size += len(chunk)
                if size >= _COALESCE:
                    await self._write(conn, pending)
                    pending, size = [], 0
            await self._write(conn, pending)
            async with asyncio.timeout(self._timeout):
                return await self._read_response(conn.reader, request.method)
        except TimeoutError as exc:
            raise httpx.ReadTimeout(f"{request.url}: no progress for {self._timeout} s") from exc
        except asyncio.IncompleteReadError as exc:
            raise httpx.RemoteProtocolError(f"{request.url}: connection closed early") from exc
        except asyncio.LimitOverrunError as exc:
            raise httpx.RemoteProtocolError(f"{request.url}: response head too large") from exc
        except (OSError, ssl.SSLError) as exc:
            raise httpx.NetworkError(f"{request.url}: {exc}") from exc

    async def _write(self, conn: _Conn, pieces: list[bytes]) -> None:
        conn.writer.write(b"".join(pieces))
        async with asyncio.timeout(self._timeout):
            await conn.writer.drain()  # back-pressure: at most one coalesced piece buffered

    async def _read_response(
        self, reader: asyncio.StreamReader, method: str
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes, bool]:
        lines = (await reader.readuntil(b"\r\n\r\n"))[:-4].split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or parts[0] != b"HTTP/1.1" or not parts[1].isdigit():
            raise httpx.RemoteProtocolError(f"not an HTTP/1.1 status line: {lines[0][:80]!r}")
        status = int(parts[1])
        headers: list[tuple[bytes, bytes]] = []
        length: int | None = None
        chunked = False
        keep = True
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                raise httpx.RemoteProtocolError("malformed response header")
            name, value = name.strip().lower(), value.strip()
            if name == b"content-length":
                if not value.isdigit():
                    raise httpx.RemoteProtocolError("malformed Content-Length")
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = value.lower().endswith(b"chunked")
            elif name == b"connection":
                keep = b"close" not in value.lower()
            headers.append((name, value))
        if status < 200:
            raise httpx.RemoteProtocolError(f"unexpected informational response {status}")
        if status in (204, 304) or method == "HEAD":
            body = b""
        elif chunked:
            body = await self._read_chunked(reader)
            headers = [(n, v) for n, v in headers if n != b"transfer-encoding"]
        elif length is not None:
            if length > self._max_response:
                raise httpx.RemoteProtocolError(f"response of {length} bytes is over the limit")
            body = await reader.readexactly(length)
        else:  # delimited by the peer closing the connection
            body = await reader.read(self._max_response + 1)
            if len(body) > self._max_response:
                raise httpx.RemoteProtocolError("response over the limit")
            keep = False
        return status, headers, body, keep

    async def _read_chunked(self, reader: asyncio.StreamReader) -> bytes:
        out = bytearray()
        while True:
            size_line = (await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as exc:
                raise httpx.RemoteProtocolError("malformed chunk size") from exc
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return bytes(out)
            if len(out) + size > self._max_response:
                raise httpx.RemoteProtocolError("response over the limit")
            out += await reader.readexactly(size)
            if await reader.readexactly(2) != b"\r\n":
                raise httpx.RemoteProtocolError("malformed chunk")

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()
