"""Transport end to end, as separate OS processes on loopback HTTPS with mutual TLS.

Run: ``.venv/bin/python benchmarks/bench_transport.py [--quick] [--faults] [--no-big]``.

1. Throughput: a sender process (``testbed send-many``) submits N messages (signed envelope,
   fsync-durable outbox) and delivers them to a receiver node (``pakn-sign serve``;
   fsync-durable inbox, signed receipt) which the sender verifies against the pinned key.
   Messages/s from the first submit to the last acknowledgement.
2. Baseline: a bare HTTPS POST round trip of the same size through the same server stack
   (uvicorn + the same mutual-TLS server context, trivial ASGI app) from an httpx client
   with the same TLS client context and concurrency. The ratio is printed.
3. Latency at a fixed offered load (default 100 msg/s): p50/p99 from queued to acknowledged.
4. One message with a 1 GB attachment: peak RSS (VmHWM) of both processes.
5. ``--faults``: the crash campaign of tests/test_transport_faults.py with N >= 1000 per point.

Targets (issue 6): >= 300 messages/s; 1 GB attachment with peak RSS <= 150 MB in both.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

from pakn_sign.transport.http11 import LeanTransport  # noqa: E402
from pakn_sign.transport.serve import run_loop  # noqa: E402
from pakn_sign.transport.testbed import (  # noqa: E402
    MINISTRY,
    VPCP,
    NodeProcess,
    Testbed,
    build_testbed,
    cpu_seconds,
    free_port,
    peak_rss_kib,
    send_many_process,
    serve_process,
)
from pakn_sign.transport.tls import client_context  # noqa: E402

PROVINCE = "000.00.00.H41"
OTHER = "000.00.00.G12"
MIB = 1024 * 1024


def _summary(proc: NodeProcess, path: Path, timeout: float) -> dict[str, object]:
    rc = proc.wait(timeout)
    if rc != 0:
        raise SystemExit(f"sender failed ({rc}): {proc.tail()}")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def throughput(bed: Testbed, n: int, size: int, concurrency: int) -> tuple[float, float]:
    out = bed.base / "throughput.json"
    extra = ["--size", str(size), "--concurrency", str(concurrency), "--summary", str(out)]
    proc = send_many_process(bed, VPCP, MINISTRY, n, tag="-tp", extra=extra).start()
    s = _summary(proc, out, 900)
    total = float(s["total_seconds"])  # type: ignore[arg-type]
    cpu = float(s["cpu_seconds"])  # type: ignore[arg-type]
    return n / total, cpu / n


def _b64(cert) -> str:  # type: ignore[no-untyped-def]
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def bare_posts(bed: Testbed, n: int, size: int, concurrency: int) -> tuple[float, float, float]:
    port = free_port()
    log = bed.base / "logs" / "bare.log"
    args = ["pakn_sign.transport.testbed", "serve-bare", "--config", str(bed.configs[MINISTRY])]
    proc = NodeProcess([*args, "--port", str(port)], log).start(ready="READY")
    tls = bed.pki.tls[f"{VPCP}-client"]
    ctx = client_context(
        cert=tls.pem_path,
        key=tls.key_path,
        pinned_server_certs=[_b64(bed.pki.tls[f"{MINISTRY}-server"].cert)],
    )
    body = os.urandom(size)

    async def run() -> float:
        # The sender's own HTTP path (client.py: httpx over http11.py's lean transport), so
        # the ratio measures the protocol's cost, not a difference between HTTP client layers.
        pool = LeanTransport(ctx)
        url = f"https://127.0.0.1:{port}/v1/messages"
        headers = {"content-type": "application/octet-stream", "content-length": str(size)}
        sem = asyncio.Semaphore(concurrency)

        async def chunks() -> AsyncIterator[bytes]:  # streamed, as the sender's body is
            yield body

        async def one() -> None:
            async with sem:
                request = httpx.Request("POST", url, content=chunks(), headers=headers)
                r = await pool.handle_async_request(request)
                try:
                    await r.aread()
                finally:
                    await r.aclose()
                if r.status_code != 200:
                    raise SystemExit(f"bare POST answered {r.status_code}")

        try:
            await asyncio.gather(*(one() for _ in range(50)))  # warm-up, connections open
            t = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(n)))
            return n / (time.perf_counter() - t)
        finally:
            await pool.aclose()

    try:
        c0, s0 = _own_cpu(), cpu_seconds(proc.pid)
        rate = run_loop(run())
        return rate, (_own_cpu() - c0) / n, (cpu_seconds(proc.pid) - s0) / n
    finally:
        proc.stop()


def _own_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def latency(bed: Testbed, n: int, rate: float) -> tuple[float, float, float]:
    out = bed.base / "latency.json"
    extra = ["--rate", str(rate), "--summary", str(out)]
    proc = send_many_process(bed, PROVINCE, MINISTRY, n, tag="-lat", extra=extra).start()
    s = _summary(proc, out, 900)
    lat = sorted(s["latencies"])  # type: ignore[call-overload]
    achieved = n / float(s["total_seconds"])  # type: ignore[arg-type]
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return statistics.median(lat), p99, achieved


def big_attachment(bed: Testbed, size: int) -> tuple[int, int, float]:
    """Peak RSS (KiB) of sender and receiver while one message carries ``size`` bytes."""
    rx = serve_process(bed, MINISTRY, tag="-big").start(ready="READY")
    try:
        f = bed.base / "big.bin"
        with f.open("wb") as fh:  # sparse: no disk for the source itself
            fh.truncate(size)
        out = bed.base / "big.json"
        extra = ["--attachment", str(f), "--summary", str(out), "--timeout", "900"]
        t = time.perf_counter()
        proc = send_many_process(bed, OTHER, MINISTRY, 1, tag="-big", extra=extra).start()
        s = _summary(proc, out, 1200)
        seconds = time.perf_counter() - t
        return int(s["peak_rss_kib"]), peak_rss_kib(rx.pid), seconds  # type: ignore[call-overload]
    finally:
        rx.stop()
        for p in (bed.base / "big.bin", *bed.base.glob("nodes/*/spool")):
            if p.is_file():
                p.unlink()
            elif p.is_dir():
                import shutil

                shutil.rmtree(p, ignore_errors=True)


def faults(base: Path, n: int) -> None:
    from test_transport_faults import _run_point  # type: ignore[import-not-found]

    from pakn_sign.transport.faults import POINTS

    for point in sorted(POINTS):
        t = time.perf_counter()
        _run_point(base / point, point, n)
        print(
            f"  {point:<46} N={n}: lost 0, effects 1 each, all acknowledged, receipts verify"
            f" ({time.perf_counter() - t:.0f} s)",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller runs (about a minute)")
    ap.add_argument("--faults", action="store_true", help="also the crash campaign, N >= 1000")
    ap.add_argument("--no-big", action="store_true", help="skip the 1 GB attachment")
    ap.add_argument("--size", type=int, default=1024, help="payload bytes per message")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rate", type=float, default=100.0, help="offered load for latency")
    args = ap.parse_args()
    n = 500 if args.quick else 2000
    lat_n = 300 if args.quick else 1000
    big = (128 if args.quick else 1024) * MIB
    with tempfile.TemporaryDirectory(prefix="bench-transport-") as tmp:
        base = Path(tmp)
        bed = build_testbed(
            base / "bed",
            roles={VPCP: "agency", PROVINCE: "agency", OTHER: "agency", MINISTRY: "agency"},
            retry={"base": 0.05, "cap": 1.0, "attempt_timeout": 60},
            limits={"max_message_bytes": 2 * 1024 * MIB, "max_part_bytes": 2 * 1024 * MIB},
        )
        print(
            f"transport benchmark: p256 keys, loopback HTTPS + mutual TLS, {os.cpu_count()} CPUs,"
            f" load average {os.getloadavg()[0]:.2f}"
        )
        rx = serve_process(bed, MINISTRY).start(ready="READY")
        try:
            r0 = cpu_seconds(rx.pid)
            mps, s_cpu = throughput(bed, n, args.size, args.concurrency)
            r_cpu = (cpu_seconds(rx.pid) - r0) / n
            print(
                f"end to end: {mps:7.1f} messages/s ({n} x {args.size} B, queued and delivered"
                f" concurrently)   target >= 300"
            )
            print(
                f"  CPU per message: sender {s_cpu * 1000:.2f} ms, receiver {r_cpu * 1000:.2f} ms"
            )
            p50, p99, achieved = latency(bed, lat_n, args.rate)
            print(
                f"latency at {args.rate:.0f} msg/s offered ({achieved:.0f}/s achieved):"
                f" p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
            )
        finally:
            rx.stop()
        # Same body size as a message on the wire (sealed header ~2 KB + payload).
        bare, c_cpu, b_cpu = bare_posts(bed, n, args.size + 2048, args.concurrency)
        print(f"bare HTTPS POST, same stack: {bare:7.1f} requests/s;  ratio {mps / bare:.2f}")
        print(f"  CPU per request: client {c_cpu * 1000:.2f} ms, server {b_cpu * 1000:.2f} ms")
        if not args.no_big:
            s_kib, r_kib, seconds = big_attachment(bed, big)
            print(
                f"{big // MIB} MiB attachment in {seconds:.1f} s: peak RSS sender"
                f" {s_kib / 1024:.0f} MiB, receiver {r_kib / 1024:.0f} MiB   target <= 150 MB"
            )
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
        if args.faults:
            nf = 200 if args.quick else 1000
            print(f"crash campaign (kill -9 at each point, restart, N={nf}):")
            faults(base / "faults", nf)


if __name__ == "__main__":
    main()
