"""Crash injection for the delivery guarantees' tests: ``PAKN_FAULT=point@n`` kills the
process with SIGKILL the n-th time it passes ``point`` (no cleanup, like a power cut).

Points (docs/transport.md): sender.after_outbox_commit, sender.mid_upload,
sender.after_send_before_receipt, sender.after_receipt_before_record,
receiver.before_inbox_commit, receiver.after_commit_before_receipt,
receiver.after_receipt_stored_before_response, receiver.inside_handler.
The variable is read once, by the I/O shell that builds the node, never by protocol code.
"""

from __future__ import annotations

import os
import signal
import threading

from ..errors import ConfigurationError

__all__ = ["POINTS", "FaultInjector"]

POINTS = frozenset(
    {
        "sender.after_outbox_commit",
        "sender.mid_upload",
        "sender.after_send_before_receipt",
        "sender.after_receipt_before_record",
        "receiver.before_inbox_commit",
        "receiver.after_commit_before_receipt",
        "receiver.after_receipt_stored_before_response",
        "receiver.inside_handler",
    }
)


class FaultInjector:
    """Counts passes through named points and kills the process at the configured one."""

    def __init__(self, spec: str | None = None):
        self._point: str | None = None
        self._at = 0
        self._seen = 0
        self._lock = threading.Lock()
        if spec:
            point, _, n = spec.partition("@")
            if point not in POINTS:
                raise ConfigurationError(f"unknown fault point {point!r}; known: {sorted(POINTS)}")
            self._point = point
            self._at = int(n or "1")

    @classmethod
    def from_env(cls) -> FaultInjector:
        """Read ``PAKN_FAULT`` (the I/O shell calls this, once)."""
        return cls(os.environ.get("PAKN_FAULT"))

    def hit(self, point: str) -> None:
        """Pass ``point``; die here if it is the configured n-th pass."""
        if self._point != point:
            return
        with self._lock:
            self._seen += 1
            if self._seen == self._at:
                os.kill(os.getpid(), signal.SIGKILL)
