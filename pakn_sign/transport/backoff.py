"""Retry schedule: exponential backoff with full jitter, a cap and a maximum age.

"Full jitter" (AWS Architecture Blog, 2015): sleep = uniform(0, min(cap, base * 2**attempt)).
The schedule is pure: randomness and time are passed in, so tests can pin both.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to try again, and when to give up (the message becomes ``dead``)."""

    base: dt.timedelta = dt.timedelta(seconds=2)
    """First retry window."""
    cap: dt.timedelta = dt.timedelta(minutes=15)
    """Largest window between attempts."""
    max_age: dt.timedelta = dt.timedelta(days=2)
    """After this long since the message was queued, it is dead (re-drivable by an operator)."""
    max_attempts: int = 200
    """Hard stop on attempts, whatever the age."""
    attempt_timeout: dt.timedelta = dt.timedelta(seconds=60)
    """How long one attempt holds its claim; after a crash the message is due again then."""

    def next_attempt(
        self,
        *,
        attempts: int,
        queued_at: dt.datetime,
        now: dt.datetime,
        rng: random.Random | None = None,
    ) -> dt.datetime | None:
        """When to try next after ``attempts`` failed tries, or ``None`` if the message is dead."""
        if attempts >= self.max_attempts or now - queued_at >= self.max_age:
            return None
        window = min(self.cap.total_seconds(), self.base.total_seconds() * (2 ** min(attempts, 60)))
        r = rng if rng is not None else random.SystemRandom()
        delay = dt.timedelta(seconds=r.uniform(0, window))
        return now + delay

    def window(self, attempts: int) -> dt.timedelta:
        """The upper bound of the delay after ``attempts`` failures (for tests and docs)."""
        seconds = min(
            self.cap.total_seconds(), self.base.total_seconds() * (2 ** min(attempts, 60))
        )
        return dt.timedelta(seconds=seconds)
