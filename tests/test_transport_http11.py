"""The lean HTTP/1.1 transport under httpx (transport/http11.py): pinned TLS, keep-alive,
response framing and limits, timeouts, and failures surfacing as httpx errors."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ssl
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


# --- RFC 9112 framing: what a (buggy or hostile) peer may answer -------------------------


def _answer_each(answers: list[bytes]) -> tuple[Handler, list[int]]:
    """A handler answering the n-th request of each connection with ``answers[n]``."""
    connections: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        for answer in answers:
            try:
                await _read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            writer.write(answer)
            await writer.drain()
        writer.close()

    return handler, connections


def _exchange(pki: TestPKI, handler: Handler, requests: int = 1) -> list[httpx.Response]:
    async def main() -> list[httpx.Response]:
        server = await _serve(pki, handler)
        t = _client(pki, timeout=2.0)
        try:
            return [
                await t.handle_async_request(_post(_port(server), b"m" * 16))
                for _ in range(requests)
            ]
        finally:
            await t.aclose()
            server.close()

    return asyncio.run(main())


def test_close_delimited_response_is_read_to_the_end(pki: TestPKI) -> None:
    """RFC 9112 §6.3 (8): without Content-Length or chunked, the body ends at close."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nfirst ")
        await writer.drain()
        await asyncio.sleep(0.1)  # the rest arrives in a later TLS record
        writer.write(b"second")
        await writer.drain()
        writer.close()

    (r,) = _exchange(pki, handler)
    assert r.content == b"first second"


@pytest.mark.parametrize(
    "answer",
    [
        # §6.3 (3): both framings: the classic request/response smuggling ambiguity.
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nok\r\n0\r\n\r\n",
        # §6.3 (5): differing Content-Length values.
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 7\r\n\r\nokforged",
        # §6.1: a coding other than chunked (the body length is then unknowable).
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        # §7.1: chunk-size = 1*HEXDIG; Python's int() would accept all of these.
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nok\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+2\r\nok\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0_2\r\nok\r\n0\r\n\r\n",
        # §4: status-code = 3DIGIT.
        b"HTTP/1.1 0200 OK\r\nContent-Length: 2\r\n\r\nok",
        # RFC 9110 §15.2: 101 would switch protocols, never an answer to our POST.
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
    ],
    ids=[
        "cl-and-te",
        "two-lengths",
        "gzip-chunked",
        "xchunked",
        "negative-chunk",
        "0x-chunk",
        "plus-chunk",
        "underscore-chunk",
        "4-digit-status",
        "101",
    ],
)
def test_attack_ambiguous_response_framing_refused(pki: TestPKI, answer: bytes) -> None:
    """Every framing a lenient parser would guess at is a RemoteProtocolError (an httpx
    TransportError, so the sender retries), never a guess and never a foreign exception."""
    handler, _ = _answer_each([answer])
    with pytest.raises(httpx.RemoteProtocolError):
        _exchange(pki, handler)


