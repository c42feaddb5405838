"""The outbox/inbox store interface. ``SQLiteStore`` implements it; a PostgreSQL backend
implements the same protocol for several server processes.

Every state change is one transaction that also appends a row to the append-only
``transitions`` table and, where it matters for evidence, a record to the audit chain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .audit import AuditRecord, Checkpoint
from .states import InboxState, OutboxState

__all__ = ["InboxRecord", "OutboxRecord", "PartRef", "Store", "Transition"]


@dataclass(frozen=True, slots=True)
class PartRef:
    """A payload part spooled to disk: its manifest name, digest, size and file path."""

    name: str
    media_type: str
    sha256: str
    size: int
    path: str


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
