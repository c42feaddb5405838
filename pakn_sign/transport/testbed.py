"""A bench of exchange nodes as real OS processes, for the fault-injection tests and the
transport benchmark (docs/transport.md, "Fault points").

- ``build_testbed``: test PKI, a directory signed by VPCP, one JSON config per node.
- ``make_counting``: the ``counting`` role's handler, idempotent per (sender, message id):
  one effect row (INSERT OR IGNORE) and one invocation row per run, in ``effects.db``.
- ``python -m pakn_sign.transport.testbed send-many --config S.json --to CODE --count N``:
  a sender process that tops its outbox up to N messages, delivers until every one is
  final and prints a JSON summary; killed (``PAKN_FAULT``) and restarted, it resumes.
- ``... serve-bare --config R.json --port P``: the same uvicorn + mutual-TLS stack with a
  trivial ASGI app that reads the body and answers 200 (the benchmark's baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from ..clock import SystemClock
from ..errors import DeliveryError
from ..trust.testpki import TestPKI
from .config import NodeFile, load_node_file
from .directory import sign_directory
from .node import Node
from .sealing import cert_sha256
from .serve import Handler, run_loop
from .store import InboxRecord
from .wire import DirectoryDocument, PartnerEntry

__all__ = [
    "MINISTRY",
    "VPCP",
    "NodeProcess",
    "Testbed",
    "build_testbed",
    "cpu_seconds",
    "effects",
    "free_port",
    "make_counting",
    "peak_rss_kib",
]

VPCP = "000.00.00.G22"
MINISTRY = "000.00.00.G10"


def free_port() -> int:
    """A free TCP port on loopback (bound then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Testbed:
    """Where one bench lives: ``configs[code]`` is the node's JSON config file."""

    __test__ = False  # not a pytest test class

    base: Path
    pki: TestPKI
    ports: dict[str, int]
    configs: dict[str, Path]

    def data_dir(self, code: str) -> Path:
        return self.base / "nodes" / code


def _tls_b64(pki: TestPKI, code: str) -> list[str]:
    return [
        base64.b64encode(
            pki.tls[f"{code}-{side}"].cert.public_bytes(serialization.Encoding.DER)
        ).decode()
        for side in ("server", "client")
    ]


def build_testbed(
    base: Path,
    *,
    roles: Mapping[str, str] | None = None,
    pki: TestPKI | None = None,
    algorithm: str = "p256",
    now: dt.datetime | None = None,
    advertised_ports: Mapping[str, int] | None = None,
    retry: Mapping[str, float] | None = None,
    handler_lease: float = 60.0,
    limits: Mapping[str, int] | None = None,
) -> Testbed:
    """Write a PKI (unless given), a VPCP-signed directory and one config per node.

    Args:
        roles: agency code -> node role (default: VPCP sends with role ``agency``, the
            ministry receives with role ``counting``).
        advertised_ports: the port the directory lists for a node when it differs from
            the one it listens on (a proxy in front of it).
        retry: the config's ``retry`` section (seconds), e.g. a short ``base`` for tests.
        limits: ``max_message_bytes`` / ``max_part_bytes`` for every directory entry.
    """
    now = now or SystemClock().now()
    roles = dict(roles or {VPCP: "agency", MINISTRY: "counting"})
    base.mkdir(parents=True, exist_ok=True)
    pki = pki or TestPKI.create(base / "pki", algorithm=algorithm, now=now)
    ports = {code: free_port() for code in roles}
    shown = {**ports, **(advertised_ports or {})}
    doc = DirectoryDocument(
        version=1,
        issued_at=now - dt.timedelta(minutes=5),
        expires_at=now + dt.timedelta(days=30),
        issuer=VPCP,
        partners=[
            PartnerEntry.model_validate(
                {
                    "agency_code": code,
                    "name": f"Node {code}",
                    "endpoint": f"https://127.0.0.1:{shown[code]}",
                    "signing_cert_sha256": [cert_sha256(pki.agencies[code].cert)],
                    "tls_certificates": _tls_b64(pki, code),
                    **_limits(limits),
                }
            )
            for code in roles
        ],
    )
    (base / "directory.jws").write_bytes(sign_directory(doc, pki.agencies[VPCP].signer()))
    configs: dict[str, Path] = {}
    for code, role in roles.items():
        seal, tls_c, tls_s = (
            pki.agencies[code],
            pki.tls[f"{code}-client"],
            pki.tls[f"{code}-server"],
        )
        cfg: dict[str, Any] = {
            "agency_code": code,
            "role": role,
            "data_dir": str(base / "nodes" / code),
            "host": "127.0.0.1",
            "port": ports[code],
            "signer": {
                "key": str(seal.key_path),
                "cert": str(seal.pem_path),
                "chain": str(pki.intermediate.pem_path),
            },
            "directory": str(base / "directory.jws"),
            "directory_issuers": [str(pki.agencies[VPCP].pem_path)],
            "tls": {
                "cert": str(tls_c.pem_path),
                "key": str(tls_c.key_path),
                "server_cert": str(tls_s.pem_path),
                "server_key": str(tls_s.key_path),
            },
            "retry": dict(retry or {}),
            "handler_lease": handler_lease,
        }
        path = base / f"{code}.json"
        path.write_text(json.dumps(cfg, indent=2), encoding="utf-8")
        configs[code] = path
    return Testbed(base, pki, ports, configs)


def _limits(limits: Mapping[str, int] | None) -> dict[str, int]:
    unknown = set(limits or {}) - {"max_message_bytes", "max_part_bytes"}
    if unknown:
        raise ValueError(f"unknown limits {sorted(unknown)}")
    return dict(limits or {})


# --- the counting handler ---------------------------------------------------------------

_EFFECTS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS effects(sender TEXT NOT NULL, message_id TEXT NOT NULL,"
    " PRIMARY KEY(sender, message_id))",
    "CREATE TABLE IF NOT EXISTS invocations(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " sender TEXT NOT NULL, message_id TEXT NOT NULL)",
)


