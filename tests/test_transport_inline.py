"""Small parts kept inline in the store's transaction (PartRef.data), large ones spooled:
round trips, the cache copy behind PartRef.path, the bounds, and the v1 -> v2 migration."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import sqlite3
import threading
from pathlib import Path

import pytest
from transport_helpers import MINISTRY, VPCP, MutableClock, make_mesh, signed_directory

from pakn_sign.errors import StoreError
from pakn_sign.transport.sender import OutgoingPart
from pakn_sign.transport.spool import INLINE_MAX_MESSAGE, INLINE_MAX_PART, inline_plan
from pakn_sign.transport.states import OutboxState
from pakn_sign.transport.store import PartRef
from pakn_sign.transport.store_sqlite import SQLiteStore
from pakn_sign.transport.store_sqlite_base import _MIGRATIONS, _split_sql
from pakn_sign.trust.testpki import TestPKI

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
ENDPOINTS = {VPCP: f"http://{VPCP}", MINISTRY: f"http://{MINISTRY}"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("pki"), algorithm="p256", now=NOW)


@pytest.fixture
def mesh(pki: TestPKI, tmp_path: Path):  # type: ignore[no-untyped-def]
    d = signed_directory(pki, now=NOW, endpoints=ENDPOINTS)
    m = make_mesh(pki, tmp_path, MutableClock(NOW), [VPCP, MINISTRY], d)
    yield m
    for node in m.nodes.values():
        asyncio.run(node.aclose())


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_small_message_travels_inline_without_part_files(mesh) -> None:  # type: ignore[no-untyped-def]
    small = "Đơn kiến nghị".encode()
    rec = mesh.nodes[VPCP].sender.submit(
        recipient=MINISTRY, parts=[OutgoingPart("petition.xml", "application/xml", small)]
    )
    assert rec.parts[0].data == small
    assert asyncio.run(mesh.nodes[VPCP].sender.deliver_one(rec)) is OutboxState.ACKNOWLEDGED
    inbox = mesh.nodes[MINISTRY].store.inbox(VPCP, rec.message_id)
    assert inbox.parts[0].data == small
    assert inbox.parts[0].sha256 == hashlib.sha256(small).hexdigest()
    # No spooled part file: the bytes are durable with the outbox/inbox COMMIT. The
    # receiver leaves an unsynced cache copy at the stored location for readers of files.
    assert _files(mesh.nodes[VPCP].spool.root) == []
    cache = Path(inbox.parts[0].location)
    assert _files(mesh.nodes[MINISTRY].spool.root) == [cache]
    assert cache.read_bytes() == small
    cache.unlink()
    assert Path(inbox.parts[0].path).read_bytes() == small  # made again on demand


def test_large_and_small_parts_in_one_message(mesh) -> None:  # type: ignore[no-untyped-def]
    big = b"B" * (INLINE_MAX_PART + 1)
    parts = [
        OutgoingPart("a.txt", "text/plain", b"a" * 10),
        OutgoingPart("big.bin", "application/octet-stream", big),
        OutgoingPart("c.txt", "text/plain", b"c" * 20),
    ]
    rec = mesh.nodes[VPCP].sender.submit(recipient=MINISTRY, parts=parts)
    assert [p.data is not None for p in rec.parts] == [True, False, True]
    assert asyncio.run(mesh.nodes[VPCP].sender.deliver_one(rec)) is OutboxState.ACKNOWLEDGED
    inbox = mesh.nodes[MINISTRY].store.inbox(VPCP, rec.message_id)
    assert [p.data is not None for p in inbox.parts] == [True, False, True]
    assert [p.read_bytes() for p in inbox.parts] == [b"a" * 10, big, b"c" * 20]
    assert Path(inbox.parts[1].location).read_bytes() == big  # the spooled part's final file


def test_inline_bounds_per_part_and_per_message() -> None:
    assert inline_plan([INLINE_MAX_PART, INLINE_MAX_PART + 1]) == [True, False]
    n = INLINE_MAX_MESSAGE // INLINE_MAX_PART
    # Once a message's inline budget is spent, further parts stream through spool files.
    assert inline_plan([INLINE_MAX_PART] * n + [1]) == [True] * n + [False]
    # A spooled part does not spend the budget.
    assert inline_plan([1, INLINE_MAX_PART + 1, 1]) == [True, False, True]


def test_cache_copy_is_rewritten_when_stale_or_torn(tmp_path: Path) -> None:
    data = b"noi dung"
    ref = PartRef("p", "text/plain", hashlib.sha256(data).hexdigest(), len(data),
                  str(tmp_path / "parts" / "x"), data)  # fmt: skip
    path = Path(ref.path)
    assert path.read_bytes() == data
    path.write_bytes(b"\0" * len(data))  # as after a crash of an unsynced write
    assert Path(ref.path).read_bytes() == data
    assert b"".join(ref.chunks(3)) == data
    assert [p.name for p in path.parent.iterdir()] == ["x"]  # no temporary left behind


def test_store_round_trip_keeps_inline_bytes_in_order(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "s.db")
    parts = [
        PartRef("a", "t", "0" * 64, 3, "/cache/a", b"abc"),
        PartRef("f", "t", "1" * 64, 9, "/spool/out/f"),
        PartRef("b", "t", "2" * 64, 2, "/cache/b", b"de"),
    ]
    s.enqueue(message_id="m1", recipient=MINISTRY, header=b"h", envelope_digest="d" * 64,
              parts=parts, now=NOW)  # fmt: skip
    assert s.outbox("m1").parts == tuple(parts)
    s.accept(sender=VPCP, message_id="m1", envelope_digest="d" * 64, header=b"h",
             parts=parts, now=NOW, audit={"event": "received.accepted"})  # fmt: skip
    assert s.inbox(VPCP, "m1").parts == tuple(parts)
    s.close()


def test_version_1_store_is_migrated_and_old_rows_still_read(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version(version INTEGER NOT NULL)")
    for statement in _split_sql(_MIGRATIONS[0]):
        db.execute(statement)
    db.execute("INSERT INTO schema_version VALUES (1)")
    db.execute(
        "INSERT INTO outbox(message_id, recipient, header, envelope_digest, parts, state,"
        " queued_at, next_attempt_at, updated_at) VALUES ('m0', ?, x'68', ?, ?, 'queued', ?, ?, ?)",
        (MINISTRY, "d" * 64, '[["p", "t", "' + "0" * 64 + '", 4, "/spool/out/p"]]',
         NOW.isoformat(), NOW.isoformat(), NOW.isoformat()),
    )  # fmt: skip
    db.commit()
    db.close()
    s = SQLiteStore(path)
    assert s._db.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 2
    old = s.outbox("m0")
    assert old.parts == (PartRef("p", "t", "0" * 64, 4, "/spool/out/p"),)
    assert old.parts[0].path == "/spool/out/p"  # a spooled part: its file, no cache copy
    s.close()


def test_submit_async_commits_before_returning(mesh, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    node = mesh.nodes[VPCP]
    big = tmp_path / "big.bin"
    big.write_bytes(b"Z" * (INLINE_MAX_PART + 5))

    async def main() -> list[tuple[str, bool]]:
        async def one(i: int) -> tuple[str, bool]:
            parts = [OutgoingPart("m.txt", "text/plain", f"thư {i}".encode())]
            if i == 0:
                parts.append(OutgoingPart("big.bin", "application/octet-stream", big))
            rec = await node.sender.submit_async(recipient=MINISTRY, parts=parts)
            other = sqlite3.connect(node.store.path)  # sees committed rows only
            try:
                row = other.execute(
                    "SELECT count(*) FROM outbox WHERE message_id=?", (rec.message_id,)
                ).fetchone()
            finally:
                other.close()
            return rec.message_id, row[0] == 1

        return list(await asyncio.gather(*(one(i) for i in range(12))))

    results = asyncio.run(main())
    assert all(committed for _, committed in results)
    first = node.store.outbox(results[0][0])
    assert [p.data is not None for p in first.parts] == [True, False]
    assert Path(first.parts[1].location).read_bytes() == big.read_bytes()


def test_store_of_a_newer_schema_is_refused(tmp_path: Path) -> None:
    """An older release must not read a store a newer one migrated (it would misread the
    rows it does not know, e.g. take an inline part's unsynced cache copy for its file)."""
    path = tmp_path / "new.db"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO schema_version VALUES (?)", (len(_MIGRATIONS) + 1,))
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer"):
        SQLiteStore(path)


def test_failed_migration_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    """A migration is one transaction: a failure (or a crash) part way leaves version 1 with
    nothing of version 2 applied, and the next open migrates again."""
    path = tmp_path / "half.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version(version INTEGER NOT NULL)")
    for statement in _split_sql(_MIGRATIONS[0]):
        db.execute(statement)
    db.execute("INSERT INTO schema_version VALUES (1)")
    db.execute("ALTER TABLE inbox ADD COLUMN inline BLOB")  # the 2nd statement will fail
    db.commit()
    db.close()
    with pytest.raises(StoreError):
        SQLiteStore(path)
    db = sqlite3.connect(path)
    assert db.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 1
    assert "inline" not in [r[1] for r in db.execute("PRAGMA table_info(outbox)")]
    db.execute("ALTER TABLE inbox DROP COLUMN inline")
    db.commit()
    db.close()
    s = SQLiteStore(path)
    s.close()
    s = SQLiteStore(path)  # idempotent: a migrated store opens as it is
    assert s._db.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 2
    s.close()


