"""A Vietnamese working-day calendar with a pluggable holiday list.

Working days are Monday to Friday (state agencies' 40-hour week, Decision 188/1999/QĐ-TTg;
not in DOMAIN.md, our reading) minus public holidays, in Asia/Ho_Chi_Minh time (+07:00, no
DST since 1975). Holidays come from a :class:`HolidayProvider`: :class:`VietnamHolidays`
(the ``holidays`` package, which computes the lunar Tết and Hùng Kings days) by default, or
:class:`FixedHolidays` for tests and for deployments that load the Government's yearly
announcement.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

from ..clock import VN_TZ, ensure_aware

__all__ = ["FixedHolidays", "HolidayProvider", "VietnamHolidays", "WorkingCalendar"]


@runtime_checkable
class HolidayProvider(Protocol):
    """Anything that says whether a date is a public holiday (a day off on a weekday)."""

    def is_holiday(self, day: dt.date) -> bool: ...


class FixedHolidays:
    """An explicit list of holidays (and optionally of swapped working Saturdays)."""

    def __init__(self, days: Iterable[dt.date], *, working_weekend_days: Iterable[dt.date] = ()):
        self.days = frozenset(days)
        self.working_weekend_days = frozenset(working_weekend_days)

    def is_holiday(self, day: dt.date) -> bool:
        """True if ``day`` is in the list."""
        return day in self.days

    def is_working_weekend_day(self, day: dt.date) -> bool:
        """True if ``day`` is a Saturday or Sunday worked in exchange for a bridge day off."""
        return day in self.working_weekend_days


class VietnamHolidays:
    """Vietnam's public holidays from the ``holidays`` package (Labour Code 2019 Art. 112).

    The package includes Tết (lunar, 5 days), Hùng Kings' day and some announced substitute
    days off; it does not know the Saturdays worked in exchange, so those count as weekend.
    """

    def __init__(self) -> None:
        import holidays  # only when used: a large import

        self._lock = threading.Lock()
        self._calendar: Any = holidays.country_holidays("VN")

    def is_holiday(self, day: dt.date) -> bool:
        """True if ``day`` is a public holiday or an announced day off."""
        with self._lock:  # the package fills years lazily and is not thread-safe
            return day in self._calendar


class WorkingCalendar:
    """Counts calendar and working days in Vietnam's time zone.

    Args:
        holidays: the holiday provider; ``None`` means :class:`VietnamHolidays`.
    """

    def __init__(self, holidays: HolidayProvider | None = None):
        self.holidays: HolidayProvider = holidays if holidays is not None else VietnamHolidays()
        self.tz = VN_TZ

    def local_date(self, at: dt.datetime) -> dt.date:
        """The date in Vietnam at the instant ``at`` (must be timezone-aware)."""
        return ensure_aware(at, name="at").astimezone(self.tz).date()

    def is_working_day(self, day: dt.date) -> bool:
        """Monday-Friday and not a holiday, or a weekend day the provider says is worked."""
        swapped = getattr(self.holidays, "is_working_weekend_day", None)
        if day.weekday() >= 5:
            return bool(swapped(day)) if callable(swapped) else False
        return not self.holidays.is_holiday(day)

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` if it is a working day, else the first working day after it."""
        for _ in range(366):
            if self.is_working_day(day):
                return day
            day += dt.timedelta(days=1)
        raise ValueError("no working day within a year: check the holiday provider")

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``day`` (``day`` itself is not counted)."""
        if count < 0:
            raise ValueError("count must be >= 0")
        for _ in range(count):
            day = self.next_working_day(day + dt.timedelta(days=1))
        return day

    def add_calendar_days(self, day: dt.date, count: int, *, roll_forward: bool) -> dt.date:
        """``day`` + ``count`` days; with ``roll_forward``, moved to the next working day."""
        due = day + dt.timedelta(days=count)
        return self.next_working_day(due) if roll_forward else due