def test_attack_smuggled_second_response_is_never_read_as_the_next_answer(pki: TestPKI) -> None:
    """A peer that sends more than one response's bytes: the connection is not reused, so
    the injected bytes are never taken as the answer to the next request."""
    forged = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged"
    handler, connections = _answer_each(
        [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + forged, b"HTTP/1.1 200 OK\r\n"]
    )

    async def fresh(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not connections:
            await handler(reader, writer)
            return
        connections.append(1)
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh")
        await writer.drain()
        writer.close()

    first, second = _exchange(pki, fresh, requests=2)
    assert (first.content, second.content) == (b"ok", b"fresh")
    assert len(connections) == 2


def test_informational_responses_are_skipped(pki: TestPKI) -> None:
    """RFC 9110 §15.2: a client must parse 1xx responses before the final one."""
    handler, _ = _answer_each(
        [
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        ]
    )
    (r,) = _exchange(pki, handler)
    assert (r.status_code, r.content) == (200, b"ok")


def test_attack_endless_informational_responses_refused(pki: TestPKI) -> None:
    handler, _ = _answer_each([b"HTTP/1.1 100 Continue\r\n\r\n" * 100])
    with pytest.raises(httpx.RemoteProtocolError):
        _exchange(pki, handler)


def test_attack_unsolicited_bytes_on_an_idle_connection_are_not_an_answer(pki: TestPKI) -> None:
    """Bytes arriving on an idle keep-alive connection (a 408 before the server's close, or
    an injected response) make it unusable; the next request gets its own answer."""
    connections: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        if len(connections) == 1:
            await asyncio.sleep(0.05)
            writer.write(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
            await asyncio.sleep(1)  # the connection stays open
        await writer.drain()
        writer.close()

    async def main() -> list[httpx.Response]:
        server = await _serve(pki, handler)
        t = _client(pki, timeout=2.0)
        try:
            first = await t.handle_async_request(_post(_port(server), b"i" * 16))
            await asyncio.sleep(0.3)
            second = await t.handle_async_request(_post(_port(server), b"j" * 16))
            return [first, second]
        finally:
            await t.aclose()
            server.close()

    first, second = asyncio.run(main())
    assert (first.status_code, second.status_code, second.content) == (200, 200, b"ok")
    assert len(connections) == 2


def test_attack_oversized_receipt_on_get_is_refused_before_buffering(pki: TestPKI) -> None:
    """``GET /v1/receipts/{id}`` has the same response limit as the POST: a peer announcing
    64 MB is refused on the head, before the body is read (the old path buffered it all)."""
    sent_all: list[bool] = []
    size = 64 * 1024 * 1024

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        try:
            for _ in range(size // (1024 * 1024)):
                writer.write(b"r" * (1024 * 1024))
                await asyncio.wait_for(writer.drain(), 3)
        except (ConnectionError, TimeoutError, ssl.SSLError):
            sent_all.append(False)
        else:
            sent_all.append(True)
        writer.close()

    async def main() -> None:
        server = await _serve(pki, handler)
        own = pki.tls[f"{CLIENT}-client"]
        ctx = client_context(
            cert=own.pem_path, key=own.key_path, pinned_server_certs=[_b64(pki, f"{SERVER}-server")]
        )
        http = HTTPTransport(ssl_for=lambda _: ctx, timeout=5)
        try:
            with pytest.raises(DeliveryError, match="over the limit"):
                await http.get_receipt(f"https://127.0.0.1:{_port(server)}", "0" * 36)
            for _ in range(100):
                if sent_all:
                    break
                await asyncio.sleep(0.05)
        finally:
            await http.aclose()
            server.close()

    asyncio.run(main())
    assert sent_all == [False]


def test_receipt_get_over_the_lean_transport(pki: TestPKI) -> None:
    """The GET is a bodiless request (no Content-Length sent); 404 means no receipt."""
    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                heads.append(await reader.readuntil(b"\r\n\r\n"))
            except asyncio.IncompleteReadError:
                break
            if len(heads) == 1:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nreceipt")
            else:
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()
        writer.close()

    async def main() -> list[bytes | None]:
        server = await _serve(pki, handler)
        own = pki.tls[f"{CLIENT}-client"]
        ctx = client_context(
            cert=own.pem_path, key=own.key_path, pinned_server_certs=[_b64(pki, f"{SERVER}-server")]
        )
        http = HTTPTransport(ssl_for=lambda _: ctx, timeout=5)
        url = f"https://127.0.0.1:{_port(server)}"
        try:
            return [await http.get_receipt(url, "1" * 36), await http.get_receipt(url, "2" * 36)]
        finally:
            await http.aclose()
            server.close()

    assert asyncio.run(main()) == [b"receipt", None]
    assert heads[0].startswith(b"GET /v1/receipts/" + b"1" * 36 + b" HTTP/1.1\r\n")
    assert b"content-length" not in heads[0].lower()


@pytest.mark.parametrize("scheme", ["HTTPS", "Https", "wss"])
def test_attack_endpoint_scheme_spelling_never_turns_tls_verification_off(
    pki: TestPKI, scheme: str
) -> None:
    """URL schemes are case-insensitive (RFC 3986 §3.1): a directory endpoint spelled
    ``HTTPS://`` is TLS, and without a pinned context nothing may be sent at all (the plain
    transport for loopback tests has verification off and no client certificate)."""
    got: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got.append(await reader.read(100))
        writer.close()

    async def main() -> None:
        # An impostor: any certificate, no client certificate asked for.
        tls = pki.tls[f"{OTHER}-server"]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(tls.pem_path), str(tls.key_path))
        server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=ctx)
        http = HTTPTransport(ssl_for=lambda _: None)
        try:
            with pytest.raises(DeliveryError):
                await http.post_message(
                    f"{scheme}://127.0.0.1:{_port(server)}", b"{}", (), FaultInjector()
                )
            with pytest.raises(DeliveryError):
                await http.get_receipt(f"{scheme}://127.0.0.1:{_port(server)}", "0" * 36)
        finally:
            await http.aclose()
            server.close()

    asyncio.run(main())
    assert got == []


@pytest.mark.parametrize("declared", [10, 30], ids=["body-longer", "body-shorter"])
def test_attack_body_not_matching_its_content_length_is_never_sent_as_framed(
    pki: TestPKI, declared: int
) -> None:
    """A part file that changed on disk after it was frozen: the body no longer matches the
    Content-Length. Longer: the excess would be parsed by the server as a second request on
    the connection (request smuggling); shorter: the server would wait for the rest. Both
    fail at once as a LocalProtocolError and the connection is dropped."""
    requests: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                requests.append(await reader.readuntil(b"\r\n\r\n"))
            except (asyncio.IncompleteReadError, ConnectionError):
                break
        writer.close()

    async def main() -> None:
        server = await _serve(pki, handler)
        t = _client(pki, timeout=5.0)
        body = b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"[:20].ljust(20, b"-")
        smuggle = b"1234567890GET /v1/health HTTP/1.1\r\nHost: a\r\n\r\n"

        async def stream() -> AsyncIterator[bytes]:
            yield body[:10]
            yield smuggle[10:] if declared == 10 else body[10:]

        request = httpx.Request(
            "POST",
            f"https://127.0.0.1:{_port(server)}/v1/messages",
            content=stream(),
            headers={"content-length": str(declared)},
        )
        try:
            async with asyncio.timeout(2):
                with pytest.raises(httpx.LocalProtocolError):
                    await t.handle_async_request(request)
            await asyncio.sleep(0.1)
        finally:
            await t.aclose()
            server.close()

    asyncio.run(main())
    assert len(requests) <= 1  # never a second, smuggled request


def test_one_transport_serves_several_event_loops(pki: TestPKI) -> None:
    """Two ``asyncio.run`` calls, then two threads at once, share one transport.

    Before per-loop pools, the second run reused an idle connection of the first, closed
    loop ("Event loop is closed"), and concurrent loops shared one asyncio.Semaphore.
    """
    import gc
    import threading
    import warnings

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while not reader.at_eof():
                try:
                    await _read_request(reader)
                except asyncio.IncompleteReadError:
                    break
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                await writer.drain()
        finally:
            writer.close()

    ready = threading.Event()
    server_loop = asyncio.new_event_loop()
    holder: list[asyncio.Server] = []

    def serve() -> None:
        asyncio.set_event_loop(server_loop)
        holder.append(server_loop.run_until_complete(_serve(pki, handler)))
        ready.set()
        server_loop.run_forever()

    server_thread = threading.Thread(target=serve, daemon=True)
    server_thread.start()
    assert ready.wait(10)
    port = _port(holder[0])
    t = _client(pki, max_connections=1)

    async def two_posts() -> list[bytes]:
        return [(await t.handle_async_request(_post(port, b"z" * 12))).content for _ in range(2)]

    async def two_posts_then_close() -> list[bytes]:
        try:
            return await two_posts()
        finally:
            await t.aclose()

    try:
        with warnings.catch_warnings():
            # The first loop ends without aclose: its idle connection cannot be closed through
            # the dead loop and warns when collected, as any stream left open does.
            warnings.simplefilter("ignore", ResourceWarning)
            assert asyncio.run(two_posts()) == [b"ok", b"ok"]  # leaves an idle connection
            assert asyncio.run(two_posts_then_close()) == [b"ok", b"ok"]  # a new loop
            assert len(t._pools) == 0  # the dead loop's pool is gone, not kept alive
            gc.collect()
        results: list[list[bytes]] = []
        threads = [
            threading.Thread(target=lambda: results.append(asyncio.run(two_posts_then_close())))
            for _ in range(2)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join(20)
        assert results == [[b"ok", b"ok"]] * 2
    finally:
        server_loop.call_soon_threadsafe(holder[0].close)
        server_loop.call_soon_threadsafe(server_loop.stop)
        server_thread.join(10)
        pending = asyncio.all_tasks(server_loop)  # handlers of connections left open
        for task in pending:
            task.cancel()
        if pending:
            server_loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        server_loop.run_until_complete(holder[0].wait_closed())
        server_loop.close()


def test_message_client_keeps_one_httpx_client_per_event_loop(pki: TestPKI) -> None:
    """httpx clients are bound to their first loop: a second ``asyncio.run`` gets its own,
    and the closed loop's client is forgotten rather than reused."""
    own = pki.tls[f"{CLIENT}-client"]
    ctx = client_context(
        cert=own.pem_path, key=own.key_path, pinned_server_certs=[_b64(pki, f"{SERVER}-server")]
    )
    http = HTTPTransport(ssl_for=lambda _: ctx, timeout=5)
    url = "https://127.0.0.1:9"

    async def pair() -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
        return http._client(url), http._client(url)

    async def closing() -> httpx.AsyncClient:
        client = http._client(url)
        await http.aclose()
        return client

    a1, a2 = asyncio.run(pair())
    b1, _ = asyncio.run(pair())
    assert a1 is a2  # one client per loop and endpoint
    assert b1 is not a1
    assert list(http._clients.values()) == [b1]  # the first loop's client was forgotten
    c = asyncio.run(closing())
    assert c.is_closed
    assert http._clients == {}
