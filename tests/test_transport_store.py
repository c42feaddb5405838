"""Outbox/inbox store, audit chain, retry schedule and partner directory."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from pathlib import Path

import pytest
from transport_helpers import MINISTRY, VPCP, directory_doc, signed_directory, vpcp_pins

from pakn_sign.errors import StoreError, VerificationError
from pakn_sign.transport.audit import Checkpoint
from pakn_sign.transport.backoff import RetryPolicy
from pakn_sign.transport.directory import Directory, DirectoryError, sign_directory
from pakn_sign.transport.ids import uuid7
from pakn_sign.transport.node import Node, NodeConfig
from pakn_sign.transport.sealing import cert_sha256
from pakn_sign.transport.states import OutboxState
from pakn_sign.transport.store_sqlite import SQLiteStore
from pakn_sign.trust.testpki import TestPKI

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
ENDPOINTS = {VPCP: "http://vpcp", MINISTRY: "http://ministry"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("pki"), algorithm="p256", now=NOW)


def _store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "s.db")


def _enqueue(store: SQLiteStore, mid: str, digest: str = "d" * 64) -> None:
    store.enqueue(
        message_id=mid, recipient=MINISTRY, header=b"h", envelope_digest=digest, parts=[], now=NOW
    )


def test_uuid7_layout_and_order() -> None:
    a = uuid7(NOW, rand=b"\xff" * 10)
    b = uuid7(NOW + dt.timedelta(milliseconds=1), rand=b"\x00" * 10)
    assert a.version == 7
    assert a.variant == "specified in RFC 4122"
    assert str(a) < str(b)
    assert int(a.hex[:12], 16) == int(NOW.timestamp() * 1000)


def test_store_pragmas_and_migration_are_idempotent(tmp_path: Path) -> None:
    s = _store(tmp_path)
    assert s._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    s.close()
    s2 = _store(tmp_path)  # reopening applies no migration twice
    assert s2._db.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 2


def test_transitions_and_audit_are_append_only(tmp_path: Path) -> None:
    s = _store(tmp_path)
    _enqueue(s, "m1")
    for table in ("transitions",):
        with pytest.raises(sqlite3.DatabaseError):
            s._db.execute(f"DELETE FROM {table}")
        with pytest.raises(sqlite3.DatabaseError):
            s._db.execute(f"UPDATE {table} SET to_state='x'")


def test_enqueue_is_idempotent_but_refuses_other_bytes(tmp_path: Path) -> None:
    s = _store(tmp_path)
    _enqueue(s, "m1")
    _enqueue(s, "m1")
    assert s.outbox_counts() == {"queued": 1}
    with pytest.raises(StoreError):
        _enqueue(s, "m1", digest="e" * 64)


def test_dead_message_redrive_keeps_id(tmp_path: Path) -> None:
    s = _store(tmp_path)
    _enqueue(s, "m1")
    s.mark_sending("m1", NOW)
    assert s.retry_later("m1", next_attempt_at=None, error="gone", now=NOW) is OutboxState.DEAD
    assert s.due(NOW + dt.timedelta(days=9)) == []
    s.redrive("m1", NOW)
    rec = s.outbox("m1")
    assert rec is not None
    assert rec.state is OutboxState.QUEUED
    assert rec.attempts == 0
    with pytest.raises(StoreError):
        s.redrive("m1", NOW)  # only dead messages re-drive


def test_lease_and_complete(tmp_path: Path) -> None:
    s = _store(tmp_path)
    s.accept(
        sender=VPCP,
        message_id="m1",
        envelope_digest="d",
        header=b"h",
        parts=[],
        now=NOW,
        audit={"event": "received.accepted"},
    )
    (leased,) = s.lease(NOW, duration=dt.timedelta(seconds=30))
    assert s.lease(NOW, duration=dt.timedelta(seconds=30)) == []  # still leased
    assert leased.lease_token is not None
    assert not s.complete(VPCP, "m1", lease_token="wrong", now=NOW)
    # The lease expires: another handler takes it; the first one's ack is then refused.
    (again,) = s.lease(NOW + dt.timedelta(seconds=31), duration=dt.timedelta(seconds=30))
    assert not s.complete(VPCP, "m1", lease_token=leased.lease_token, now=NOW)
    assert again.lease_token is not None
    assert s.complete(VPCP, "m1", lease_token=again.lease_token, now=NOW)
    assert s.inbox_counts() == {"done": 1}


def test_retry_schedule_full_jitter_within_window() -> None:
    policy = RetryPolicy(base=dt.timedelta(seconds=2), cap=dt.timedelta(seconds=60))
    rng = random.Random(7)
    for attempts in range(1, 12):
        nxt = policy.next_attempt(attempts=attempts, queued_at=NOW, now=NOW, rng=rng)
        assert nxt is not None
        assert NOW <= nxt <= NOW + policy.window(attempts)
    assert policy.window(10) == dt.timedelta(seconds=60)  # capped
    late = NOW + policy.max_age
    assert policy.next_attempt(attempts=1, queued_at=NOW, now=late, rng=rng) is None


# --- audit chain -------------------------------------------------------------------------


def _node_with_log(pki: TestPKI, tmp_path: Path, n: int = 6) -> Node:
    d = Directory(vpcp_pins(pki))
    d.update(signed_directory(pki, now=NOW, endpoints=ENDPOINTS), now=NOW)

    class Clock:
        def now(self) -> dt.datetime:
            return NOW

    node = Node(
        NodeConfig(
            agency_code=VPCP,
            data_dir=tmp_path / "n",
            signer=pki.agencies[VPCP].signer(),
            directory=d,
            clock=Clock(),
        )
    )
    for i in range(n):
        node.store.audit({"event": "test", "i": i})
        if i == 3:
            node.checkpoint()
    node.checkpoint()
    return node


def test_audit_chain_verifies(pki: TestPKI, tmp_path: Path) -> None:
    node = _node_with_log(pki, tmp_path)
    assert node.verify_audit(frozenset({cert_sha256(pki.agencies[VPCP].cert)})) == 6


def _raw_update(node: Node, sql: str, *args: object) -> None:
    node.store._db.execute(sql, args)


@pytest.mark.parametrize("tamper", ["change", "delete", "reorder", "truncate", "forge_checkpoint"])
def test_attack_audit_log_tampering_is_detected(pki: TestPKI, tmp_path: Path, tamper: str) -> None:
    node = _node_with_log(pki, tmp_path)
    pins = frozenset({cert_sha256(pki.agencies[VPCP].cert)})
    db = node.store._db
    if tamper == "change":
        db.execute("UPDATE audit_log SET record=? WHERE seq=2", (b'{"event":"other"}',))
    elif tamper == "delete":
        db.execute("DELETE FROM audit_log WHERE seq=3")
    elif tamper == "reorder":
        r2 = db.execute("SELECT record, hash FROM audit_log WHERE seq=2").fetchone()
        r3 = db.execute("SELECT record, hash FROM audit_log WHERE seq=3").fetchone()
        db.execute("UPDATE audit_log SET record=?, hash=? WHERE seq=2", r3)
        db.execute("UPDATE audit_log SET record=?, hash=? WHERE seq=3", r2)
    elif tamper == "truncate":
        db.execute("DELETE FROM audit_log WHERE seq>=5")
    else:
        cp = node.store.checkpoints()[0]
        db.execute("DELETE FROM audit_checkpoints WHERE seq=?", (cp.seq,))
        node.store.add_checkpoint(Checkpoint(cp.seq, b"\x01" * 32, cp.signed))
    with pytest.raises(VerificationError):
        node.verify_audit(pins)


def test_checkpoint_by_another_key_is_refused(pki: TestPKI, tmp_path: Path) -> None:
    node = _node_with_log(pki, tmp_path)
    with pytest.raises(VerificationError):
        node.verify_audit(frozenset({cert_sha256(pki.agencies[MINISTRY].cert)}))


# --- directory ---------------------------------------------------------------------------


def test_directory_expired_refused_and_last_good_kept(pki: TestPKI) -> None:
    d = Directory(vpcp_pins(pki))
    d.update(signed_directory(pki, now=NOW, endpoints=ENDPOINTS, version=1), now=NOW)
    stale = signed_directory(pki, now=NOW - dt.timedelta(days=60), endpoints=ENDPOINTS, version=2)
    with pytest.raises(DirectoryError):
        d.update(stale, now=NOW)
    assert d.document is not None
    assert d.document.version == 1
    with pytest.raises(DirectoryError):  # once v1 expires, nobody can be sent to
        d.entry(MINISTRY, now=NOW + dt.timedelta(days=31))


def test_attack_directory_badly_signed_or_unpinned(pki: TestPKI) -> None:
    d = Directory(vpcp_pins(pki))
    d.update(signed_directory(pki, now=NOW, endpoints=ENDPOINTS), now=NOW)
    doc = directory_doc(
        pki, now=NOW, endpoints={**ENDPOINTS, "000.00.00.G12": "http://evil"}, version=5
    )
    by_ministry = sign_directory(doc, pki.agencies[MINISTRY].signer())
    with pytest.raises(DirectoryError):
        d.update(by_ministry, now=NOW)
    good = bytearray(sign_directory(doc, pki.agencies[VPCP].signer()))
    good[good.index(b'"signature":"') + 20] ^= 0x01
    with pytest.raises(DirectoryError):
        d.update(bytes(good), now=NOW)
    assert d.document is not None
    assert d.document.version == 1


def test_directory_rollback_refused(pki: TestPKI) -> None:
    d = Directory(vpcp_pins(pki))
    d.update(signed_directory(pki, now=NOW, endpoints=ENDPOINTS, version=3), now=NOW)
    with pytest.raises(DirectoryError):
        d.update(signed_directory(pki, now=NOW, endpoints=ENDPOINTS, version=2), now=NOW)


def test_directory_key_rotation_by_overlap(pki: TestPKI) -> None:
    new_pin = cert_sha256(pki.agencies["000.00.00.G12"].cert)
    d = Directory(vpcp_pins(pki))
    d.update(
        signed_directory(pki, now=NOW, endpoints=ENDPOINTS, extra_pins={MINISTRY: [new_pin]}),
        now=NOW,
    )
    pins = d.entry(MINISTRY, now=NOW).signing_cert_sha256
    assert cert_sha256(pki.agencies[MINISTRY].cert) in pins
    assert new_pin in pins
