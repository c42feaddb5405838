"""SQLite store, part 1: connection (WAL, ``synchronous=FULL``), migrations, transactions,
the append-only transitions table and the audit chain (enforced append-only by triggers)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from ..errors import StoreError
from .audit import GENESIS, AuditRecord, Checkpoint, canonical_record, chain_hash
from .sqlite_group import GroupCommit
from .store import PartRef, Transition

__all__ = ["SQLiteBase"]

_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE outbox(
      message_id TEXT PRIMARY KEY, recipient TEXT NOT NULL, header BLOB NOT NULL,
      envelope_digest TEXT NOT NULL, parts TEXT NOT NULL, state TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, queued_at TEXT NOT NULL, next_attempt_at TEXT,
      last_error TEXT, receipt BLOB, updated_at TEXT NOT NULL);
    CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
    CREATE TABLE inbox(
      sender TEXT NOT NULL, message_id TEXT NOT NULL, envelope_digest TEXT NOT NULL,
      header BLOB NOT NULL, parts TEXT NOT NULL, state TEXT NOT NULL, received_at TEXT NOT NULL,
      receipt BLOB, lease_until TEXT, lease_token TEXT, updated_at TEXT NOT NULL,
      PRIMARY KEY(sender, message_id));
    CREATE INDEX inbox_state ON inbox(state, lease_until);
    CREATE TABLE transitions(
      seq INTEGER PRIMARY KEY AUTOINCREMENT, box TEXT NOT NULL, key TEXT NOT NULL,
      from_state TEXT, to_state TEXT NOT NULL, at TEXT NOT NULL, detail TEXT);
    CREATE INDEX transitions_key ON transitions(key);
    CREATE TRIGGER transitions_append_only_u BEFORE UPDATE ON transitions
      BEGIN SELECT RAISE(ABORT, 'transitions are append-only'); END;
    CREATE TRIGGER transitions_append_only_d BEFORE DELETE ON transitions
      BEGIN SELECT RAISE(ABORT, 'transitions are append-only'); END;
    CREATE TABLE audit_log(seq INTEGER PRIMARY KEY, record BLOB NOT NULL, hash BLOB NOT NULL);
    CREATE TABLE audit_checkpoints(
      seq INTEGER PRIMARY KEY, head BLOB NOT NULL, signed BLOB NOT NULL);
    """,
    # 2: small parts inline (PartRef.data), concatenated in manifest order.
    """
    ALTER TABLE outbox ADD COLUMN inline BLOB;
    ALTER TABLE inbox ADD COLUMN inline BLOB;
    """,
)
# Indexes added without a schema change, created on every open (existing stores get them).
# inbox_received: the handler's lease takes the oldest received messages in index order;
# without it every lease sorted the whole backlog (lease + complete 0.3 -> 1 ms per message
# at 600 -> 3,000 waiting).
_INDEXES = ("CREATE INDEX IF NOT EXISTS inbox_received ON inbox(state, received_at)",)


