"""Injectable time. The library never reads the wall clock except through ``Clock``."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

__all__ = ["VN_TZ", "Clock", "FixedClock", "SystemClock", "ensure_aware"]

VN_TZ = dt.timezone(dt.timedelta(hours=7), "Asia/Ho_Chi_Minh")
"""Vietnam has had no DST since 1975, so a fixed +07:00 offset is exact for displays."""


class Clock(Protocol):
    """Anything with ``now() -> aware datetime``."""

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The real clock, in UTC. Used only when a caller passes no time and no clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that always says ``at`` (tests, replays)."""

    def __init__(self, at: dt.datetime):
        self._at = ensure_aware(at)

    def now(self) -> dt.datetime:
        return self._at


def ensure_aware(value: dt.datetime, *, name: str = "time") -> dt.datetime:
    """Return ``value`` unchanged if timezone-aware; raise ``ConfigurationError`` otherwise."""
    if value.tzinfo is None or value.utcoffset() is None:
        from .errors import ConfigurationError  # only on failure: an import costs ~1.5 us a call

        raise ConfigurationError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value
