"""A case's state and deadlines, derived from its documents and never stored apart.

States come from DOMAIN.md §1.2 (derived from the sources, not a legal list)::

    RECEIVED -> CLASSIFIED -> {REJECTED_INVALID | FORWARDED | IN_PROGRESS}
    IN_PROGRESS -> (every 7 days: progress update) -> ANSWERED
    ANSWERED -> {RETURNED_FOR_REWORK -> IN_PROGRESS | PUBLISHED}

The optional states MORE_INFO_REQUESTED, CITIZEN_ACCEPTED, CITIZEN_DISPUTED and REOPENED have
no legal source; they are on by default and off with ``optional_states=False``.
:data:`TRANSITIONS` is the whole table; anything not in it raises ``LifecycleError``.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..errors import LifecycleError
from ._base import document_digest
from .calendar import WorkingCalendar
from .common import Deadline, DocumentRef
from .deadlines import DEFAULT_RULES, CaseDeadline, DeadlinePurpose, DeadlineRules
from .document import Document
from .handling import Answer, AnswerReturn, EdxmlStatus, Forwarding, StatusNotice
from .intake import (
    Classification,
    ClassificationCode,
    InformationRequest,
    InformationSupplement,
    Petition,
)
from .public import CitizenFeedback, FeedbackVerdict, Publication

__all__ = [
    "OPTIONAL_EVENTS",
    "TRANSITIONS",
    "Case",
    "CaseEvent",
    "CaseState",
    "Transition",
    "document_time",
    "event_of",
]


class CaseState(enum.StrEnum):
    """Where a case stands."""

    RECEIVED = "RECEIVED"  # registered by the receiving agency
    CLASSIFIED = "CLASSIFIED"  # classified, awaiting forwarding to the competent agency
    REJECTED_INVALID = "REJECTED_INVALID"  # Decree 92/2017 class 1: not accepted (final)
    FORWARDED = "FORWARDED"  # sent to the competent agency, not yet acknowledged
    IN_PROGRESS = "IN_PROGRESS"  # being handled (status 03/04/05 or in-scope classification)
    ANSWERED = "ANSWERED"  # an answer awaits checking (Decision 31/2021 Art. 46)
    RETURNED_FOR_REWORK = "RETURNED_FOR_REWORK"  # answer sent back before publication
    PUBLISHED = "PUBLISHED"  # answer published
    MORE_INFO_REQUESTED = "MORE_INFO_REQUESTED"  # optional: waiting for the sender
    CITIZEN_ACCEPTED = "CITIZEN_ACCEPTED"  # optional: sender agrees with the answer
    CITIZEN_DISPUTED = "CITIZEN_DISPUTED"  # optional: sender disagrees
    REOPENED = "REOPENED"  # optional: a disputed answer sent back for re-examination


class CaseEvent(enum.StrEnum):
    """What a document does to a case (see :func:`event_of`)."""

    PETITION = "petition"
    CLASSIFIED_INVALID = "classified_invalid"
    CLASSIFIED_FORWARD = "classified_forward"  # ADMIN_BEHAVIOUR or REGULATION_OUT_OF_SCOPE
    CLASSIFIED_IN_SCOPE = "classified_in_scope"
    INFO_REQUESTED = "info_requested"
    INFO_SUPPLIED = "info_supplied"
    FORWARDED = "forwarded"
    STATUS_INFO = "status_info"  # 01, 06, 13, 15, 16: informational, no change
    STATUS_REJECTED = "status_rejected"  # 02: the competent agency refuses the forwarding
    STATUS_PROGRESS = "status_progress"  # 03, 04, 05 (and progress updates)
    ANSWERED = "answered"
    ANSWER_RETURNED = "answer_returned"
    PUBLISHED = "published"
    FEEDBACK_AGREE = "feedback_agree"
    FEEDBACK_DISAGREE = "feedback_disagree"


S, E = CaseState, CaseEvent
TRANSITIONS: dict[tuple[CaseState, CaseEvent], CaseState] = {
    (S.RECEIVED, E.CLASSIFIED_INVALID): S.REJECTED_INVALID,
    (S.RECEIVED, E.CLASSIFIED_FORWARD): S.CLASSIFIED,
    (S.RECEIVED, E.CLASSIFIED_IN_SCOPE): S.IN_PROGRESS,
    (S.RECEIVED, E.INFO_REQUESTED): S.MORE_INFO_REQUESTED,
    (S.MORE_INFO_REQUESTED, E.INFO_SUPPLIED): S.RECEIVED,
    (S.MORE_INFO_REQUESTED, E.CLASSIFIED_INVALID): S.REJECTED_INVALID,  # sender never replied
    (S.CLASSIFIED, E.FORWARDED): S.FORWARDED,
    (S.FORWARDED, E.STATUS_PROGRESS): S.IN_PROGRESS,
    (S.FORWARDED, E.STATUS_REJECTED): S.CLASSIFIED,  # to be forwarded elsewhere
    (S.FORWARDED, E.ANSWERED): S.ANSWERED,
    (S.IN_PROGRESS, E.STATUS_PROGRESS): S.IN_PROGRESS,
    (S.IN_PROGRESS, E.ANSWERED): S.ANSWERED,
    (S.ANSWERED, E.ANSWER_RETURNED): S.RETURNED_FOR_REWORK,
    (S.ANSWERED, E.PUBLISHED): S.PUBLISHED,
    (S.RETURNED_FOR_REWORK, E.STATUS_PROGRESS): S.IN_PROGRESS,
    (S.RETURNED_FOR_REWORK, E.ANSWERED): S.ANSWERED,
    (S.PUBLISHED, E.FEEDBACK_AGREE): S.CITIZEN_ACCEPTED,
    (S.PUBLISHED, E.FEEDBACK_DISAGREE): S.CITIZEN_DISPUTED,
    (S.CITIZEN_DISPUTED, E.ANSWER_RETURNED): S.REOPENED,
    (S.REOPENED, E.STATUS_PROGRESS): S.IN_PROGRESS,
    (S.REOPENED, E.ANSWERED): S.ANSWERED,
    # An informational status notice never changes the state, in any state after intake.
    **{(state, E.STATUS_INFO): state for state in S},
}
"""(state, event) -> next state. The whole lifecycle; nothing else is legal."""

OPTIONAL_EVENTS = frozenset(
    {E.INFO_REQUESTED, E.INFO_SUPPLIED, E.FEEDBACK_AGREE, E.FEEDBACK_DISAGREE}
)
"""Events that lead into the optional states (refused when they are switched off)."""

_STATUS_EVENTS = {
    EdxmlStatus.REJECTED: E.STATUS_REJECTED,
    EdxmlStatus.ACCEPTED: E.STATUS_PROGRESS,
    EdxmlStatus.ASSIGNED: E.STATUS_PROGRESS,
    EdxmlStatus.PROCESSING: E.STATUS_PROGRESS,
}
_FORWARDED_CLASSES = (
    ClassificationCode.ADMIN_BEHAVIOUR,
    ClassificationCode.REGULATION_OUT_OF_SCOPE,
)


def event_of(doc: Document) -> CaseEvent:
    """The lifecycle event a document stands for."""
    if isinstance(doc, Classification):
        if doc.classification is ClassificationCode.INVALID:
            return E.CLASSIFIED_INVALID
        if doc.classification in _FORWARDED_CLASSES:
            return E.CLASSIFIED_FORWARD
        return E.CLASSIFIED_IN_SCOPE
    if isinstance(doc, StatusNotice):
        return _STATUS_EVENTS.get(doc.status, E.STATUS_INFO)
    if isinstance(doc, CitizenFeedback):
        agree = doc.verdict is FeedbackVerdict.AGREE
        return E.FEEDBACK_AGREE if agree else E.FEEDBACK_DISAGREE
    return {
        Petition: E.PETITION,
        InformationRequest: E.INFO_REQUESTED,
        InformationSupplement: E.INFO_SUPPLIED,
        Forwarding: E.FORWARDED,
        Answer: E.ANSWERED,
        AnswerReturn: E.ANSWER_RETURNED,
        Publication: E.PUBLISHED,
    }[type(doc)]


def document_time(doc: Document) -> dt.datetime:
    """When the document was made (``received_at`` for a petition, else ``issued_at``)."""
    return doc.received_at if isinstance(doc, Petition) else doc.issued_at


# Which kinds each DocumentRef field may point at (None: any earlier document).
_REF_KINDS: dict[str, tuple[type, ...] | None] = {
    "petition": (Petition,),
    "classification": (Classification,),
    "request": (InformationRequest,),
    "response_for": None,
    "forwarding": (Forwarding, Classification),
    "answer": (Answer,),
}


@dataclass(frozen=True, slots=True)
class Transition:
    """One step of a case's history."""

    document_id: str
    kind: str
    event: CaseEvent
    before: CaseState | None
    after: CaseState
    at: dt.datetime


