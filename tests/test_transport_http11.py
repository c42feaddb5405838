"""The lean HTTP/1.1 transport under httpx (transport/http11.py): pinned TLS, keep-alive,
response framing and limits, timeouts, and failures surfacing as httpx errors."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from pakn_sign.errors import DeliveryError
from pakn_sign.transport.client import HTTPTransport
from pakn_sign.transport.faults import FaultInjector
from pakn_sign.transport.http11 import LeanTransport
from pakn_sign.transport.tls import client_context, server_context
from pakn_sign.trust.testpki import TestPKI

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
CLIENT, SERVER, OTHER = "000.00.00.G22", "000.00.00.G10", "000.00.00.G12"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("pki"), algorithm="p256", now=NOW)


def _b64(pki: TestPKI, name: str) -> str:
    der = pki.tls[name].cert.public_bytes(serialization.Encoding.DER)
    return base64.b64encode(der).decode()


def _client(pki: TestPKI, **kw: float) -> LeanTransport:
    own = pki.tls[f"{CLIENT}-client"]
    ctx = client_context(
        cert=own.pem_path, key=own.key_path, pinned_server_certs=[_b64(pki, f"{SERVER}-server")]
    )
    return LeanTransport(ctx, **kw)  # type: ignore[arg-type]


async def _serve(pki: TestPKI, handler: Handler, server_code: str = SERVER) -> asyncio.Server:
    tls = pki.tls[f"{server_code}-server"]
    ctx = server_context(
        cert=tls.pem_path, key=tls.key_path, pinned_client_certs=[_b64(pki, f"{CLIENT}-client")]
    )
    return await asyncio.start_server(handler, "127.0.0.1", 0, ssl=ctx)


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return await reader.readexactly(length)


def _post(port: int, body: bytes) -> httpx.Request:
    async def stream() -> AsyncIterator[bytes]:
        yield body[:10]
        yield body[10:]

    return httpx.Request(
        "POST",
        f"https://127.0.0.1:{port}/v1/messages",
        content=stream(),
        headers={"content-length": str(len(body))},
    )


def _port(server: asyncio.Server) -> int:
    return int(server.sockets[0].getsockname()[1])


def test_post_streams_the_body_and_reuses_the_connection(pki: TestPKI) -> None:
    connections: list[int] = []
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        while not reader.at_eof():
            try:
                seen.append(await _read_request(reader))
            except asyncio.IncompleteReadError:
                break
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\nX-A: b\r\n\r\nreceipt")
            await writer.drain()
        writer.close()

    async def main() -> None:
        server = await _serve(pki, handler)
        t = _client(pki)
        try:
            for n in range(3):
                r = await t.handle_async_request(_post(_port(server), b"x" * 20 + bytes([n])))
                assert (r.status_code, r.content, r.headers["x-a"]) == (200, b"receipt", "b")
        finally:
            await t.aclose()
            server.close()

    asyncio.run(main())
    assert seen == [b"x" * 20 + bytes([n]) for n in range(3)]
    assert len(connections) == 1  # keep-alive: one TLS handshake for three requests


def test_connection_closed_by_the_server_is_not_reused(pki: TestPKI) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()  # as a server whose keep-alive timeout passed

    async def main() -> None:
        server = await _serve(pki, handler)
        t = _client(pki)
        try:
            for _ in range(3):
                r = await t.handle_async_request(_post(_port(server), b"y" * 30))
                assert r.content == b"ok"
                await asyncio.sleep(0.05)
        finally:
            await t.aclose()
            server.close()

    asyncio.run(main())


def test_chunked_response_and_connection_close(pki: TestPKI) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(
            b"HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            b"4;ext=1\r\nrece\r\n3\r\nipt\r\n0\r\n\r\n"
        )
        await writer.drain()
        writer.close()

    async def main() -> None:
        server = await _serve(pki, handler)
        t = _client(pki)
        try:
            r = await t.handle_async_request(_post(_port(server), b"z" * 12))
            assert (r.status_code, r.content) == (409, b"receipt")
        finally:
            await t.aclose()
            server.close()

    asyncio.run(main())


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n" + b"a" * 5000,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n" + b"a" * 4096 + b"\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n" + b"a" * 5000,
    ],
    ids=["content-length", "chunked", "until-close"],
)
def test_attack_oversized_response_refused(pki: TestPKI, answer: bytes) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(answer)
        await writer.drain()
        writer.close()

    async def main() -> None:
        server = await _serve(pki, handler)
        t = _client(pki, max_response=4000)
        try:
            with pytest.raises(httpx.RemoteProtocolError):
                await t.handle_async_request(_post(_port(server), b"q" * 12))
        finally:
            await t.aclose()
            server.close()

    asyncio.run(main())


def test_silent_server_times_out_as_an_httpx_error(pki: TestPKI) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)

    async def main() -> None:
        server = await _serve(pki, handler)
        t = _client(pki, timeout=0.3)
        try:
            with pytest.raises(httpx.ReadTimeout):
                await t.handle_async_request(_post(_port(server), b"w" * 12))
        finally:
            await t.aclose()
            server.close()

    asyncio.run(main())


def test_attack_unpinned_server_refused_by_the_message_client(pki: TestPKI) -> None:
    """A server certificate from the same CA but not the pinned one: no request is sent."""
    got: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got.append(await reader.read(100))
        writer.close()

    async def main() -> None:
        server = await _serve(pki, handler, server_code=OTHER)
        own = pki.tls[f"{CLIENT}-client"]
        ctx = client_context(
            cert=own.pem_path,
            key=own.key_path,
            pinned_server_certs=[_b64(pki, f"{SERVER}-server")],
        )
        http = HTTPTransport(ssl_for=lambda _: ctx)
        try:
            with pytest.raises(DeliveryError, match="ConnectError"):
                await http.post_message(
                    f"https://127.0.0.1:{_port(server)}", b"{}", (), FaultInjector()
                )
        finally:
            await http.aclose()
            server.close()

    asyncio.run(main())
    assert got in ([], [b""])  # nothing of the request reached the unpinned server


def test_plain_http_refused(pki: TestPKI) -> None:
    async def main() -> None:
        t = _client(pki)
        with pytest.raises(httpx.UnsupportedProtocol):
            await t.handle_async_request(httpx.Request("POST", "http://127.0.0.1:1/", content=b""))

    asyncio.run(main())
