"""Message states in the outbox and inbox (one comment per member, as httpx ``ClientState``)."""

from __future__ import annotations

import enum

__all__ = ["InboxState", "OutboxState"]


class OutboxState(enum.StrEnum):
    """Where an outgoing message is."""

    QUEUED = "queued"
    """Stored with its frozen id and bytes; not yet tried."""
    SENDING = "sending"
    """An attempt is in flight (a crash here leads to a resend of the same bytes)."""
    ACKNOWLEDGED = "acknowledged"
    """A valid signed positive receipt is stored. Final."""
    REJECTED = "rejected"
    """A valid signed negative receipt is stored. Final."""
    RETRY_WAIT = "retry-wait"
    """The last attempt failed transiently; ``next_attempt_at`` says when to try again."""
    DEAD = "dead"
    """Too old or too many attempts; an operator may re-drive it (same id and bytes)."""


class InboxState(enum.StrEnum):
    """Where an incoming message is."""

    RECEIVED = "received"
    """Durably stored and receipted; the business handler has not run yet."""
    PROCESSING = "processing"
    """Leased to a handler (push handler or a pull client); expires with the lease."""
    DONE = "done"
    """The handler finished and acknowledged it. Final."""


OUTBOX_FINAL = frozenset({OutboxState.ACKNOWLEDGED, OutboxState.REJECTED})