@functools.cache
def _default_calendar() -> WorkingCalendar:
    return WorkingCalendar()  # Vietnam's public holidays; built once (the import is slow)


def _fail(doc: Document, message: str) -> LifecycleError:
    return LifecycleError(f"{doc.kind} {doc.document_id}: {message}", location=doc.document_id)


@dataclass(frozen=True, slots=True)
class Case:
    """A case: its documents in order, its state, its history and its deadlines."""

    case_id: str
    documents: tuple[Document, ...]
    state: CaseState
    history: tuple[Transition, ...]
    deadlines: tuple[CaseDeadline, ...]
    calendar: WorkingCalendar

    @classmethod
    def from_documents(
        cls,
        docs: Iterable[Document],
        *,
        rules: DeadlineRules = DEFAULT_RULES,
        calendar: WorkingCalendar | None = None,
        optional_states: bool = True,
    ) -> Case:
        """Replay ``docs`` (any order; sorted by their time) through :data:`TRANSITIONS`.

        Args:
            docs: every document of one case.
            rules: the deadline rules (counting, legal sources).
            calendar: working-day calendar; ``None`` means Vietnam's public holidays.
            optional_states: allow the optional states (information requests, feedback).

        Raises:
            LifecycleError: empty input, mixed cases, duplicate ids, a reference to a missing
                or different document, or a document that is illegal in the current state.
        """
        calendar = calendar if calendar is not None else _default_calendar()
        ordered = sorted(docs, key=document_time)  # stable: equal times keep input order
        if not ordered:
            raise LifecycleError("a case needs at least its petition")
        first = ordered[0]
        if not isinstance(first, Petition):
            raise _fail(first, "a case must start with its petition (earliest document)")
        replay = _Replay(first, rules, calendar, optional_states)
        for doc in ordered:
            replay.apply(doc)
        assert replay.state is not None  # the petition set it
        return cls(
            case_id=first.document_id,
            documents=tuple(ordered),
            state=replay.state,
            history=tuple(replay.history),
            deadlines=tuple(replay.deadlines),
            calendar=calendar,
        )

    def overdue(self, *, at: dt.datetime) -> tuple[CaseDeadline, ...]:
        """The deadlines unmet and past due at ``at`` (injected; the clock is never read)."""
        return tuple(d for d in self.deadlines if d.is_overdue(at, self.calendar))


