"""Deadlines as data, each with its legal source (DOMAIN.md §6 "Deadlines").

Counting follows the Civil Code 2015 (Bộ luật Dân sự 91/2015/QH13): the day of the event
is not counted (Art. 147(1)) and, for periods in calendar days, a period ending on a weekend
or holiday ends on the next working day (Art. 148(5)). Both are our reading; no PAKN text says
so (DOMAIN.md has no source for counting).

Calendar vs working days for Decision 574 is unverified (DOMAIN.md §1.1). **Our default:
calendar days** for the 20-day answer and the 7-day progress update, because the sources
DOMAIN.md cites quote "20 ngày" and "07 ngày" without "làm việc" (Vietnamese legal texts
write "ngày làm việc" when they mean working days); :data:`MOHA_852_RULES` counts progress
updates in working days as MoHA 852/QĐ-BNV does. Pass other :class:`DeadlineRules` to change
the counting.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace

from .calendar import WorkingCalendar
from .common import Deadline

__all__ = [
    "DEFAULT_RULES",
    "MOHA_852_RULES",
    "CaseDeadline",
    "DayCount",
    "DeadlinePurpose",
    "DeadlineRule",
    "DeadlineRules",
]


class DayCount(enum.StrEnum):
    """How a period is counted."""

    CALENDAR = "calendar"
    """Every day; the last day rolls forward to a working day if ``roll_forward``."""
    WORKING = "working"
    """Working days of the :class:`~pakn_sign.models.calendar.WorkingCalendar`."""


@dataclass(frozen=True, slots=True)
class DeadlineRule:
    """One legal time limit."""

    id: str
    """Stable id, stored in ``Deadline.rule`` on the wire."""
    days: int
    count: DayCount
    legal_source: str
    """The instrument and where it says so, with DOMAIN.md's reliability marker."""
    description: str
    roll_forward: bool = True
    """Civil Code 2015 Art. 148(5); only matters for calendar days."""

    def due_on(self, start: dt.datetime, calendar: WorkingCalendar) -> dt.date:
        """The last day (in Vietnam) on which the deadline is met, counted from ``start``."""
        day = calendar.local_date(start)
        if self.count is DayCount.WORKING:
            return calendar.add_working_days(day, self.days)
        return calendar.add_calendar_days(day, self.days, roll_forward=self.roll_forward)

    def deadline(self, start: dt.datetime, calendar: WorkingCalendar) -> Deadline:
        """The wire :class:`~pakn_sign.models.common.Deadline` for an event at ``start``."""
        return Deadline(
            due_on=self.due_on(start, calendar), rule=self.id, legal_source=self.legal_source
        )


@dataclass(frozen=True, slots=True)
class DeadlineRules:
    """The set of rules a case is checked against."""

    answer: DeadlineRule
    progress_update: DeadlineRule
    forward_out_of_scope: DeadlineRule


DEFAULT_RULES = DeadlineRules(
    answer=DeadlineRule(
        id="qd574-2017.answer",
        days=20,
        count=DayCount.CALENDAR,
        legal_source="Quyết định 574/QĐ-TTg (25/04/2017): trả lời trong 20 ngày [S, 2nd wording]",
        description="answer within 20 days of the competent agency receiving the PAKN",
    ),
    progress_update=DeadlineRule(
        id="qd574-2017.progress",
        days=7,
        count=DayCount.CALENDAR,
        legal_source="Quyết định 574/QĐ-TTg (25/04/2017): cập nhật tiến độ 07 ngày một lần [S]",
        description="while an answer is overdue, post a progress update every 7 days",
    ),
    forward_out_of_scope=DeadlineRule(
        id="nd92-2017.forward",
        days=5,
        count=DayCount.WORKING,
        legal_source="Nghị định 92/2017/NĐ-CP: chuyển trong 05 ngày làm việc [S]",
        description="forward a regulation PAKN outside the receiver's competence",
    ),
)
"""Our defaults (see the module docstring for the calendar-days choice)."""

MOHA_852_RULES = replace(
    DEFAULT_RULES,
    progress_update=replace(
        DEFAULT_RULES.progress_update,
        id="qd852-2018-bnv.progress",
        count=DayCount.WORKING,
        legal_source="Quyết định 852/QĐ-BNV (22/05/2018): 07 ngày làm việc [S]",
    ),
)
"""The Ministry of Home Affairs' reading: progress updates every 7 working days."""


class DeadlinePurpose(enum.StrEnum):
    """What a case deadline is for."""

    FORWARD = "forward"  # Decree 92/2017: forward out-of-scope regulation PAKN
    ANSWER = "answer"  # Decision 574: answer
    PROGRESS_UPDATE = "progress_update"  # Decision 574: 7-day progress update while late


@dataclass(frozen=True, slots=True)
class CaseDeadline:
    """A deadline of the case, whether it was met, and when."""

    purpose: DeadlinePurpose
    rule: str
    legal_source: str
    due_on: dt.date
    """Last day (Asia/Ho_Chi_Minh) on which the deadline is met."""
    started_by: str
    """The document that started the clock."""
    met_by: str | None = None
    met_at: dt.datetime | None = None

    def is_overdue(self, at: dt.datetime, calendar: WorkingCalendar) -> bool:
        """Unmet, and ``at`` is past the due date in Vietnam."""
        return self.met_at is None and calendar.local_date(at) > self.due_on

    def was_late(self, calendar: WorkingCalendar) -> bool:
        """Met, but after the due date."""
        return self.met_at is not None and calendar.local_date(self.met_at) > self.due_on
