"""The inbox as a plain ASGI 3 application (mountable in an agency's existing service,
served by uvicorn in ``pakn-sign serve``). Routes (schemas/openapi.yaml):

- ``POST /v1/messages``        push a message; answers a signed receipt (positive or negative)
- ``GET  /v1/receipts/{id}``   the stored receipt, so a lost response needs no resend
- ``GET  /v1/directory``       the current signed partner directory
- ``GET  /v1/health``          liveness
- ``POST /v1/pull``            a pull partner's signed request: its next held message, framed as
                               a push body (``Pakn-Message-Id``), or 204 when none is held
- ``POST /v1/pull/ack``        the partner's signed receipt for a pulled message
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from ..codec.jsoncodec import loads_strict
from ..errors import InvalidInput, PaknSignError
from ..signing.b64 import b64url_decode
from .client import ENVELOPE_MEDIA_TYPE
from .directory import Directory
from .receiver import RETRYABLE, ChunkReader, Receiver
from .sealing import open_sealed
from .sender import Sender
from .wire import PullRequest

PULL_TYP = "pakn-pull+json"

__all__ = ["InboxApp"]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_RECEIPT_PATH = re.compile(r"^/v1/receipts/([0-9a-f-]{36})$")
JOSE_JSON = b"application/jose+json"


class InboxApp:
    """ASGI application around a ``Receiver`` (and optionally the node's directory)."""

    def __init__(
        self,
        receiver: Receiver,
        *,
        directory: Directory | None = None,
        sender: Sender | None = None,
        skew: dt.timedelta = dt.timedelta(minutes=5),
    ):
        self.receiver = receiver
        self.directory = directory
        self.sender = sender
        self.skew = skew

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            await self._route(scope, receive, send)
        except InvalidInput as exc:
            await _respond(send, 400, _error(exc.code, exc.message))

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"]
        if method == "POST" and path == "/v1/messages":
            await self._post_message(scope, receive, send)
        elif method == "GET" and (m := _RECEIPT_PATH.match(path)):
            receipt = self.receiver.receipt_for(m.group(1))
            if receipt is None:
                await _respond(send, 404, b'{"error":"no receipt for this message id"}')
            else:
                await _respond(send, 200, receipt, JOSE_JSON)
        elif method == "GET" and path == "/v1/directory" and self.directory is not None:
            raw = self.directory.raw
            await _respond(send, 200 if raw else 404, raw or b"{}", JOSE_JSON)
        elif method == "POST" and path == "/v1/pull" and self.sender is not None:
            await self._pull(receive, send)
        elif method == "POST" and path == "/v1/pull/ack" and self.sender is not None:
            await self._pull_ack(receive, send)
        elif method == "GET" and path == "/v1/health":
            await _respond(send, 200, b'{"status":"ok"}')
        else:
            await _respond(send, 404, b'{"error":"not found"}')

    async def _post_message(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if headers.get("content-type", "").split(";")[0].strip() != ENVELOPE_MEDIA_TYPE:
            await _respond(send, 415, b'{"error":"expected application/vnd.pakn.envelope"}')
            return
        try:
            header_len = int(headers.get("pakn-header-length", ""))
        except ValueError:
            await _respond(send, 400, b'{"error":"Pakn-Header-Length missing or not a number"}')
            return
        if not 0 < header_len <= self.receiver.max_header_bytes:
            await _respond(send, 413, b'{"error":"envelope header too large"}')
            return
        reader = ChunkReader(_body(receive))
        try:
            header = await reader.read_exact(header_len)
            outcome = await self.receiver.receive(header, reader)
        except InvalidInput as exc:
            await _respond(send, 400, _error(exc.code, exc.message))
            return
        except RETRYABLE as exc:
            log.error("cannot store message: %s", exc)
            await _respond(send, 503, b'{"error":"temporarily unable to store; retry"}')
            return
        await _respond(send, outcome.status, outcome.receipt, JOSE_JSON)

    async def _pull(self, receive: Receive, send: Send) -> None:
        assert self.sender is not None
        assert self.directory is not None
        body = await _small_body(receive, 64 * 1024)
        now = self.sender.clock.now()
        try:
            req = open_sealed(
                body,
                PullRequest,
                typ=PULL_TYP,
                pinned=lambda r: self.directory.entry(r.agency, now=now).signing_cert_sha256,  # type: ignore[union-attr]
            ).model
        except PaknSignError as exc:
            await _respond(send, 403, _error(exc.code, exc.message))
            return
        if abs(req.at - now) > self.skew:
            await _respond(send, 403, _error("transport.stale_pull", "pull request too old"))
            return
        rec = self.sender.lease_for_pull(req.agency)
        if rec is None:
            await _respond(send, 204, b"")
            return
        total = len(rec.header) + sum(p.size for p in rec.parts)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", ENVELOPE_MEDIA_TYPE.encode()),
                    (b"content-length", str(total).encode()),
                    (b"pakn-header-length", str(len(rec.header)).encode()),
                    (b"pakn-message-id", rec.message_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": rec.header, "more_body": True})
        for part in rec.parts:
            for chunk in part.chunks(256 * 1024):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def _pull_ack(self, receive: Receive, send: Send) -> None:
        assert self.sender is not None
        body = await _small_body(receive, 256 * 1024)
        try:
            claimed = loads_strict(b64url_decode(loads_strict(body)["payload"]))
            state = self.sender.acknowledge_pulled(body, str(claimed["message_id"]))
        except (PaknSignError, ValueError, KeyError, TypeError) as exc:
            msg = exc.message if isinstance(exc, PaknSignError) else "malformed receipt"
            await _respond(send, 422, _error("transport.receipt", msg))
            return
        await _respond(send, 200, json.dumps({"state": state.value}).encode())


async def _small_body(receive: Receive, limit: int) -> bytes:
    out = bytearray()
    async for chunk in _body(receive):
        out += chunk
        if len(out) > limit:
            raise InvalidInput(f"request body over {limit} bytes")
    return bytes(out)


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": code, "message": message}, ensure_ascii=False).encode()


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidInput("client disconnected before the body ended")
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def _respond(
    send: Send, status: int, body: bytes, content_type: bytes = b"application/json"
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
