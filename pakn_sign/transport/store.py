"""The outbox/inbox store interface. ``SQLiteStore`` implements it; a PostgreSQL backend
implements the same protocol for several server processes.

Every state change is one transaction that also appends a row to the append-only
``transitions`` table and, where it matters for evidence, a record to the audit chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .audit import AuditRecord, Checkpoint
from .states import InboxState, OutboxState

__all__ = ["InboxRecord", "OutboxRecord", "PartRef", "Store", "Transition", "write_cache"]


@dataclass(frozen=True, slots=True)
class PartRef:
    """A payload part: its manifest name, digest and size, and where its bytes are.

    A large part lives in a spool file (``location``). A small part is kept *inline*
    (``data``): its bytes are stored inside the store's own transaction, so the one fsynced
    COMMIT that records the message also makes the part durable (no part file, file fsync
    and directory fsyncs). ``path`` works for both: for an inline part it writes a cache
    copy at ``location`` on first use (content-addressed, re-checked against ``sha256``).
    """

    name: str
    media_type: str
    sha256: str
    size: int
    location: str
    data: bytes | None = None

    @property
    def path(self) -> str:
        """A file with the part's bytes (for an inline part: a cache copy, made on demand)."""
        if self.data is not None:
            _materialise(Path(self.location), self.data, self.sha256)
        return self.location

    def read_bytes(self) -> bytes:
        return self.data if self.data is not None else Path(self.location).read_bytes()

    def chunks(self, size: int) -> Iterator[bytes]:
        """The bytes in pieces of at most ``size`` (a spooled part is never read whole)."""
        if self.data is not None:
            for start in range(0, len(self.data), size):
                yield self.data[start : start + size]
            return
        with open(self.location, "rb") as fh:
            while chunk := fh.read(size):
                yield chunk


def _materialise(target: Path, data: bytes, sha256: str) -> None:
    """Make ``target`` hold ``data``. Not fsynced: the store holds the durable copy, and a
    torn or stale cache file (after a crash) fails the digest check and is rewritten."""
    try:
        if hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
            return
    except FileNotFoundError:
        pass
    write_cache(str(target), data)


def write_cache(location: str, data: bytes) -> None:
    """Write an inline part's cache copy (temporary name, then an atomic rename)."""
    tmp = f"{location}.{os.getpid()}-{threading.get_ident()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(location), exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    os.replace(tmp, location)


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """An outgoing message with its frozen bytes (signed header + spooled parts)."""

    message_id: str
    recipient: str
    header: bytes
    envelope_digest: str
    parts: tuple[PartRef, ...]
    state: OutboxState
    attempts: int
    queued_at: dt.datetime
    next_attempt_at: dt.datetime | None
    last_error: str | None
    receipt: bytes | None


@dataclass(frozen=True, slots=True)
class InboxRecord:
    """An incoming message as stored, with the receipt we signed for it."""

    sender: str
    message_id: str
    envelope_digest: str
    header: bytes
    parts: tuple[PartRef, ...]
    state: InboxState
    received_at: dt.datetime
    receipt: bytes | None
    lease_until: dt.datetime | None
    lease_token: str | None


@dataclass(frozen=True, slots=True)
class Transition:
    """One row of the append-only state-transition table."""

    seq: int
    box: str
    key: str
    from_state: str | None
    to_state: str
    at: dt.datetime
    detail: str | None


class Store(Protocol):
    """Durable outbox, inbox, transitions and audit chain."""

    # outbox
    def enqueue(
        self,
        *,
        message_id: str,
        recipient: str,
        header: bytes,
        envelope_digest: str,
        parts: Sequence[PartRef],
        now: dt.datetime,
    ) -> OutboxRecord: ...
    def outbox(self, message_id: str) -> OutboxRecord | None: ...
    def due(
        self, now: dt.datetime, *, limit: int = 100, recipient: str | None = None
    ) -> list[OutboxRecord]: ...
    def mark_sending(
        self, message_id: str, now: dt.datetime, *, lease: dt.timedelta = ...
    ) -> bool: ...
    def claim(
        self, message_ids: Sequence[str], now: dt.datetime, *, lease: dt.timedelta
    ) -> set[str]: ...
    def finish(
        self, message_id: str, *, state: OutboxState, receipt: bytes, now: dt.datetime
    ) -> None: ...
    def retry_later(
        self, message_id: str, *, next_attempt_at: dt.datetime | None, error: str, now: dt.datetime
    ) -> OutboxState: ...
    def redrive(self, message_id: str, now: dt.datetime) -> None: ...
    def outbox_counts(self) -> dict[str, int]: ...

    # inbox
    def inbox(self, sender: str, message_id: str) -> InboxRecord | None: ...
    def inbox_by_id(self, message_id: str) -> InboxRecord | None: ...
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
    ) -> InboxRecord: ...
    def set_receipt(self, sender: str, message_id: str, receipt: bytes) -> bool: ...
    def lease(
        self, now: dt.datetime, *, duration: dt.timedelta, limit: int = 10
    ) -> list[InboxRecord]: ...
    def complete(
        self, sender: str, message_id: str, *, lease_token: str, now: dt.datetime
    ) -> bool: ...
    def inbox_counts(self) -> dict[str, int]: ...

    # evidence
    def transitions(self, key: str) -> list[Transition]: ...
    def audit(self, record: Mapping[str, Any]) -> AuditRecord: ...
    def audit_records(self) -> list[AuditRecord]: ...
    def add_checkpoint(self, checkpoint: Checkpoint) -> None: ...
    def checkpoints(self) -> list[Checkpoint]: ...
    def close(self) -> None: ...
