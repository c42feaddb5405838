"""SQLite implementation of ``Store``: WAL, ``synchronous=FULL``, migrations, append-only
transitions and audit tables (enforced by triggers)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import StoreError
from .audit import GENESIS, AuditRecord, Checkpoint, canonical_record, chain_hash
from .sqlite_group import GroupCommit
from .states import InboxState, OutboxState
from .store import InboxRecord, OutboxRecord, PartRef, Transition

__all__ = ["SQLiteStore"]

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
)


def _ts(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def _dt(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _parts_json(parts: Sequence[PartRef]) -> str:
    return json.dumps(
        [[p.name, p.media_type, p.sha256, p.size, p.path] for p in parts], ensure_ascii=False
    )


def _parts(value: str) -> tuple[PartRef, ...]:
    return tuple(PartRef(n, m, s, z, p) for n, m, s, z, p in json.loads(value))


class SQLiteStore:
    """A ``Store`` in one SQLite file. Safe for the threads of one process."""

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
            for version, script in enumerate(_MIGRATIONS, start=1):
                if version > current:
                    for statement in _split_sql(script):
                        cur.execute(statement)
                    cur.execute("INSERT INTO schema_version VALUES (?)", (version,))

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

    # --- outbox -------------------------------------------------------------------------

    def enqueue(
        self,
        *,
        message_id: str,
        recipient: str,
        header: bytes,
        envelope_digest: str,
        parts: Sequence[PartRef],
        now: dt.datetime,
    ) -> OutboxRecord:
        """Store a new outgoing message; idempotent for the same id and digest."""
        inserted = False
        with self._tx() as cur:
            row = cur.execute(
                "SELECT envelope_digest FROM outbox WHERE message_id=?", (message_id,)
            ).fetchone()
            if row is not None:
                if row[0] != envelope_digest:
                    raise StoreError(f"message {message_id} already queued with other bytes")
            else:
                inserted = True
                cur.execute(
                    "INSERT INTO outbox(message_id, recipient, header, envelope_digest, parts,"
                    " state, queued_at, next_attempt_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        message_id,
                        recipient,
                        header,
                        envelope_digest,
                        _parts_json(parts),
                        OutboxState.QUEUED.value,
                        _ts(now),
                        _ts(now),
                        _ts(now),
                    ),
                )
                self._transition(cur, "outbox", message_id, None, OutboxState.QUEUED, now)
                self._append_audit(
                    cur,
                    {
                        "event": "sent.queued",
                        "message_id": message_id,
                        "recipient": recipient,
                        "digest": envelope_digest,
                        "at": _ts(now),
                    },
                )
        if inserted:  # what a read-back would give, without the read
            queued = _dt(_ts(now))
            assert queued is not None
            return OutboxRecord(
                message_id, recipient, header, envelope_digest, tuple(parts),
                OutboxState.QUEUED, 0, queued, queued, None, None,
            )  # fmt: skip
        rec = self.outbox(message_id)
        assert rec is not None
        return rec

    def outbox(self, message_id: str) -> OutboxRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT message_id, recipient, header, envelope_digest, parts, state, attempts,"
                " queued_at, next_attempt_at, last_error, receipt FROM outbox WHERE message_id=?",
                (message_id,),
            ).fetchone()
        return None if row is None else self._outbox_row(row)

    @staticmethod
    def _outbox_row(row: Sequence[Any]) -> OutboxRecord:
        queued = _dt(row[7])
        assert queued is not None
        return OutboxRecord(
            row[0],
            row[1],
            bytes(row[2]),
            row[3],
            _parts(row[4]),
            OutboxState(row[5]),
            row[6],
            queued,
            _dt(row[8]),
            row[9],
            None if row[10] is None else bytes(row[10]),
        )

    def due(
        self, now: dt.datetime, *, limit: int = 100, recipient: str | None = None
    ) -> list[OutboxRecord]:
        """Messages to (re)send now: queued, retry-wait past their time, or a lapsed claim."""
        where = "state IN ('queued','retry-wait','sending') AND next_attempt_at <= ?"
        args: tuple[object, ...] = (_ts(now),)
        if recipient is not None:
            where += " AND recipient = ?"
            args += (recipient,)
        # Only fixed clauses are joined into the SQL; every value is a bound parameter.
        sql = (
            "SELECT message_id, recipient, header, envelope_digest, parts, state, attempts,"  # noqa: S608
            " queued_at, next_attempt_at, last_error, receipt FROM outbox WHERE "
            + where
            + " ORDER BY next_attempt_at LIMIT ?"
        )
        with self._lock:
            rows = self._db.execute(sql, (*args, limit)).fetchall()
        return [self._outbox_row(r) for r in rows]

    def _set_outbox_state(
        self,
        cur: sqlite3.Cursor,
        message_id: str,
        new: OutboxState,
        now: dt.datetime,
        detail: str | None = None,
        **fields: Any,
    ) -> OutboxState:
        row = cur.execute("SELECT state FROM outbox WHERE message_id=?", (message_id,)).fetchone()
        if row is None:
            raise StoreError(f"no outgoing message {message_id}")
        sets = ", ".join(f"{k}=?" for k in fields)
        cur.execute(
            f"UPDATE outbox SET state=?, updated_at=?{', ' + sets if sets else ''}"  # noqa: S608
            " WHERE message_id=?",
            (new.value, _ts(now), *fields.values(), message_id),
        )
        self._transition(cur, "outbox", message_id, row[0], new, now, detail)
        return OutboxState(row[0])

    def mark_sending(
        self, message_id: str, now: dt.datetime, *, lease: dt.timedelta = dt.timedelta(seconds=60)
    ) -> bool:
        """Claim a due message for one attempt; False if another worker holds it.

        The attempt counter is persisted before any byte is sent; ``next_attempt_at`` becomes
        the claim's expiry, after which a crashed attempt is due again.
        """
        return message_id in self.claim([message_id], now, lease=lease)

    def claim(
        self, message_ids: Sequence[str], now: dt.datetime, *, lease: dt.timedelta
    ) -> set[str]:
        """``mark_sending`` for several messages in one transaction; returns the claimed ids."""
        claimed: set[str] = set()
        until, at = _ts(now + lease), _ts(now)
        with self._tx() as cur:
            for message_id in message_ids:
                old = cur.execute(
                    "SELECT state FROM outbox WHERE message_id=?", (message_id,)
                ).fetchone()
                n = cur.execute(
                    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at=?, state=?,"
                    " updated_at=? WHERE message_id=?"
                    " AND state IN ('queued','retry-wait','sending') AND next_attempt_at <= ?",
                    (until, OutboxState.SENDING.value, at, message_id, at),
                ).rowcount
                if n:
                    self._transition(cur, "outbox", message_id, old[0], OutboxState.SENDING, now)
                    claimed.add(message_id)
        return claimed

    def finish(
        self, message_id: str, *, state: OutboxState, receipt: bytes, now: dt.datetime
    ) -> None:
        """Store the verified receipt and the final state (acknowledged or rejected)."""
        with self._tx() as cur:
            self._set_outbox_state(
                cur, message_id, state, now, receipt=receipt, next_attempt_at=None
            )
            self._append_audit(
                cur, {"event": f"sent.{state.value}", "message_id": message_id, "at": _ts(now)}
            )

    def retry_later(
        self, message_id: str, *, next_attempt_at: dt.datetime | None, error: str, now: dt.datetime
    ) -> OutboxState:
        """Schedule the next attempt, or mark the message dead when ``next_attempt_at`` is None."""
        new = OutboxState.RETRY_WAIT if next_attempt_at is not None else OutboxState.DEAD
        with self._tx() as cur:
            self._set_outbox_state(
                cur,
                message_id,
                new,
                now,
                error[:500],
                last_error=error[:2000],
                next_attempt_at=_ts(next_attempt_at),
            )
            if new is OutboxState.DEAD:
                self._append_audit(
                    cur,
                    {
                        "event": "sent.dead",
                        "message_id": message_id,
                        "error": error[:500],
                        "at": _ts(now),
                    },
                )
        return new

    def redrive(self, message_id: str, now: dt.datetime) -> None:
        """Operator action: send a dead message again, same id and bytes, attempts reset."""
        with self._tx() as cur:
            old = self._set_outbox_state(
                cur,
                message_id,
                OutboxState.QUEUED,
                now,
                "redrive",
                attempts=0,
                next_attempt_at=_ts(now),
                queued_at=_ts(now),
            )
            if old is not OutboxState.DEAD:
                raise StoreError(f"message {message_id} is {old.value}; only dead ones re-drive")

    def outbox_counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall()
        return {r[0]: r[1] for r in rows}

    # --- inbox --------------------------------------------------------------------------

    _INBOX_COLS = (
        "sender, message_id, envelope_digest, header, parts, state, received_at, receipt,"
        " lease_until, lease_token"
    )

    @staticmethod
    def _inbox_row(row: Sequence[Any]) -> InboxRecord:
        received = _dt(row[6])
        assert received is not None
        return InboxRecord(
            row[0],
            row[1],
            row[2],
            bytes(row[3]),
            _parts(row[4]),
            InboxState(row[5]),
            received,
            None if row[7] is None else bytes(row[7]),
            _dt(row[8]),
            row[9],
        )

    def inbox(self, sender: str, message_id: str) -> InboxRecord | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {self._INBOX_COLS} FROM inbox WHERE sender=? AND message_id=?",  # noqa: S608
                (sender, message_id),
            ).fetchone()
        return None if row is None else self._inbox_row(row)

    def inbox_by_id(self, message_id: str) -> InboxRecord | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {self._INBOX_COLS} FROM inbox WHERE message_id=?",  # noqa: S608
                (message_id,),
            ).fetchone()
        return None if row is None else self._inbox_row(row)

    def accept(
        self,
        *,
        sender: str,
        message_id: str,
        envelope_digest: str,
        header: bytes,
        parts: Sequence[PartRef],
        now: dt.datetime,
        audit: Mapping[str, Any],
    ) -> InboxRecord:
        """Durably store a verified incoming message (dedup is the caller's check first)."""
        with self._tx() as cur:
            cur.execute(
                f"INSERT INTO inbox({self._INBOX_COLS}, updated_at)"  # noqa: S608
                " VALUES (?,?,?,?,?,?,?,NULL,NULL,NULL,?)",
                (
                    sender,
                    message_id,
                    envelope_digest,
                    header,
                    _parts_json(parts),
                    InboxState.RECEIVED.value,
                    _ts(now),
                    _ts(now),
                ),
            )
            self._transition(cur, "inbox", f"{sender}/{message_id}", None, InboxState.RECEIVED, now)
            self._append_audit(cur, {**audit, "at": _ts(now)})
        received = _dt(_ts(now))  # what a read-back would give, without the read
        assert received is not None
        return InboxRecord(
            sender, message_id, envelope_digest, header, tuple(parts), InboxState.RECEIVED,
            received, None, None, None,
        )  # fmt: skip

    def set_receipt(self, sender: str, message_id: str, receipt: bytes) -> bool:
        """Keep the signed receipt so duplicates and GETs replay exactly the same bytes.

        Returns False when a receipt was already stored (that one stays).
        """
        with self._tx() as cur:
            n = cur.execute(
                "UPDATE inbox SET receipt=? WHERE sender=? AND message_id=? AND receipt IS NULL",
                (receipt, sender, message_id),
            ).rowcount
        return bool(n)

    def lease(
        self, now: dt.datetime, *, duration: dt.timedelta, limit: int = 10
    ) -> list[InboxRecord]:
        """Lease received (or lease-expired) messages; the handler acks with ``complete``."""
        out: list[InboxRecord] = []
        with self._tx() as cur:
            rows = cur.execute(
                "SELECT sender, message_id, state FROM inbox WHERE state='received'"
                " OR (state='processing' AND lease_until <= ?) ORDER BY received_at LIMIT ?",
                (_ts(now), limit),
            ).fetchall()
            for sender, mid, old in rows:
                token = uuid.uuid4().hex
                cur.execute(
                    "UPDATE inbox SET state='processing', lease_until=?, lease_token=?,"
                    " updated_at=? WHERE sender=? AND message_id=?",
                    (_ts(now + duration), token, _ts(now), sender, mid),
                )
                self._transition(cur, "inbox", f"{sender}/{mid}", old, InboxState.PROCESSING, now)
        for sender, mid, _ in rows:
            rec = self.inbox(sender, mid)
            assert rec is not None
            out.append(rec)
        return out

    def complete(self, sender: str, message_id: str, *, lease_token: str, now: dt.datetime) -> bool:
        """Mark a leased message done; False if the lease was lost (another handler has it)."""
        with self._tx() as cur:
            n = cur.execute(
                "UPDATE inbox SET state='done', lease_until=NULL, updated_at=? WHERE sender=?"
                " AND message_id=? AND state='processing' AND lease_token=?",
                (_ts(now), sender, message_id, lease_token),
            ).rowcount
            if n:
                self._transition(
                    cur, "inbox", f"{sender}/{message_id}", "processing", InboxState.DONE, now
                )
        return bool(n)

    def inbox_counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, count(*) FROM inbox GROUP BY state").fetchall()
        return {r[0]: r[1] for r in rows}

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
