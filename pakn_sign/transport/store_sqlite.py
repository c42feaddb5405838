"""SQLite implementation of ``Store``: WAL, ``synchronous=FULL``, migrations, append-only
transitions and audit tables (enforced by triggers). Part 3: the outbox; the class
``SQLiteStore`` puts the three parts together."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from typing import Any

from ..errors import StoreError
from .states import OutboxState
from .store import OutboxRecord, PartRef
from .store_sqlite_base import _dt, _parts, _parts_json, _ts
from .store_sqlite_inbox import SQLiteInbox

__all__ = ["SQLiteStore"]


class SQLiteStore(SQLiteInbox):
    """A ``Store`` in one SQLite file. Safe for the threads of one process."""

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
                manifest, inline = _parts_json(parts)
                cur.execute(
                    "INSERT INTO outbox(message_id, recipient, header, envelope_digest, parts,"
                    " inline, state, queued_at, next_attempt_at, updated_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        message_id,
                        recipient,
                        header,
                        envelope_digest,
                        manifest,
                        inline,
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
                " queued_at, next_attempt_at, last_error, receipt, inline FROM outbox"
                " WHERE message_id=?",
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
            _parts(row[4], row[11]),
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
            " queued_at, next_attempt_at, last_error, receipt, inline FROM outbox WHERE "
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