@pytest.mark.parametrize("inline", [None, b"ab"], ids=["no-bytes", "short-bytes"])
def test_attack_inline_row_without_its_bytes_is_not_read_from_the_cache_file(
    tmp_path: Path, inline: bytes | None
) -> None:
    """A row whose inline bytes are missing or short must not fall back to the location (an
    unsynced cache copy, never checked) as if it were a spooled part's fsynced file."""
    s = SQLiteStore(tmp_path / "c.db")
    data = b"abc"
    parts = [PartRef("a", "t", hashlib.sha256(data).hexdigest(), 3, str(tmp_path / "x"), data)]
    s.enqueue(message_id="m1", recipient=MINISTRY, header=b"h", envelope_digest="d" * 64,
              parts=parts, now=NOW)  # fmt: skip
    s._db.execute("UPDATE outbox SET inline=? WHERE message_id='m1'", (inline,))
    with pytest.raises(StoreError, match="inline"):
        s.outbox("m1")
    s.close()


def test_submit_async_never_spools_on_the_event_loop(mesh) -> None:  # type: ignore[no-untyped-def]
    """Parts each small enough to be inline but over the message's inline budget are
    spooled (file writes and fsyncs): that must happen off the event loop."""
    node = mesh.nodes[VPCP]
    spool = node.sender.spool
    threads: list[bool] = []
    real = spool.store_outgoing

    def spy(*a, **k):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread() is threading.main_thread())
        return real(*a, **k)

    spool.store_outgoing = spy
    n = INLINE_MAX_MESSAGE // INLINE_MAX_PART + 1
    parts = [OutgoingPart(f"p{i}", "text/plain", bytes([i]) * INLINE_MAX_PART) for i in range(n)]
    rec = asyncio.run(node.sender.submit_async(recipient=MINISTRY, parts=parts))
    assert [p.data is None for p in rec.parts] == [False] * (n - 1) + [True]
    assert threads == [False]