class _Replay:
    """The mutable state of one replay; Case.from_documents freezes the result."""

    def __init__(
        self,
        petition: Petition,
        rules: DeadlineRules,
        calendar: WorkingCalendar,
        optional_states: bool,
    ):
        self.petition = petition
        self.rules = rules
        self.calendar = calendar
        self.optional = optional_states
        self.state: CaseState | None = None
        self.seen: dict[str, Document] = {}
        self.history: list[Transition] = []
        self.deadlines: list[CaseDeadline] = []
        self.latest_answer: str | None = None
        self.in_scope_classification: str | None = None

    def apply(self, doc: Document) -> None:
        if doc.case_id != self.petition.document_id:
            raise _fail(doc, f"belongs to case {doc.case_id!r}, not {self.petition.document_id!r}")
        if doc.document_id in self.seen:
            raise _fail(doc, "the same document id appears twice in the case")
        self._check_refs(doc)
        event = event_of(doc)
        if self.state is None:
            after: CaseState | None = S.RECEIVED if event is E.PETITION else None
        elif event in OPTIONAL_EVENTS and not self.optional:
            after = None
        else:
            after = TRANSITIONS.get((self.state, event))
        if after is None:
            before = self.state.value if self.state else "(none)"
            raise _fail(doc, f"illegal transition: event {event.value} in state {before}")
        self.history.append(
            Transition(doc.document_id, doc.kind, event, self.state, after, document_time(doc))
        )
        self.state = after
        self.seen[doc.document_id] = doc
        self._deadlines(doc)

    def _check_refs(self, doc: Document) -> None:
        for name, kinds in _REF_KINDS.items():
            ref = getattr(doc, name, None)
            if not isinstance(ref, DocumentRef):
                continue
            target = self.seen.get(ref.document_id)
            if target is None:
                raise _fail(doc, f"{name} refers to {ref.document_id!r}, not earlier in the case")
            if kinds is not None and not isinstance(target, kinds):
                raise _fail(doc, f"{name} refers to a {target.kind}, not a valid target")
            if document_digest(target) != ref.sha256:
                raise _fail(doc, f"{name} digest does not match document {ref.document_id!r}")
            if name == "answer" and ref.document_id != self.latest_answer:
                raise _fail(doc, "answer must refer to the latest answer of the case")
            in_scope = self.in_scope_classification
            if (
                name == "forwarding"
                and isinstance(target, Classification)
                and ref.document_id != in_scope
            ):
                raise _fail(doc, "only an in-scope classification can stand for a forwarding")

    def _open(self, purpose: DeadlinePurpose, deadline: Deadline, by: str) -> None:
        self.deadlines.append(
            CaseDeadline(purpose, deadline.rule, deadline.legal_source, deadline.due_on, by)
        )

    def _meet(self, purposes: tuple[DeadlinePurpose, ...], doc: Document) -> None:
        for i, d in enumerate(self.deadlines):
            if d.purpose in purposes and d.met_at is None:
                self.deadlines[i] = replace(d, met_by=doc.document_id, met_at=document_time(doc))

    def _deadlines(self, doc: Document) -> None:
        r, cal, P = self.rules, self.calendar, DeadlinePurpose
        if isinstance(doc, Classification):
            received = self.petition.received_at
            if doc.classification is ClassificationCode.REGULATION_OUT_OF_SCOPE:
                self._open(
                    P.FORWARD, r.forward_out_of_scope.deadline(received, cal), doc.document_id
                )
            elif doc.classification is ClassificationCode.REGULATION_IN_SCOPE:
                self.in_scope_classification = doc.document_id
                self._open(P.ANSWER, r.answer.deadline(received, cal), doc.document_id)
        elif isinstance(doc, Forwarding):
            # A re-forwarding (after status 02) supersedes the earlier agency's deadlines.
            self._meet((P.FORWARD, P.ANSWER, P.PROGRESS_UPDATE), doc)
            self._open(P.ANSWER, doc.answer_due, doc.document_id)
        elif isinstance(doc, Answer):
            self.latest_answer = doc.document_id
            self._meet((P.ANSWER, P.PROGRESS_UPDATE), doc)
        elif isinstance(doc, AnswerReturn):
            due = doc.answer_due or r.answer.deadline(doc.issued_at, cal)
            self._open(P.ANSWER, due, doc.document_id)
        elif isinstance(doc, StatusNotice) and doc.progress_update:
            self._meet((P.PROGRESS_UPDATE,), doc)
        self._schedule_progress(doc)

    def _schedule_progress(self, doc: Document) -> None:
        # Decision 574: while the answer is late, a progress update is due every 7 days,
        # counted from the answer's due date and then from each update.
        open_ = [d for d in self.deadlines if d.met_at is None]
        answer = next((d for d in open_ if d.purpose is DeadlinePurpose.ANSWER), None)
        if answer is None or any(d.purpose is DeadlinePurpose.PROGRESS_UPDATE for d in open_):
            return
        start = answer.due_on
        if isinstance(doc, StatusNotice) and doc.progress_update:
            start = max(start, self.calendar.local_date(doc.issued_at))
        when = dt.datetime.combine(start, dt.time(12), tzinfo=self.calendar.tz)
        deadline = self.rules.progress_update.deadline(when, self.calendar)
        self._open(DeadlinePurpose.PROGRESS_UPDATE, deadline, answer.started_by)
