"""``pakn-sign demo``: the whole exchange, end to end, as separate OS processes on loopback.

portal -> VPCP hub -> ministry and back, over mutual TLS, with the test PKI's live
TSA/OCSP/CRL service; every hop receipted; the answer signed by the official and sealed by
the ministry; everything verified; the case's state and deadlines; the audit logs checked.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from ..clock import VN_TZ, SystemClock
from ..errors import DeliveryError
from ..models import Document
from ..models.lifecycle import Case
from ..signing.sign_xml import sign_xml
from ..signing.timestamps import HttpTimestampAuthority
from ..transport.config import load_node_file
from ..transport.handlers import policy_from_config
from ..transport.sealing import cert_sha256
from ..trust.policy import TrustPolicy
from ..verify import inspect, verify
from ._demo_setup import MINISTRY, NAMES, PORTAL, VPCP, build_world, demo_petition

__all__ = ["command"]


def _say(text: str) -> None:
    click.echo(text)


class _Processes:
    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[str]]] = []

    def start(self, name: str, args: list[str], cwd: Path, ready: str, timeout: float = 60) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("PAKN_FAULT", None)
        logs = cwd / "logs"
        logs.mkdir(exist_ok=True)
        log_path = logs / f"{len(self.procs)}-{args[0]}.log"
        # Output goes to a file, never to an undrained pipe that would block the process.
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "pakn_sign", *args],
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
        self.procs.append((name, proc))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready in log_path.read_text(encoding="utf-8", errors="replace"):
                _say(f"  started {name} (pid {proc.pid}, log {log_path.relative_to(cwd)})")
                return
            if proc.poll() is not None:
                raise DeliveryError(f"{name} exited with {proc.returncode}; see {log_path}")
            time.sleep(0.05)
        raise DeliveryError(f"{name} was not ready within {timeout:.0f} s; see {log_path}")

    def stop(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _inbox(base: Path, code: str) -> list[tuple[str, str, str]]:
    db = base / "nodes" / code / "node.db"
    if not db.exists():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return con.execute(
            "SELECT sender, message_id, state FROM inbox ORDER BY received_at"
        ).fetchall()


def _audit_events(base: Path, code: str) -> list[dict[str, object]]:
    db = base / "nodes" / code / "node.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return [json.loads(r[0]) for r in con.execute("SELECT record FROM audit_log ORDER BY seq")]


def _wait(predicate, what: str, timeout: float = 90) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise DeliveryError(f"timed out waiting for {what}")


@click.command("demo")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the demo's files here (default: a temporary directory).")  # fmt: skip
@click.option("--algorithm", type=click.Choice(["rsa2048", "rsa3072", "p256", "ed25519"]),
              default="rsa2048", show_default=True)  # fmt: skip
def command(directory: Path | None, algorithm: str) -> None:
    """Run the whole PAKN exchange end to end on this machine and verify it."""
    if directory is None:
        with tempfile.TemporaryDirectory(prefix="pakn-demo-") as tmp:
            _run(Path(tmp), algorithm)
    else:
        directory.mkdir(parents=True, exist_ok=True)
        _run(directory, algorithm)


def _run(base: Path, algorithm: str) -> None:
    now = SystemClock().now()
    _say(f"pakn-sign demo — {now.astimezone(VN_TZ):%d/%m/%Y %H:%M} (Asia/Ho_Chi_Minh), in {base}")
    _say("1. Test PKI (root, government CA, agency seals, officials, TSA, OCSP, TLS)")
    world = build_world(base, algorithm=algorithm, now=now)
    procs = _Processes()
    try:
        procs.start("TSA/OCSP/CRL service", ["pki", "serve", "pki"], base, "ready")
        _say("2. Nodes: portal, VPCP hub, ministry — HTTPS with mutual TLS, pinned from the"
             " directory signed by VPCP")  # fmt: skip
        for code in (PORTAL, VPCP, MINISTRY):
            procs.start(f"{NAMES[code]} ({code})", ["serve", "--config", f"{code}.json"], base,
                        "READY")  # fmt: skip
        _exchange(base, world, now)
    finally:
        procs.stop()


def _exchange(base: Path, world, now: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    pki = world.pki
    portal_cfg = load_node_file(base / f"{PORTAL}.json")
    policy = policy_from_config(portal_cfg)
    tsa = HttpTimestampAuthority(pki.tsa_url)
    _say("3. The citizen signs her petition (personal signature, XAdES B-T with the live TSA)")
    petition = demo_petition(now)
    signed = sign_xml(petition, pki.signer("citizen"), role="personal", level="B-T", tsa=tsa)
    (base / "petition.xml").write_bytes(signed)
    _say(f"   {petition.document_id}: {petition.title}")
    _say("4. The portal sends it to VPCP (pakn-sign send)")
    out = subprocess.run(
        [sys.executable, "-m", "pakn_sign", "send", "--config", f"{PORTAL}.json", "--to", VPCP,
         "--subject", "PAKN mới", "petition.xml"],
        cwd=base, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    if out.returncode != 0:
        raise DeliveryError(f"send failed ({out.returncode}): {out.stderr.strip()}")
    _say(f"   message {out.stdout.strip()} acknowledged by VPCP's signed receipt")
    _say("5. VPCP classifies and forwards; the ministry receipts, answers (official + seal);"
         " VPCP relays back")  # fmt: skip
    _wait(lambda: len(_inbox(base, PORTAL)) >= 2, "the answer to reach the portal")
    _wait(lambda: all(s == "done" for *_, s in _inbox(base, PORTAL)), "the portal to verify")
    for code in (VPCP, MINISTRY, PORTAL):
        _say(f"   {NAMES[code]}:")
        for e in _audit_events(base, code):
            if str(e.get("event", "")).startswith(("received.", "sent.")):
                _say(f"     {e['event']:<22} {e.get('message_id')}")
    _say("6. The portal verifies what came back")
    docs: list[Document] = [verify((base / "petition.xml").read_bytes(), policy=policy).document]
    answer_result = None
    from ..transport.node import Node  # the portal's store, read-only use

    node: Node = portal_cfg.build()
    try:
        for _sender, mid, _state in _inbox(base, PORTAL):
            inbox = node.store.inbox_by_id(mid)
            assert inbox is not None
            for part in inbox.parts:
                data = part.read_bytes()  # inline parts from the row, not a cache copy
                result = verify(data, policy=policy)
                docs.append(result.document)
                if result.document.kind == "answer":
                    answer_result = (result, data)
    finally:
        asyncio.run(node.aclose())
    assert answer_result is not None
    result, answer_bytes = answer_result
    for sig in result.signatures:
        ident = sig.identity
        when = sig.claimed_signing_time or now
        _say(f"   {sig.role:<12} {ident.common_name} ({ident.organization or 'cá nhân'}),"
             f" {sig.level}, signed {when.astimezone(VN_TZ):%H:%M:%S}")  # fmt: skip
    _say("   the auditors' report on the answer (ETSI EN 319 102-1):")
    for line in inspect(answer_bytes, policy=policy).to_text().splitlines():
        _say(f"   | {line}")
    _say("7. The case, rebuilt from the signed documents")
    hub_docs = _hub_documents(base, policy)
    case = Case.from_documents([*docs, *hub_docs])
    _say(f"   state: {case.state.value}")
    for d in case.deadlines:
        met = f"met {d.met_at.astimezone(VN_TZ):%d/%m %H:%M}" if d.met_at else "open"
        _say(f"   deadline {d.purpose.value}: {d.due_on:%d/%m/%Y} ({d.legal_source}) — {met}")
    _say("8. Audit logs: checkpoint and verify every node's hash chain")
    for code in (PORTAL, VPCP, MINISTRY):
        n = load_node_file(base / f"{code}.json").build()
        try:
            n.checkpoint()
            count = n.verify_audit(frozenset({cert_sha256(pki.agencies[code].cert)}))
        finally:
            asyncio.run(n.aclose())
        _say(f"   {NAMES[code]}: {count} records, chain and signed checkpoints OK")
    _say("OK: the whole exchange verified")


def _hub_documents(base: Path, policy: TrustPolicy) -> list[Document]:
    """VPCP's classification and forwarding, as the ministry received them."""
    out: list[Document] = []
    node = load_node_file(base / f"{MINISTRY}.json").build()
    try:
        for _sender, mid, _state in _inbox(base, MINISTRY):
            inbox = node.store.inbox_by_id(mid)
            assert inbox is not None
            for part in inbox.parts:
                if part.name in ("classification.xml", "forwarding.xml"):
                    out.append(verify(part.read_bytes(), policy=policy).document)
    finally:
        asyncio.run(node.aclose())
    return out
