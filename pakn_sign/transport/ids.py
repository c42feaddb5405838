"""Message identifiers: UUIDv7 (RFC 9562 §5.7), time-ordered, from an injected time."""

from __future__ import annotations

import datetime as dt
import os
import uuid

__all__ = ["uuid7"]


def uuid7(at: dt.datetime, *, rand: bytes | None = None) -> uuid.UUID:
    """A UUIDv7 whose 48-bit timestamp is ``at`` in Unix milliseconds.

    RFC 9562 §5.7: unix_ts_ms(48) | ver(4)=7 | rand_a(12) | var(2)=0b10 | rand_b(62).
    """
    ms = int(at.timestamp() * 1000)
    if not 0 <= ms < 1 << 48:
        raise ValueError(f"time {at.isoformat()} is outside the UUIDv7 range")
    r = rand if rand is not None else os.urandom(10)
    if len(r) != 10:
        raise ValueError("rand must be 10 bytes")
    rand_a = int.from_bytes(r[:2], "big") & 0x0FFF
    rand_b = int.from_bytes(r[2:], "big") & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return uuid.UUID(int=value)