def _ts(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def _dt(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _parts_json(parts: Sequence[PartRef]) -> tuple[str, bytes | None]:
    """The manifest column and the inline parts' bytes, concatenated in manifest order.

    A row is [name, media type, sha256, size, location], with "inline" before the location
    for an inline part: the location stays last (readers of the column rely on it).
    """
    rows: list[list[object]] = []
    inline: list[bytes] = []
    for p in parts:
        if p.data is None:
            rows.append([p.name, p.media_type, p.sha256, p.size, p.location])
        else:
            rows.append([p.name, p.media_type, p.sha256, p.size, "inline", p.location])
            inline.append(p.data)
    return json.dumps(rows, ensure_ascii=False), b"".join(inline) if inline else None


def _parts(value: str, inline: bytes | None) -> tuple[PartRef, ...]:
    out: list[PartRef] = []
    offset = 0
    for row in json.loads(value):
        n, m, s, z, p = row[0], row[1], row[2], row[3], row[-1]
        data = None
        if len(row) == 6:
            # Never fall back to the location: for an inline part it is an unsynced cache copy.
            if inline is None or offset + z > len(inline):
                raise StoreError(f"stored row lacks the inline bytes of part {n!r}")
            data = bytes(inline[offset : offset + z])
            offset += z
        out.append(PartRef(n, m, s, z, p, data))
    if inline is not None and offset != len(inline):
        raise StoreError("stored row's inline bytes do not match its manifest")
    return tuple(out)


class SQLiteBase:
    """Connection, migrations, transactions, transitions and the audit chain."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before we sign a receipt for it (DESIGN.md §6).
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._group = GroupCommit(self._db, self._lock)
            self._migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc

    def _migrate(self) -> None:
        with self._tx() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)")
            row = cur.execute("SELECT max(version) FROM schema_version").fetchone()
            current = row[0] or 0
            if current > len(_MIGRATIONS):  # rows of a newer layout would be misread
                raise StoreError(
                    f"store {self.path} has schema {current}, newer than this release's"
                    f" {len(_MIGRATIONS)}: upgrade pakn_sign to open it"
                )
            for version, script in enumerate(_MIGRATIONS, start=1):
                if version > current:
                    for statement in _split_sql(script):
                        cur.execute(statement)
                    cur.execute("INSERT INTO schema_version VALUES (?)", (version,))
            for statement in _INDEXES:
                cur.execute(statement)

    def batch(self) -> AbstractContextManager[list[sqlite3.Error]]:
        """This thread's transactions in the block share one COMMIT at its end (the store
        worker's batches, store_worker.py); the list holds the error if that failed."""
        return self._group.batch()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        # Concurrent transactions share one fsynced COMMIT (sqlite_group.py).
        try:
            with self._group.transaction() as cur:
                yield cur
        except sqlite3.Error as exc:
            raise StoreError(f"store operation failed: {exc}") from exc

    def _transition(
        self,
        cur: sqlite3.Cursor,
        box: str,
        key: str,
        old: str | None,
        new: str,
        now: dt.datetime,
        detail: str | None = None,
    ) -> None:
        cur.execute(
            "INSERT INTO transitions(box, key, from_state, to_state, at, detail)"
            " VALUES (?,?,?,?,?,?)",
            (box, key, old, new, _ts(now), detail),
        )

    def _append_audit(self, cur: sqlite3.Cursor, record: Mapping[str, Any]) -> AuditRecord:
        row = cur.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
        data = canonical_record({**record, "seq": seq})
        h = chain_hash(prev, data)
        cur.execute("INSERT INTO audit_log(seq, record, hash) VALUES (?,?,?)", (seq, data, h))
        return AuditRecord(seq, data, h)

    # --- evidence -----------------------------------------------------------------------

    def transitions(self, key: str) -> list[Transition]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, box, key, from_state, to_state, at, detail FROM transitions"
                " WHERE key=? ORDER BY seq",
                (key,),
            ).fetchall()
        return [
            Transition(r[0], r[1], r[2], r[3], r[4], _dt(r[5]) or dt.datetime.min, r[6])
            for r in rows
        ]

    def audit(self, record: Mapping[str, Any]) -> AuditRecord:
        with self._tx() as cur:
            return self._append_audit(cur, record)

    def audit_records(self) -> list[AuditRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, record, hash FROM audit_log ORDER BY rowid"
            ).fetchall()
        return [AuditRecord(r[0], bytes(r[1]), bytes(r[2])) for r in rows]

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO audit_checkpoints(seq, head, signed) VALUES (?,?,?)",
                (checkpoint.seq, checkpoint.head, checkpoint.signed),
            )

    def checkpoints(self) -> list[Checkpoint]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, head, signed FROM audit_checkpoints ORDER BY seq"
            ).fetchall()
        return [Checkpoint(r[0], bytes(r[1]), bytes(r[2])) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    out, buf = [], []
    for line in script.strip().splitlines():
        buf.append(line)
        text = "\n".join(buf).strip()
        if text.endswith(";") and (
            not text.upper().startswith("CREATE TRIGGER") or text.endswith("END;")
        ):
            out.append(text)
            buf = []
    return out
