"""The load side of the test bench: ``send_many`` (a sender process that can be killed and
restarted: it tops its outbox up to N messages and delivers until all are final) and the
baseline server (the same uvicorn + mutual-TLS stack around a trivial ASGI app).
Run through ``python -m pakn_sign.transport.testbed``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import resource
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import DeliveryError
from .config import NodeFile
from .faults import FaultInjector
from .node import Node
from .sender import OutgoingPart
from .serve import run_loop
from .states import OUTBOX_FINAL

__all__ = ["send_many", "serve_bare"]


# --- send-many --------------------------------------------------------------------------


async def send_many(
    nf: NodeFile,
    *,
    to: str,
    count: int,
    size: int = 512,
    attachment: Path | None = None,
    concurrency: int = 8,
    submitters: int = 4,
    rate: float | None = None,
    interval: float = 0.05,
    timeout: float = 600.0,
) -> dict[str, Any]:
    """Top the outbox up to ``count`` messages, deliver until all are final; summarise.

    Submission runs in worker threads alongside delivery (a node that queues and sends at
    once). With ``rate``, messages are submitted at that many per second (a fixed offered
    load); otherwise as fast as ``submitters`` threads can.
    """
    node = nf.build(faults=FaultInjector.from_env())
    # Start-up (imports, keys) is not per-message work: CPU is counted from here.
    cpu0 = _cpu_seconds()
    started = time.perf_counter()
    try:
        have = sum(node.store.outbox_counts().values())
        todo = range(have, count)
        workers = 1 if rate is not None else max(1, submitters)
        submitter = asyncio.ensure_future(
            asyncio.gather(
                *(
                    _submit(node, to, todo[w::workers], size, attachment, rate)
                    for w in range(workers)
                )
            )
        )
        submitted = started
        deadline = time.monotonic() + timeout
        while True:
            counts = node.store.outbox_counts()
            done = sum(n for s, n in counts.items() if s in OUTBOX_FINAL)
            if submitter.done() and submitted == started:
                submitted = time.perf_counter()
            if submitter.done() and done >= count:
                break
            if time.monotonic() > deadline:
                raise DeliveryError(f"not all delivered after {timeout} s: {counts}")
            got = await node.sender.deliver_due(limit=max(count, 100), concurrency=concurrency)
            if not got:
                await asyncio.sleep(interval)
        await submitter
        finished = time.perf_counter()
        return {
            "count": count,
            "outbox": node.store.outbox_counts(),
            "submit_seconds": submitted - started,
            "total_seconds": finished - started,
            "latencies": _latencies(node),
            "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "cpu_seconds": _cpu_seconds() - cpu0,
            "startup_cpu_seconds": cpu0,
        }
    finally:
        await node.aclose()


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def _submit(
    node: Node, to: str, indices: range, size: int, attachment: Path | None, rate: float | None
) -> None:
    t0 = time.perf_counter()
    for n, i in enumerate(indices):
        text = f"Tin nhắn thử số {i}\n".encode()
        body = (text * (size // len(text) + 1))[:size]
        parts = [OutgoingPart("message.txt", "text/plain", body)]
        if attachment is not None:
            parts.append(OutgoingPart(attachment.name, "application/octet-stream", attachment))
        # On the node's store worker: the outbox's fsyncs never stall delivery on the event
        # loop, and concurrent submissions share their COMMITs with the deliveries' ones.
        await node.sender.submit_async(recipient=to, parts=parts, subject=f"test {i}")
        if rate is not None:
            await asyncio.sleep(max(0.0, t0 + (n + 1) / rate - time.perf_counter()))


def _latencies(node: Node) -> list[float]:
    """Seconds from ``queued`` to ``acknowledged`` for every acknowledged message."""
    db = sqlite3.connect(f"file:{node.store.path}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT key, min(CASE WHEN to_state='queued' THEN at END),"
            " max(CASE WHEN to_state='acknowledged' THEN at END) FROM transitions"
            " WHERE box='outbox' GROUP BY key"
        ).fetchall()
    finally:
        db.close()
    return [
        (dt.datetime.fromisoformat(b) - dt.datetime.fromisoformat(a)).total_seconds()
        for _, a, b in rows
        if a and b
    ]


# --- the baseline server ----------------------------------------------------------------


async def _bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = json.dumps({"received": size}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def serve_bare(nf: NodeFile, port: int) -> None:
    """uvicorn with the node's mutual-TLS server context around ``_bare_app``."""
    import uvicorn

    from .tls import server_context

    node = nf.build()
    pins = [c for p in node.directory.partners() for c in p.tls_certificates]
    tls = node.config.tls
    assert tls is not None
    config = uvicorn.Config(
        _bare_app, host=nf.host, port=port, log_level="warning", lifespan="off", http="httptools",
        timeout_keep_alive=30, limit_concurrency=1000,
    )  # fmt: skip
    config.load()
    config.ssl = server_context(
        cert=tls.server_cert or tls.cert, key=tls.server_key or tls.key, pinned_client_certs=pins
    )
    server = uvicorn.Server(config)

    async def run() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        sys.stderr.write(f"READY bare on port {port}\n")
        await task

    run_loop(run())
