"""SQLite store, part 2: the inbox (accept, receipts, leases for the handler)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from .states import InboxState
from .store import InboxRecord, PartRef
from .store_sqlite_base import SQLiteBase, _dt, _parts, _parts_json, _ts

__all__ = ["SQLiteInbox"]


class SQLiteInbox(SQLiteBase):
    """Inbox operations over the base connection."""

    # --- inbox --------------------------------------------------------------------------

    _INBOX_COLS = (
        "sender, message_id, envelope_digest, header, parts, state, received_at, receipt,"
        " lease_until, lease_token, inline"
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
            _parts(row[4], row[10]),
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
        manifest, inline = _parts_json(parts)
        with self._tx() as cur:
            cur.execute(
                f"INSERT INTO inbox({self._INBOX_COLS}, updated_at)"  # noqa: S608
                " VALUES (?,?,?,?,?,?,?,NULL,NULL,NULL,?,?)",
                (
                    sender,
                    message_id,
                    envelope_digest,
                    header,
                    manifest,
                    InboxState.RECEIVED.value,
                    _ts(now),
                    inline,
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
        """Lease received (or lease-expired) messages; the handler acks with ``complete``.

        Lapsed leases first (their handler died), then the oldest received messages; both
        are index range scans (inbox_state, inbox_received), never a sort of the backlog.
        """
        until = now + duration
        out: list[InboxRecord] = []
        with self._tx() as cur:
            rows = cur.execute(
                f"SELECT {self._INBOX_COLS} FROM inbox"  # noqa: S608
                " WHERE state='processing' AND lease_until <= ? ORDER BY received_at LIMIT ?",
                (_ts(now), limit),
            ).fetchall()
            if len(rows) < limit:
                rows += cur.execute(
                    f"SELECT {self._INBOX_COLS} FROM inbox"  # noqa: S608
                    " WHERE state='received' ORDER BY received_at LIMIT ?",
                    (limit - len(rows),),
                ).fetchall()
            for row in rows:
                sender, mid, old = row[0], row[1], row[5]
                token = uuid.uuid4().hex
                cur.execute(
                    "UPDATE inbox SET state='processing', lease_until=?, lease_token=?,"
                    " updated_at=? WHERE sender=? AND message_id=?",
                    (_ts(until), token, _ts(now), sender, mid),
                )
                self._transition(cur, "inbox", f"{sender}/{mid}", old, InboxState.PROCESSING, now)
                # The record as a read-back would give it, without the read.
                rec = self._inbox_row(row)
                out.append(
                    dataclasses.replace(
                        rec,
                        state=InboxState.PROCESSING,
                        lease_until=_dt(_ts(until)),
                        lease_token=token,
                    )
                )
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
