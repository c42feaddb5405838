"""Derive the report's counts from cases, each replayed as of the report's instant.

Internal to :mod:`pakn_sign.models.statistics` (which re-exports the row types); the buckets
are defined in its docstring and in docs/statistics.md.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import TypeVar

from .deadlines import CaseDeadline, DeadlinePurpose, DeadlineRules
from .handling import Answer, AnswerReturn, Forwarding
from .intake import Classification, ClassificationCode, Petition
from .lifecycle import Case, CaseState, document_time
from .public import CitizenFeedback, FeedbackVerdict

__all__ = ["ANSWERED_STATES", "CaseTally", "DisputedAnswer", "OverdueAnswer"]

_D = TypeVar("_D")
_S = CaseState
ANSWERED_STATES = frozenset({_S.ANSWERED, _S.PUBLISHED, _S.CITIZEN_ACCEPTED, _S.CITIZEN_DISPUTED})
"""States in which the latest answer stands (returned or reopened answers do not count)."""


@dataclass(frozen=True, slots=True)
class OverdueAnswer:
    """An answer past its due date at ``at``: the agency to chase (Decision 574: 20 days)."""

    case_id: str
    agency: str
    due_on: dt.date
    days_overdue: int
    """Calendar days from ``due_on`` to the report's ``at`` (Vietnam dates)."""
    started_by: str


@dataclass(frozen=True, slots=True)
class DisputedAnswer:
    """The case's latest answer, which the citizen disagrees with (to re-examine)."""

    case_id: str
    agency: str
    answer_id: str
    feedback_id: str
    disputed_on: dt.date
    state: CaseState
    """CITIZEN_DISPUTED: not yet sent back; REOPENED/IN_PROGRESS: being re-examined."""


def _as_of(case: Case, at: dt.datetime, rules: DeadlineRules) -> Case | None:
    """The case replayed from its documents dated at or before ``at`` (None: not yet received)."""
    docs = [d for d in case.documents if document_time(d) <= at]
    if len(docs) == len(case.documents):
        return case
    if not docs or not isinstance(docs[0], Petition):
        return None
    return Case.from_documents(docs, rules=rules, calendar=case.calendar)


class CaseTally:
    """Counts one case at a time (the buckets of the statistics module docstring)."""

    def __init__(self, at: dt.datetime, rules: DeadlineRules):
        self.at = at
        self.rules = rules
        self.counts: Counter[str] = Counter()
        self.sectors: Counter[str | None] = Counter()
        self.overdue: list[OverdueAnswer] = []
        self.disputed: list[DisputedAnswer] = []

    def add(self, case: Case, *, period_start: dt.date, period_end: dt.date) -> None:
        """Count ``case`` as of ``at`` if its petition was received in the period."""
        petition = case.documents[0]
        assert isinstance(petition, Petition)  # Case.from_documents guarantees it
        if not period_start <= case.calendar.local_date(petition.received_at) <= period_end:
            return
        snapshot = _as_of(case, self.at, self.rules)
        if snapshot is not None:
            self._count(snapshot, petition)

    def _count(self, case: Case, petition: Petition) -> None:
        c, state = self.counts, case.state
        c["received"] += 1
        if state is CaseState.REJECTED_INVALID:
            c["not_accepted"] += 1
            return
        if state is CaseState.RECEIVED:
            c["pending_intake"] += 1
            return
        c["in_scope"] += 1
        cls = _last(case, Classification)
        if cls is None:  # an information request comes before classification (lifecycle.py)
            c["unclassified"] += 1
        elif cls.classification is ClassificationCode.ADMIN_BEHAVIOUR:
            c["admin_behaviour"] += 1
        else:
            c["regulations"] += 1
        self.sectors[cls.sector if cls is not None else petition.sector] += 1
        if state is CaseState.MORE_INFO_REQUESTED:
            c["awaiting_information"] += 1
        elif state is CaseState.CLASSIFIED:  # not yet forwarded, or refused with status 02
            c["awaiting_forwarding"] += 1
        else:
            c["forwarded" if _last(case, Forwarding) else "handled_in_house"] += 1
            c["answered" if state in ANSWERED_STATES else "still_handled"] += 1
        self._overdue(case)
        self._disputed(case)

    def _overdue(self, case: Case) -> None:
        today = case.calendar.local_date(self.at)
        for d in case.overdue(at=self.at):
            if d.purpose is DeadlinePurpose.ANSWER:
                days = (today - d.due_on).days
                agency = _agency(case, d)
                self.overdue.append(
                    OverdueAnswer(case.case_id, agency, d.due_on, days, d.started_by)
                )

    def _disputed(self, case: Case) -> None:
        feedback, answer = _last(case, CitizenFeedback), _last(case, Answer)
        if feedback is None or answer is None or feedback.verdict is not FeedbackVerdict.DISAGREE:
            return
        if feedback.answer.document_id != answer.document_id:
            return  # a newer answer has replaced the disputed one
        self.disputed.append(
            DisputedAnswer(
                case_id=case.case_id,
                agency=answer.issuer,
                answer_id=answer.document_id,
                feedback_id=feedback.document_id,
                disputed_on=case.calendar.local_date(feedback.issued_at),
                state=case.state,
            )
        )


def _last(case: Case, kind: type[_D]) -> _D | None:
    found = [d for d in case.documents if isinstance(d, kind)]
    return found[-1] if found else None


def _agency(case: Case, deadline: CaseDeadline) -> str:
    """Who owes the answer: the forwarding's addressee, the author of a returned answer, or
    the receiving agency itself (in-scope classification)."""
    by_id = {d.document_id: d for d in case.documents}
    start = by_id[deadline.started_by]
    if isinstance(start, Forwarding):
        return start.to_agency
    if isinstance(start, AnswerReturn):
        returned = by_id.get(start.answer.document_id)
        if isinstance(returned, Answer):
            return returned.issuer
    if isinstance(start, Classification):
        return start.issuer
    return str(getattr(start, "issuer", "?"))
