"""A lean httpx transport for the message POST: HTTP/1.1 over asyncio TLS streams.

httpx stays the client API (``httpx.Request`` in, ``httpx.Response`` out, httpx's exception
classes), but the layers under it (httpcore's pool and state machine, h11, anyio's TLS
stream wrapper) cost ~1 ms of CPU per request in the transport benchmark, more than the
server's whole HTTP stack. This transport writes the request head itself, streams the body
from ``request.stream`` and parses the response head and body (``Content-Length``,
``chunked`` or close-delimited; RFC 9112 §6.3) with a hard size limit. Framing it would
have to guess at (both lengths, conflicting lengths, other codings, a lax chunk size) is
refused, and a connection holding bytes beyond its response is never reused.

What stays as it was: TLS is the caller's pinned ``SSLContext`` (no OS trust store, hostname
checked by the context), per-operation timeouts, at most ``max_connections`` connections,
idle connections kept for reuse (a connection the peer closed is dropped before reuse), and
every network failure surfaces as an ``httpx.TransportError`` subclass.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import AsyncIterable

import httpx

__all__ = ["LeanTransport"]

_MAX_HEAD = 64 * 1024
_COALESCE = 64 * 1024
_MAX_INFORMATIONAL = 8
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_STATUS = re.compile(rb"HTTP/1\.1 ([1-5][0-9][0-9])(?: .*)?", re.DOTALL)


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        # An idle connection that saw EOF was closed by the peer (keep-alive timeout); one
        # holding bytes nobody asked for (a 408 before a close, an injected response) would
        # hand them out as the answer to the next request.
        return (
            not self.writer.is_closing() and not self.reader.at_eof() and not _buffered(self.reader)
        )

    def close(self) -> None:
        self.writer.close()


class _Pool:
    """One event loop's share of a transport: its connection slots and idle connections.

    asyncio streams and semaphores belong to the loop that made them, so a transport used
    from a second loop (another ``asyncio.run``, another thread) gets a pool of its own
    instead of reusing a connection of a loop that may be closed or running elsewhere.
    """

    __slots__ = ("idle", "slots")

    def __init__(self, max_connections: int) -> None:
        self.slots = asyncio.Semaphore(max_connections)
        self.idle: dict[tuple[str, int], list[_Conn]] = {}


class LeanTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 (TLS) with keep-alive; responses are read whole, up to ``max_response``.

    Safe to share across event loops: each loop gets its own connections (a pool per loop;
    ``aclose`` closes the calling loop's, and a closed loop's pool is dropped).

    Args:
        ssl_context: the pinned client context (``tls.client_context``).
        timeout: seconds for connecting and for each read or write.
        max_connections: open connections at most per event loop (others wait for one).
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
        self._max_connections = max_connections
        self._pools: dict[asyncio.AbstractEventLoop, _Pool] = {}
        self._max_response = max_response

    def _pool(self) -> _Pool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            # A new loop: forget the pools of closed ones (a dead loop's connections cannot
            # be closed through it any more; their transports warn when collected, as any
            # stream left open does). Not a weak mapping: the connections hold their loop.
            for old in [lp for lp in self._pools if lp.is_closed()]:
                self._pools.pop(old, None)
            pool = self._pools.setdefault(loop, _Pool(self._max_connections))
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "https" or url.host == "":
            raise httpx.UnsupportedProtocol(f"only https:// URLs: {url}")
        key = (url.host, url.port or 443)
        pool = self._pool()
        async with pool.slots:
            conn = await self._checkout(pool, key)
            try:
                status, headers, body, reusable = await self._exchange(conn, request)
            except BaseException:
                conn.close()
                raise
            if reusable:
                pool.idle.setdefault(key, []).append(conn)
            else:
                conn.close()
        return httpx.Response(status, headers=headers, content=body, request=request)

    async def _checkout(self, pool: _Pool, key: tuple[str, int]) -> _Conn:
        idle = pool.idle.get(key)
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
        if "content-length" not in request.headers and request.method != "GET":
            raise httpx.LocalProtocolError("the lean transport sends sized bodies only")
        head = [b"%s %s HTTP/1.1\r\n" % (request.method.encode(), request.url.raw_path)]
        head += [b"%s: %s\r\n" % (name, value) for name, value in request.headers.raw]
        head.append(b"\r\n")
        # Small pieces go out together (one TLS record and send for a small message).
        pending, size = [b"".join(head)], 0
        # The body must match its Content-Length exactly (a part file changed on disk): more
        # would reach the server as a second request on this connection (RFC 9112 §11.2).
        left = int(request.headers.get("content-length", "0"))
        try:
            stream = request.stream
            assert isinstance(stream, AsyncIterable)
            async for chunk in stream:
                left -= len(chunk)
                if left < 0:
                    raise httpx.LocalProtocolError("body longer than its Content-Length")
                pending.append(chunk)
                size += len(chunk)
                if size >= _COALESCE:
                    await self._write(conn, pending)
                    pending, size = [], 0
            if left:
                raise httpx.LocalProtocolError("body shorter than its Content-Length")
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
        # RFC 9110 §15.2: 1xx responses may precede the final one; skipped, a few at most.
        for _ in range(_MAX_INFORMATIONAL + 1):
            status, headers, length, chunked, keep = await _read_head(reader)
            if status >= 200:
                break
            if status == 101:
                raise httpx.RemoteProtocolError("101 Switching Protocols answer to a POST")
        else:
            raise httpx.RemoteProtocolError("too many informational responses")
        if status in (204, 304) or method == "HEAD":
            body = b""
        elif chunked:
            body = await self._read_chunked(reader)
            headers = [(n, v) for n, v in headers if n != b"transfer-encoding"]
        elif length is not None:
            if length > self._max_response:
                raise httpx.RemoteProtocolError(f"response of {length} bytes is over the limit")
            body = await reader.readexactly(length)
        else:  # RFC 9112 §6.3 (8): delimited by the peer closing the connection
            out = bytearray()
            while chunk := await reader.read(_COALESCE):
                out += chunk
                if len(out) > self._max_response:
                    raise httpx.RemoteProtocolError("response over the limit")
            body, keep = bytes(out), False
        # Bytes beyond this response (a second, unrequested one) must never be read as the
        # answer to the next request on this connection: it is not reused.
        return status, headers, body, keep and not _buffered(reader)

    async def _read_chunked(self, reader: asyncio.StreamReader) -> bytes:
        out = bytearray()
        while True:
            line = await reader.readuntil(b"\r\n")
            size_hex = line[:-2].split(b";", 1)[0].rstrip(b" \t")
            if not _CHUNK_SIZE.fullmatch(size_hex):  # RFC 9112 §7.1: 1*HEXDIG, nothing else
                raise httpx.RemoteProtocolError("malformed chunk size")
            size = int(size_hex, 16)
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
        """Close the calling loop's idle connections (other loops' pools go with their loop)."""
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        conns = [c for cs in pool.idle.values() for c in cs] if pool is not None else []
        for conn in conns:
            conn.close()
        if not conns:
            return
        # Let the TLS close_notify go out before the loop may end (asyncio.run returns right
        # after); a peer that does not answer in time gets its connection aborted.
        closing = [asyncio.ensure_future(c.writer.wait_closed()) for c in conns]
        done, late = await asyncio.wait(closing, timeout=min(self._timeout, 5.0))
        for task in done:
            task.exception()  # retrieved: a reset while closing is not worth a warning
        for conn, task in zip(conns, closing, strict=True):
            if task in late:
                task.cancel()
                conn.writer.transport.abort()


def _buffered(reader: asyncio.StreamReader) -> bool:
    """Whether ``reader`` holds bytes nobody asked for (fails closed: True if unknown)."""
    buffer = getattr(reader, "_buffer", None)  # asyncio.StreamReader's own buffer
    return buffer is None or len(buffer) > 0


async def _read_head(
    reader: asyncio.StreamReader,
) -> tuple[int, list[tuple[bytes, bytes]], int | None, bool, bool]:
    """Status, headers and framing of one response head (RFC 9112 §4, §6.1, §6.3).

    Anything a lenient parser would have to guess at is refused: both Content-Length and
    Transfer-Encoding, differing Content-Lengths, a coding other than plain ``chunked``.
    """
    lines = (await reader.readuntil(b"\r\n\r\n"))[:-4].split(b"\r\n")
    match = _STATUS.fullmatch(lines[0])
    if match is None:
        raise httpx.RemoteProtocolError(f"not an HTTP/1.1 status line: {lines[0][:80]!r}")
    headers: list[tuple[bytes, bytes]] = []
    length: int | None = None
    codings: list[bytes] = []
    keep = True
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise httpx.RemoteProtocolError("malformed response header")
        name, value = name.strip().lower(), value.strip()
        if name == b"content-length":
            if not value.isdigit() or (length is not None and int(value) != length):
                raise httpx.RemoteProtocolError("malformed or conflicting Content-Length")
            length = int(value)
        elif name == b"transfer-encoding":
            codings += [c.strip().lower() for c in value.split(b",")]
        elif name == b"connection":
            keep = b"close" not in value.lower()
        headers.append((name, value))
    if codings and (codings != [b"chunked"] or length is not None):
        raise httpx.RemoteProtocolError(f"response framing refused: {codings}, {length}")
    return int(match.group(1)), headers, length, bool(codings), keep