def _effects_db(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA busy_timeout=10000")
    for statement in _EFFECTS_SCHEMA:
        con.execute(statement)
    return con


def make_counting(nf: NodeFile) -> Handler:
    """The business effect of a message is one row keyed by (sender, message id).

    The handler is idempotent the way a real one must be (serve.Handler): re-running it
    after a crash between its effect and the inbox's ``complete`` changes nothing; the
    ``invocations`` table shows that it did run again.
    """
    con = _effects_db(nf.resolve(nf.raw["data_dir"]) / "effects.db")

    def effect(sender: str, message_id: str) -> None:
        con.execute("BEGIN IMMEDIATE")
        con.execute(
            "INSERT INTO invocations(sender, message_id) VALUES (?,?)", (sender, message_id)
        )
        con.execute(
            "INSERT OR IGNORE INTO effects(sender, message_id) VALUES (?,?)", (sender, message_id)
        )
        con.execute("COMMIT")

    async def handle(node: Node, rec: InboxRecord) -> None:
        await asyncio.to_thread(effect, rec.sender, rec.message_id)

    return handle


def effects(data_dir: Path) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """(effects per message, handler invocations per message) of a counting node."""
    path = data_dir / "effects.db"
    if not path.exists():
        return {}, {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        eff = con.execute("SELECT sender, message_id, count(*) FROM effects GROUP BY 1, 2")
        out = {(s, m): n for s, m, n in eff.fetchall()}
        inv = con.execute("SELECT sender, message_id, count(*) FROM invocations GROUP BY 1, 2")
        return out, {(s, m): n for s, m, n in inv.fetchall()}


# --- processes --------------------------------------------------------------------------


def peak_rss_kib(pid: int) -> int:
    """VmHWM (peak resident set) of a live process, in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise DeliveryError(f"no VmHWM for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a live process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class NodeProcess:
    """One ``python -m ...`` child with its output in a log file (never an undrained pipe)."""

    args: Sequence[str]
    log: Path
    fault: str | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self, *, ready: str | None = None, timeout: float = 60.0) -> NodeProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("PAKN_FAULT", None)
        if self.fault:
            env["PAKN_FAULT"] = self.fault
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(  # our own interpreter and module
                [sys.executable, "-m", *self.args], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        if ready is not None:
            self.wait_for(ready, timeout=timeout)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, text: str, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise DeliveryError(
                    f"{self.args} exited with {self.proc.returncode}: {self.tail()}"
                )
            time.sleep(0.05)
        raise DeliveryError(f"{self.args} not ready within {timeout} s: {self.tail()}")

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise DeliveryError(
                f"{self.args} still running after {timeout} s: {self.tail()}"
            ) from None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self, n: int = 3000) -> str:
        return self.output()[-n:]


def serve_process(
    bed: Testbed, code: str, *, fault: str | None = None, tag: str = ""
) -> NodeProcess:
    """``python -m pakn_sign serve --config`` for ``code`` (not yet started)."""
    log = bed.base / "logs" / f"serve-{code}{tag}.log"
    return NodeProcess(["pakn_sign", "serve", "--config", str(bed.configs[code])], log, fault)


def send_many_process(
    bed: Testbed,
    code: str,
    to: str,
    count: int,
    *,
    fault: str | None = None,
    tag: str = "",
    extra: Sequence[str] = (),
) -> NodeProcess:
    """``python -m pakn_sign.transport.testbed send-many`` (not yet started)."""
    log = bed.base / "logs" / f"send-{code}{tag}.log"
    args = ["pakn_sign.transport.testbed", "send-many", "--config", str(bed.configs[code])]
    return NodeProcess([*args, "--to", to, "--count", str(count), *extra], log, fault)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pakn_sign.transport.testbed")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("send-many", help="submit N messages and deliver them all")
    p.add_argument("--config", required=True)
    p.add_argument("--to", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--attachment", type=Path, default=None)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--submitters", type=int, default=4)
    p.add_argument("--rate", type=float, default=None)
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--summary", type=Path, default=None, help="write the JSON summary here")
    b = sub.add_parser("serve-bare", help="the same HTTPS stack with a trivial app")
    b.add_argument("--config", required=True)
    b.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    from .testbed_load import send_many, serve_bare

    nf = load_node_file(args.config)
    if args.cmd == "serve-bare":
        serve_bare(nf, args.port)
        return 0
    summary = run_loop(
        send_many(
            nf, to=args.to, count=args.count, size=args.size, attachment=args.attachment,
            concurrency=args.concurrency, submitters=args.submitters, rate=args.rate,
            timeout=args.timeout,
        )
    )  # fmt: skip
    text = json.dumps(summary)
    if args.summary is not None:
        args.summary.write_text(text, encoding="utf-8")
    sys.stderr.write(f"DONE {json.dumps(summary['outbox'])}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
