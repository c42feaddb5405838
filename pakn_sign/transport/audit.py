"""Hash-chained audit log with signed checkpoints.

Each record is canonical JSON; its chain hash is ``h_n = SHA-256(h_{n-1} || record_n)``
with ``h_0`` = 32 zero bytes. A checkpoint signs ``{seq, head}`` with the node's
organisation key (JWS flattened), so any change, deletion, reordering or truncation
before the newest checkpoint is detected. Records after the last checkpoint are
protected by the chain only (truncating them is undetectable; documented).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import VerificationError

__all__ = [
    "GENESIS",
    "AuditRecord",
    "Checkpoint",
    "canonical_record",
    "chain_hash",
    "verify_chain",
]

GENESIS = b"\x00" * 32


def canonical_record(record: Mapping[str, Any]) -> bytes:
    """Deterministic bytes of one record (sorted keys, compact, UTF-8)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(previous: bytes, record: bytes) -> bytes:
    """``H(h_{n-1} || record_n)``."""
    return hashlib.sha256(previous + record).digest()


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One stored record: its sequence number, bytes and chain hash."""

    seq: int
    record: bytes
    hash: bytes


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement that the chain head at ``seq`` was ``head``."""

    seq: int
    head: bytes
    signed: bytes


def verify_chain(
    records: Iterable[AuditRecord],
    checkpoints: Iterable[Checkpoint],
    *,
    verify_checkpoint: Callable[[Checkpoint], Mapping[str, Any]],
) -> int:
    """Check the whole log; return the number of records verified.

    Args:
        records: in storage order.
        checkpoints: all checkpoints.
        verify_checkpoint: checks the checkpoint's signature and returns its signed payload
            (``{"seq": n, "head": hex}``); raises ``VerificationError`` when the signature fails.

    Raises:
        VerificationError: a record was changed, deleted, inserted or reordered, or the log
            was truncated before a checkpoint, or a checkpoint is forged.
    """
    heads: dict[int, bytes] = {}
    expected_seq = 1
    previous = GENESIS
    for rec in records:
        if rec.seq != expected_seq:
            raise VerificationError(
                f"audit record {expected_seq} is missing or out of order (found {rec.seq})",
                location=f"seq {rec.seq}",
                code="audit.sequence",
            )
        h = chain_hash(previous, rec.record)
        if h != rec.hash:
            raise VerificationError(
                "audit record does not match its chain hash (changed or reordered)",
                location=f"seq {rec.seq}",
                code="audit.hash_mismatch",
            )
        heads[rec.seq] = h
        previous = h
        expected_seq += 1
    last = expected_seq - 1
    for cp in checkpoints:
        payload = verify_checkpoint(cp)
        if payload.get("seq") != cp.seq or payload.get("head") != cp.head.hex():
            raise VerificationError(
                "checkpoint row differs from its signed content",
                location=f"checkpoint {cp.seq}",
                code="audit.checkpoint_forged",
            )
        if cp.seq > last:
            raise VerificationError(
                f"log truncated: checkpoint at {cp.seq} but only {last} records",
                location=f"checkpoint {cp.seq}",
                code="audit.truncated",
            )
        if heads[cp.seq] != cp.head:
            raise VerificationError(
                "records before this checkpoint were changed",
                location=f"checkpoint {cp.seq}",
                code="audit.checkpoint_mismatch",
            )
    return last
